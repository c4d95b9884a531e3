//! The real objects behind primitives on the MPI backend, all on rank 0:
//! the thread flavors, a queue's items as encoded messages (so that rank 0
//! keeps them whatever their type). [`Object::apply`] runs one operation,
//! waiting as it says, in the calling thread: a thread of rank 0's program,
//! or the service acting for a worker rank's thread. [`Object::quick`] is
//! the service's first try, which never waits.

use std::sync::Arc;
use std::time::Duration;

use super::ops::{Answer, Kind, Misuse, Op, Patience};
use crate::queue::{TaskDoneError, thread as queue_thread};
use crate::sync::condition_lock::ConditionLockOps;
use crate::sync::thread::{self, ConditionLock};
use crate::sync::{ConditionError, ReleaseError};
use crate::task::registry;

/// A queue's item: a message of `codec/message.rs`, inline.
pub(crate) type Item = Vec<u8>;

/// One primitive, owned by rank 0.
pub(crate) enum Object {
    Lock(Arc<thread::Lock>),
    RLock(Arc<thread::RLock>),
    Semaphore(thread::Semaphore),
    Event(thread::Event),
    Condition(thread::Condition),
    Barrier(thread::Barrier),
    Queue(queue_thread::Queue<Item>),
    SimpleQueue(queue_thread::SimpleQueue<Item>),
}

impl Object {
    /// A new primitive of `kind`; `lock` finds a condition's lock by id.
    pub(crate) fn new(
        kind: &Kind,
        lock: impl Fn(u64) -> Option<Arc<Object>>,
    ) -> Result<Self, String> {
        Ok(match *kind {
            Kind::Lock => Object::Lock(Arc::new(thread::Lock::new())),
            Kind::RLock => Object::RLock(Arc::new(thread::RLock::new())),
            Kind::Semaphore { value, bounded } => Object::Semaphore(thread::Semaphore::new(
                usize::try_from(value).unwrap_or(usize::MAX),
                bounded,
            )),
            Kind::Event => Object::Event(thread::Event::new()),
            Kind::Condition { lock: id } => {
                let under = match lock(id).as_deref() {
                    Some(Object::Lock(lock)) => ConditionLock::Lock(Arc::clone(lock)),
                    Some(Object::RLock(lock)) => ConditionLock::RLock(Arc::clone(lock)),
                    _ => return Err(format!("object {id} is no Lock or RLock for a Condition")),
                };
                Object::Condition(thread::Condition::new(under))
            }
            Kind::Barrier { parties } => Object::Barrier(thread::Barrier::new(
                usize::try_from(parties).unwrap_or(usize::MAX),
            )),
            Kind::Queue { maxsize } => Object::Queue(queue_thread::Queue::new(
                usize::try_from(maxsize).unwrap_or(usize::MAX),
            )),
            Kind::SimpleQueue => Object::SimpleQueue(queue_thread::SimpleQueue::new()),
        })
    }

    /// The lock a lock operation means: the object, or a condition's lock.
    fn lock(&self) -> Option<&dyn ConditionLockOps> {
        match self {
            Object::Lock(lock) => Some(&**lock),
            Object::RLock(lock) => Some(&**lock),
            Object::Condition(condition) => Some(condition.lock().held()),
            _ => None,
        }
    }

    /// Runs `op` without waiting, or gives it back when it would wait.
    pub(crate) fn quick(&self, op: Op) -> Result<Answer, Op> {
        match (self, op) {
            (Object::Condition(_) | Object::Barrier(_), op @ (Op::Wait(_) | Op::Meet(_))) => {
                Err(op)
            }
            (_, op @ Op::AcquireRestore(_)) => Err(op),
            (Object::Semaphore(semaphore), Op::Acquire(patience)) => {
                taken(semaphore.try_acquire(), patience, Op::Acquire)
            }
            (object, Op::Acquire(patience)) => match object.lock() {
                Some(lock) => taken(lock.try_acquire(), patience, Op::Acquire),
                None => Ok(object.wrong("Acquire")),
            },
            (Object::Event(event), Op::Wait(patience)) => {
                if event.is_set() || patience == Patience::Never {
                    Ok(Answer::Bool(event.is_set()))
                } else {
                    Err(Op::Wait(patience))
                }
            }
            (Object::Queue(queue), Op::Put(item, patience)) => {
                match queue.put(item, crate::queue::wait::Wait::Never) {
                    Ok(()) => Ok(Answer::Done),
                    Err(_) if patience == Patience::Never => Ok(Answer::Refused),
                    Err(full) => Err(Op::Put(full.0, patience)),
                }
            }
            (Object::Queue(queue), Op::Get(patience)) => {
                item_or(queue.get(crate::queue::wait::Wait::Never).ok(), patience)
            }
            (Object::SimpleQueue(queue), Op::Get(patience)) => {
                item_or(queue.get(crate::queue::wait::Wait::Never).ok(), patience)
            }
            (Object::Queue(queue), Op::Join(patience)) => {
                if queue.unfinished_tasks() == 0 || patience == Patience::Never {
                    Ok(Answer::Bool(queue.unfinished_tasks() == 0))
                } else {
                    Err(Op::Join(patience))
                }
            }
            (object, op) => Ok(object.apply(op)),
        }
    }

    /// Runs `op`, waiting as long as it says, in the calling thread.
    pub(crate) fn apply(&self, op: Op) -> Answer {
        match (self, op) {
            (Object::Semaphore(semaphore), Op::Acquire(patience)) => {
                Answer::Bool(semaphore.acquire_until(patience.deadline()))
            }
            (Object::Semaphore(semaphore), Op::ReleaseN(n)) => {
                released(semaphore.release_n(usize::try_from(n).unwrap_or(usize::MAX)))
            }
            (Object::Semaphore(semaphore), Op::Value) => Answer::Count(count(semaphore.value())),
            (Object::Semaphore(semaphore), Op::Bound) => {
                Answer::Index(semaphore.bound().map(count))
            }
            (Object::Lock(lock), Op::Locked) => Answer::Bool(lock.locked()),
            (Object::RLock(lock), Op::Snapshot) => {
                let (owner, levels) = lock.snapshot();
                Answer::Snapshot(owner, count(levels))
            }
            (Object::Condition(condition), Op::Snapshot) => match condition.lock() {
                ConditionLock::Lock(lock) => Answer::Bool(lock.locked()),
                ConditionLock::RLock(lock) => {
                    let (owner, levels) = lock.snapshot();
                    Answer::Snapshot(owner, count(levels))
                }
            },
            (Object::Condition(condition), Op::Wait(patience)) => {
                match condition.wait_until(patience.deadline()) {
                    Ok(notified) => Answer::Bool(notified),
                    Err(error) => Answer::Misuse(condition_misuse(error)),
                }
            }
            (Object::Condition(condition), Op::Notify(n)) => {
                match condition.notify(usize::try_from(n).unwrap_or(usize::MAX)) {
                    Ok(()) => Answer::Done,
                    Err(error) => Answer::Misuse(condition_misuse(error)),
                }
            }
            (Object::Condition(condition), Op::NWaiting) => {
                Answer::Count(count(condition.n_waiting()))
            }
            (
                object,
                op @ (Op::Acquire(_)
                | Op::Release
                | Op::IsOwned
                | Op::ReleaseSave
                | Op::AcquireRestore(_)),
            ) => match object.lock() {
                Some(lock) => lock_op(lock, &op),
                None => object.wrong("a lock operation"),
            },
            (Object::Event(event), op) => match op {
                Op::Set => {
                    event.set();
                    Answer::Done
                }
                Op::Clear => {
                    event.clear();
                    Answer::Done
                }
                Op::IsSet => Answer::Bool(event.is_set()),
                Op::Wait(patience) => Answer::Bool(event.wait_until(patience.deadline())),
                _ => self.wrong("this operation"),
            },
            (Object::Barrier(barrier), op) => barrier_op(barrier, op),
            (Object::Queue(queue), op) => match op {
                Op::Put(item, patience) => match queue.put(item, patience.wait()) {
                    Ok(()) => Answer::Done,
                    Err(_) => Answer::Refused,
                },
                Op::Get(patience) => item_or(queue.get(patience.wait()).ok(), Patience::Never)
                    .unwrap_or(Answer::Refused),
                Op::TaskDone => match queue.task_done() {
                    Ok(()) => Answer::Done,
                    Err(TaskDoneError) => Answer::Misuse(Misuse::TaskDone),
                },
                Op::Join(patience) => Answer::Bool(queue.join(patience.wait())),
                Op::QSize => Answer::Count(count(queue.qsize())),
                Op::Unfinished => Answer::Count(count(queue.unfinished_tasks())),
                Op::MaxSize => Answer::Count(count(queue.maxsize())),
                _ => self.wrong("this operation"),
            },
            (Object::SimpleQueue(queue), op) => match op {
                Op::Put(item, _) => {
                    queue.put(item);
                    Answer::Done
                }
                Op::Get(patience) => item_or(queue.get(patience.wait()).ok(), Patience::Never)
                    .unwrap_or(Answer::Refused),
                Op::QSize => Answer::Count(count(queue.qsize())),
                _ => self.wrong("this operation"),
            },
            (object, _) => object.wrong("this operation"),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Object::Lock(_) => "Lock",
            Object::RLock(_) => "RLock",
            Object::Semaphore(_) => "Semaphore",
            Object::Event(_) => "Event",
            Object::Condition(_) => "Condition",
            Object::Barrier(_) => "Barrier",
            Object::Queue(_) => "Queue",
            Object::SimpleQueue(_) => "SimpleQueue",
        }
    }

    fn wrong(&self, what: &str) -> Answer {
        Answer::Failed(format!(
            "{what} does not apply to a {} (a handle of another type?)",
            self.name()
        ))
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A non-blocking try's answer: done, refused for a caller that would not
/// wait, else the operation to run again, waiting.
fn taken(took: bool, patience: Patience, again: fn(Patience) -> Op) -> Result<Answer, Op> {
    if took {
        Ok(Answer::Done)
    } else if patience == Patience::Never {
        Ok(Answer::Refused)
    } else {
        Err(again(patience))
    }
}

fn item_or(item: Option<Item>, patience: Patience) -> Result<Answer, Op> {
    match item {
        Some(item) => Ok(Answer::Item(item)),
        None if patience == Patience::Never => Ok(Answer::Refused),
        None => Err(Op::Get(patience)),
    }
}

fn lock_op(lock: &dyn ConditionLockOps, op: &Op) -> Answer {
    match *op {
        Op::Acquire(patience) => {
            if lock.acquire_until(patience.deadline()) {
                Answer::Done
            } else {
                Answer::Refused
            }
        }
        Op::Release => released(lock.release()),
        Op::IsOwned => Answer::Bool(lock.is_held()),
        Op::ReleaseSave => Answer::Count(lock.release_save()),
        Op::AcquireRestore(levels) => {
            lock.acquire_restore(levels);
            Answer::Done
        }
        _ => Answer::Failed("not a lock operation".to_owned()),
    }
}

fn released(result: Result<(), ReleaseError>) -> Answer {
    match result {
        Ok(()) => Answer::Done,
        Err(ReleaseError::Unlocked) => Answer::Misuse(Misuse::Unlocked),
        Err(ReleaseError::TooManyReleases) => Answer::Misuse(Misuse::OverReleased),
        Err(_) => Answer::Misuse(Misuse::NotOwner),
    }
}

fn condition_misuse(error: ConditionError) -> Misuse {
    match error {
        ConditionError::WaitUnacquired => Misuse::WaitUnacquired,
        ConditionError::NotifyUnacquired => Misuse::NotifyUnacquired,
    }
}

fn barrier_op(barrier: &thread::Barrier, op: Op) -> Answer {
    match op {
        Op::Meet(timeout) => {
            let timeout = match timeout {
                None => barrier.default_timeout(),
                Some(Patience::Forever) => None,
                Some(Patience::Never) => Some(Duration::ZERO),
                Some(Patience::Micros(micros)) => Some(Duration::from_micros(micros)),
            };
            Answer::Index(barrier.wait(timeout).ok().map(count))
        }
        Op::SetTimeout(timeout) => {
            barrier.set_timeout(timeout);
            Answer::Done
        }
        Op::SetAction(name) => match registry::lookup(&name) {
            Ok(entry) => {
                barrier.set_action(Arc::new(move || {
                    if let Err(why) = super::service::run_action_at_the_asker(entry.name())
                        .unwrap_or_else(|| call_action(entry.name()))
                    {
                        // The barrier breaks, as for an action that panics.
                        std::panic::resume_unwind(Box::new(why));
                    }
                }));
                Answer::Done
            }
            Err(error) => Answer::Failed(error.to_string()),
        },
        Op::Reset => {
            barrier.reset();
            Answer::Done
        }
        Op::Abort => {
            barrier.abort();
            Answer::Done
        }
        Op::Parties => Answer::Count(count(barrier.parties())),
        Op::NWaiting => Answer::Count(count(barrier.n_waiting())),
        Op::Broken => Answer::Bool(barrier.broken()),
        _ => Answer::Failed("not a Barrier operation".to_owned()),
    }
}

/// Runs the barrier action `name`, a registered task, here.
pub(crate) fn call_action(name: &str) -> Result<(), String> {
    let entry = registry::lookup(name).map_err(|e| e.to_string())?;
    crate::codec::encode_arguments(name, &(), crate::codec::message::Route::InlineOnly)
        .and_then(|args| {
            entry
                .task()
                .call_inline_into(&args.wire, false, &mut Vec::new())
        })
        .map_err(|error| error.to_string())
}
