//! Rank 0's primitive service: one thread that takes the worker ranks'
//! requests (tag `SERVE`, from any rank) and answers each (tag `SERVED`).
//!
//! It never waits for a primitive: each operation is tried at once
//! ([`Object::quick`]), and one that would wait (a lock held by another, an
//! empty queue, a condition's or barrier's wait, a deadline to honour) moves
//! to a thread of its own, which runs it waiting as asked and answers when
//! it is done. Every operation runs acting for the asking thread
//! (`current::acting_for`): rank `r`'s thread `t` is `r << 48 | t`, so that
//! an `RLock` it takes on rank 0 is that thread's, and no thread of rank 0
//! (whose identities are small counters) has its identity.
//!
//! The service stops when MPI is finalized (rank 0 exiting).

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, mpsc};

use parking_lot::Mutex;

use super::Object;
use super::ops::{Answer, Op, Reply, Request};
use crate::mpi::comm::{self, Backoff, Rank};
use crate::mpi::wire::{SERVE, SERVED};

/// Starts the service on rank 0, once it succeeds: without it a worker
/// rank asking for a primitive would wait for good, so a failure is the
/// caller's error (rank 0's first use of the backend), and the next use
/// tries again.
pub(crate) fn start() -> io::Result<()> {
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = STARTED.lock();
    if !*started {
        std::thread::Builder::new()
            .name("freethreading-mpi-service".to_owned())
            .spawn(serve)
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("rank 0 could not start its primitive service: {error}"),
                )
            })?;
        *started = true;
    }
    Ok(())
}

fn serve() {
    let mut backoff = Backoff::new();
    loop {
        match comm::try_receive_any(SERVE) {
            Ok(Some((rank, bytes))) => {
                handle(rank, &bytes);
                backoff = Backoff::new();
            }
            Ok(None) => backoff.pause(),
            // MPI finalized: the program is exiting.
            Err(_) => return,
        }
    }
}

/// The identity, on rank 0, of thread `thread` of worker rank `rank`.
fn owner(rank: Rank, thread: u64) -> u64 {
    (u64::try_from(rank).unwrap_or(0) << 48) | (thread & ((1 << 48) - 1))
}

fn handle(rank: Rank, bytes: &[u8]) {
    let Ok(request) = postcard::from_bytes::<Request>(bytes) else {
        // The asker waits for an answer that cannot be addressed: the job
        // cannot go on, and must not hang.
        eprintln!(
            "freethreading: rank 0 received an unreadable primitive request from rank {rank}; \
             aborting the MPI job"
        );
        comm::abort(70)
    };
    let Request {
        number,
        object,
        thread,
        op,
    } = request;
    let owner = owner(rank, thread);
    if let Op::Forget = op {
        // Its rank made it and dropped it, never sending it anywhere: nobody
        // else can name it. Freed once no wait of that rank still runs on it.
        super::forget(object);
        return;
    }
    if let Op::ActionDone(ran) = op {
        // For the wait whose thread asked for the action: no answer.
        let waiting = ACTIONS
            .lock()
            .as_mut()
            .and_then(|a| a.remove(&(rank, number)));
        if let Some(waiting) = waiting {
            let _ = waiting.send(ran);
        }
        return;
    }
    let answer = match op {
        Op::Create(kind) => match Object::new(&kind, super::resolve) {
            Ok(made) => Answer::Count(super::enter(&Arc::new(made))),
            Err(why) => Answer::Failed(why),
        },
        op => match super::resolve(object) {
            None => Answer::Failed(format!("rank 0 has no primitive with id {object}")),
            Some(object) => match crate::current::acting_for(owner, || object.quick(op)) {
                Ok(answer) => answer,
                Err(op) => return wait_aside(rank, number, owner, object, op),
            },
        },
    };
    answer_to(rank, number, answer);
}

/// Runs `op`, which waits, on a thread of its own.
fn wait_aside(rank: Rank, number: u64, owner: u64, object: Arc<Object>, op: Op) {
    let spawned = std::thread::Builder::new()
        .name("freethreading-mpi-wait".to_owned())
        .spawn(move || {
            ASKER.set(Some((rank, number)));
            let answer = crate::current::acting_for(owner, || object.apply(op));
            answer_to(rank, number, answer);
        });
    if let Err(error) = spawned {
        answer_to(
            rank,
            number,
            Answer::Failed(format!("rank 0 could not start a thread to wait: {error}")),
        );
    }
}

thread_local! {
    /// On a thread running a worker rank's waiting request: the rank and
    /// the request's number.
    static ASKER: std::cell::Cell<Option<(Rank, u64)>> = const { std::cell::Cell::new(None) };
}

/// Barrier actions running on the worker rank that arrived last, each
/// awaited by the thread running that rank's wait, by (rank, number).
static ACTIONS: Mutex<Option<HashMap<(Rank, u64), ActionDone>>> = Mutex::new(None);

/// Where the end of a barrier action run on a worker rank is told.
type ActionDone = mpsc::Sender<bool>;

/// On a thread running a worker rank's barrier wait, the last to arrive:
/// has the rank run the barrier's action `name` (as the last party's thread
/// runs it on the other backends) and waits for it; `None` elsewhere (rank
/// 0's own threads run it themselves).
pub(super) fn run_action_at_the_asker(name: &str) -> Option<Result<(), String>> {
    let (rank, number) = ASKER.get()?;
    let (done, ran) = mpsc::channel();
    ACTIONS
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert((rank, number), done);
    answer_to(rank, number, Answer::RunAction(name.to_owned()));
    Some(match ran.recv() {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("the barrier action failed on worker rank {rank}")),
        // Only if MPI is gone, the program ending.
        Err(_) => Err(format!("worker rank {rank} never ran the barrier action")),
    })
}

fn answer_to(rank: Rank, number: u64, answer: Answer) {
    let reply = Reply { number, answer };
    match postcard::to_stdvec(&reply) {
        // An error: MPI finalized, the program exiting.
        Ok(bytes) => {
            let _ = comm::send(rank, SERVED, &bytes);
        }
        Err(error) => {
            eprintln!("freethreading: an answer to rank {rank} failed to encode: {error}");
        }
    }
}
