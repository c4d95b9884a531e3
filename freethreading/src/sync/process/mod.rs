//! The process flavor of every primitive: state in the shared arena
//! ([`crate::shared`]), made of atomics only, waiting on futexes that any
//! process of the tree can wake.
//!
//! Each file exports one type with the method names its public wrapper
//! calls, as `sync/thread/` does; the wrappers hold these behind an `Arc`
//! and serialize them as validated handles. Uncontended paths are atomics
//! only; a process that dies holding a lock is detected by its waiters,
//! which take the lock over and say so ([`Taken::OwnerDied`]).

mod barrier;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;

pub(crate) use crate::shared::word_lock::Taken;
pub(crate) use barrier::Barrier;
pub(crate) use condition::{Condition, ConditionLock};
pub(crate) use event::Event;
pub(crate) use lock::Lock;
pub(crate) use rlock::RLock;
pub(crate) use semaphore::Semaphore;

#[cfg(all(test, process_backend))]
mod tests;
