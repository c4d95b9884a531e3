//! Primitives across ranks: on the MPI backend every `Lock`, `RLock`,
//! semaphore, `Event`, `Condition`, `Barrier`, `Queue` and `SimpleQueue`
//! is one object on rank 0 (the thread flavor, [`Object`]), served to the
//! worker ranks.
//!
//! - A primitive made on rank 0 holds its object: its operations run in the
//!   caller's thread, as on threads, with no MPI at all.
//! - Sent to a worker rank (a task's argument, a queue's item), it travels
//!   as an id; the first time, rank 0 enters the object in its table, where
//!   it stays for the program's life (copies on ranks cannot be counted, as
//!   on processes once a primitive was serialized).
//! - On a worker rank, each operation is a request to rank 0's service
//!   (`service.rs`), answered over MPI (`client.rs`); one made there is made
//!   on rank 0 by a request, so it may travel anywhere too, and if it is
//!   dropped there never having been sent, rank 0 forgets it (`Op::Forget`).
//! - The service never waits: an operation that would (a held lock, an
//!   empty queue, a condition's or a barrier's wait) runs on a thread of its
//!   own, acting for the worker rank's thread (so an `RLock` taken there
//!   belongs to that thread of that rank), and answers when it is done or
//!   its deadline passed; deadlines travel as spans, since hosts share no
//!   clock.

mod client;
mod lock_ops;
mod object;
pub(crate) mod ops;
mod queue_ops;
mod service;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(crate) use object::Object;
use ops::{Answer, Kind, Misuse, Op};

pub(crate) use service::start as start_service;

/// Whether new primitives are served by rank 0: on the MPI backend (and
/// not inside another backend's [`install`](crate::Backend::install)). A
/// program not started on MPI that installs `Backend::Mpi` gets the thread
/// flavor, as it has no ranks to serve.
pub(crate) fn served_flavor() -> bool {
    crate::entry::take_over_if_worker();
    crate::backend::primitives_backend() == Ok(crate::Backend::Mpi)
        && crate::backend::try_get_backend() == Ok(crate::Backend::Mpi)
}

/// Rank 0's objects that have been sent to worker ranks, by id.
static TABLE: Mutex<Option<HashMap<u64, Arc<Object>>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn enter(object: &Arc<Object>) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    TABLE
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(id, Arc::clone(object));
    id
}

/// Takes object `id` out of rank 0's table.
fn forget(id: u64) {
    let forgotten = TABLE.lock().as_mut().and_then(|table| table.remove(&id));
    // Dropped outside the table's lock: a queue may hold much.
    drop(forgotten);
}

/// Rank 0's object with `id`.
pub(crate) fn resolve(id: u64) -> Option<Arc<Object>> {
    TABLE.lock().as_ref()?.get(&id).cloned()
}

/// A primitive of the MPI backend as one rank holds it.
pub(crate) struct Remote {
    /// Its id in rank 0's table, once it has one: at once on a worker rank,
    /// on rank 0 once it was first sent.
    id: OnceLock<u64>,
    /// On rank 0, the object itself.
    object: Option<Arc<Object>>,
    /// What kind of primitive it is ([`Kind::code`]), checked when a handle
    /// is decoded as a primitive type.
    code: u8,
    /// Made on this worker rank and never sent anywhere: rank 0 may forget
    /// it when it is dropped here, as a process-flavor primitive never
    /// serialized is freed with its last handle. (Once sent, copies cannot
    /// be counted: it lives for the program's life.)
    private: AtomicBool,
}

impl Drop for Remote {
    fn drop(&mut self) {
        if self.private.load(Ordering::Acquire) {
            if let Some(&id) = self.id.get() {
                // MPI gone (the program ending) is no matter: so is rank 0.
                let _ = client::tell(id, Op::Forget);
            }
        }
    }
}

fn on_rank_0() -> io::Result<bool> {
    Ok(super::world()?.rank == 0)
}

impl Remote {
    /// A new primitive of `kind`, made on rank 0 (by a request from a worker
    /// rank).
    pub(crate) fn new(what: &'static str, kind: Kind) -> Result<Self, crate::SharedMemoryError> {
        Self::make(kind, |_| None).map_err(|e| crate::SharedMemoryError::new(what, e))
    }

    /// A new `Condition` over `lock`, a served `Lock` or `RLock`.
    pub(crate) fn condition(lock: &Remote) -> Result<Self, crate::SharedMemoryError> {
        // On rank 0 the lock is at hand (and stays out of the table until
        // it is sent); a worker rank names it.
        let kind = Kind::Condition {
            lock: match &lock.object {
                Some(_) => 0,
                None => lock.id().unwrap_or(0),
            },
        };
        Self::make(kind, |_| lock.object.clone())
            .map_err(|e| crate::SharedMemoryError::new("Condition", e))
    }

    fn make(kind: Kind, lock: impl Fn(u64) -> Option<Arc<Object>>) -> io::Result<Self> {
        let code = kind.code();
        if on_rank_0()? {
            let object = Object::new(&kind, lock).map_err(io::Error::other)?;
            return Ok(Remote {
                id: OnceLock::new(),
                object: Some(Arc::new(object)),
                code,
                private: AtomicBool::new(false),
            });
        }
        match client::call(0, Op::Create(kind))? {
            Answer::Count(id) => Ok(Remote {
                id: OnceLock::from(id),
                object: None,
                code,
                private: AtomicBool::new(true),
            }),
            other => Err(io::Error::other(format!(
                "rank 0 did not make the primitive: {other:?}"
            ))),
        }
    }

    /// Its id, entering it in rank 0's table if it is not yet.
    fn id(&self) -> io::Result<u64> {
        match &self.object {
            Some(object) => Ok(*self.id.get_or_init(|| enter(object))),
            None => self
                .id
                .get()
                .copied()
                .ok_or_else(|| io::Error::other("a served primitive without an id")),
        }
    }

    /// Runs `op`: here on rank 0, else through rank 0's service.
    ///
    /// # Panics
    ///
    /// On a worker rank, if rank 0 cannot be asked (MPI is gone: the job is
    /// ending) or refuses the request (a handle decoded as the wrong type);
    /// in a task, that panic is the task's error.
    pub(crate) fn call(&self, op: Op) -> Answer {
        let answer = match &self.object {
            Some(object) => object.apply(op),
            None => self
                .id()
                .and_then(|id| client::call(id, op))
                .unwrap_or_else(|e| panic!("{}", lost(&e))),
        };
        if let Answer::Failed(why) = &answer {
            panic!("rank 0's primitive service refused a request: {why}");
        }
        answer
    }

    /// As [`call`](Self::call), for an answer `true` or `false`.
    pub(crate) fn ask(&self, op: Op) -> bool {
        matches!(self.call(op), Answer::Bool(true) | Answer::Done)
    }

    /// As [`call`](Self::call), for a count.
    pub(crate) fn count(&self, op: Op) -> usize {
        match self.call(op) {
            Answer::Count(n) => usize::try_from(n).unwrap_or(usize::MAX),
            _ => 0,
        }
    }

    /// As [`call`](Self::call), for an operation that may report a misuse.
    pub(crate) fn checked(&self, op: Op) -> Result<Answer, Misuse> {
        match self.call(op) {
            Answer::Misuse(misuse) => Err(misuse),
            answer => Ok(answer),
        }
    }
}

fn lost(error: &io::Error) -> String {
    let rank = super::world().map_or(-1, |world| world.rank);
    format!("MPI worker rank {rank} cannot reach rank 0's primitive service: {error}")
}

/// Serde for a served primitive, as its id and kind; each primitive type
/// has its module (`#[serde(with = "crate::mpi::served::handle::lock")]`),
/// which refuses a handle of another kind, as the process flavor does.
pub(crate) mod handle {
    use super::*;

    fn serialize<S: Serializer>(remote: &Arc<Remote>, serializer: S) -> Result<S::Ok, S::Error> {
        let id = remote.id().map_err(serde::ser::Error::custom)?;
        // Copies may now be anywhere.
        remote.private.store(false, Ordering::Release);
        (id, remote.code).serialize(serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        expected: u8,
    ) -> Result<Arc<Remote>, D::Error> {
        let (id, code) = <(u64, u8)>::deserialize(deserializer)?;
        if code != expected {
            return Err(D::Error::custom(format_args!(
                "expected a handle to {}, found one to {}",
                Kind::name_of(expected),
                Kind::name_of(code)
            )));
        }
        if crate::backend::try_get_backend() != Ok(crate::Backend::Mpi) {
            return Err(D::Error::custom(format_args!(
                "a primitive served by MPI rank 0 cannot be used in process {}, which is no \
                 rank of its MPI job (a worker process of another backend?)",
                std::process::id()
            )));
        }
        if !on_rank_0().map_err(D::Error::custom)? {
            return Ok(Arc::new(Remote {
                id: OnceLock::from(id),
                object: None,
                code,
                private: AtomicBool::new(false),
            }));
        }
        let object = resolve(id).ok_or_else(|| {
            D::Error::custom(format_args!("rank 0 has no primitive with id {id}"))
        })?;
        Ok(Arc::new(Remote {
            id: OnceLock::from(id),
            object: Some(object),
            code,
            private: AtomicBool::new(false),
        }))
    }

    macro_rules! kinds {
        ($($module:ident = $code:expr;)*) => {$(
            pub(crate) mod $module {
                use super::{Arc, Deserializer, Kind, Remote, Serializer};

                pub(crate) fn serialize<S: Serializer>(
                    remote: &Arc<Remote>,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    super::serialize(remote, serializer)
                }

                pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Arc<Remote>, D::Error> {
                    super::deserialize(deserializer, $code)
                }
            }
        )*};
    }

    kinds! {
        lock = Kind::LOCK;
        rlock = Kind::RLOCK;
        semaphore = Kind::SEMAPHORE;
        event = Kind::EVENT;
        condition = Kind::CONDITION;
        barrier = Kind::BARRIER;
        queue = Kind::QUEUE;
        simple_queue = Kind::SIMPLE_QUEUE;
    }
}

impl Remote {
    /// An `RLock`'s owner and count, for `Debug`.
    pub(crate) fn snapshot(&self) -> (Option<u64>, usize) {
        match self.call(Op::Snapshot) {
            Answer::Snapshot(owner, levels) => {
                (owner, usize::try_from(levels).unwrap_or(usize::MAX))
            }
            _ => (None, 0),
        }
    }
}

impl Remote {
    /// A bounded semaphore's bound (`None`: unbounded).
    pub(crate) fn bound(&self) -> Option<usize> {
        match self.call(Op::Bound) {
            Answer::Index(bound) => bound.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            _ => None,
        }
    }
}

impl Remote {
    /// A barrier's action: on rank 0 the task itself, from a worker rank
    /// its name, which rank 0 finds in its registry.
    pub(crate) fn set_action(&self, name: &'static str, action: crate::sync::thread::Action) {
        match self.object.as_deref() {
            // Run by the last party: a thread of rank 0, or on its rank.
            Some(Object::Barrier(barrier)) => barrier.set_action(Arc::new(move || {
                match service::run_action_at_the_asker(name) {
                    None => action(),
                    Some(Ok(())) => {}
                    Some(Err(why)) => std::panic::resume_unwind(Box::new(why)),
                }
            })),
            _ => {
                self.call(Op::SetAction(name.to_owned()));
            }
        }
    }

    /// A barrier's wait, with `timeout` or the barrier's own.
    pub(crate) fn meet(
        &self,
        timeout: Option<std::time::Duration>,
    ) -> Result<usize, crate::BrokenBarrier> {
        let timeout = timeout.map(|timeout| {
            ops::Patience::Micros(u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX))
        });
        match self.call(Op::Meet(timeout)) {
            Answer::Index(Some(index)) => Ok(usize::try_from(index).unwrap_or(usize::MAX)),
            _ => Err(crate::BrokenBarrier),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::de::value::{Error, SeqDeserializer};

    use super::*;

    #[test]
    fn a_handle_decoded_as_another_primitive_is_an_error() {
        // A Lock's handle, (id, kind), read where an Event is expected.
        let wire = [5, u64::from(Kind::LOCK)].into_iter();
        let error = handle::event::deserialize(SeqDeserializer::<_, Error>::new(wire))
            .err()
            .expect("refused");
        assert_eq!(
            error.to_string(),
            "expected a handle to Event, found one to Lock"
        );
        let wire = [5, u64::from(Kind::EVENT)].into_iter();
        let error = handle::event::deserialize(SeqDeserializer::<_, Error>::new(wire))
            .err()
            .expect("outside MPI");
        assert!(
            error.to_string().contains("no rank of its MPI job"),
            "{error}"
        );
    }
}
