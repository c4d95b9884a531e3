//! The thread flavor of every primitive: state behind a `parking_lot` mutex,
//! waiters parked on a `parking_lot` condition variable with real deadlines.
//!
//! Each file exports one type with the method names its public wrapper calls.
//! The public types hold these behind an `Arc`, which is what a clone shares
//! and what `crate::handles` serializes. Nothing here leaks a `parking_lot`
//! type: the process flavor will keep the same state in shared memory and
//! park on futexes instead.

mod barrier;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;

#[cfg(feature = "mpi")]
pub(crate) use barrier::Action;
pub(crate) use barrier::Barrier;
pub(crate) use condition::{Condition, ConditionLock};
pub(crate) use event::Event;
pub(crate) use lock::Lock;
pub(crate) use rlock::RLock;
pub(crate) use semaphore::Semaphore;

use std::time::{Duration, Instant};

/// The instant `timeout` from now; `None` (wait forever) when that instant
/// is too far to represent, so a huge timeout never panics.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
