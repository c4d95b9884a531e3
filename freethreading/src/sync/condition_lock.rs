//! The lock under a [`Condition`](crate::Condition), whichever its flavor
//! and kind: what a condition does with its `Lock` or `RLock` (take it, give
//! it up entirely while it waits, take it back), dispatched once over a small
//! trait that the four locks implement, crossbeam-style. Each flavor's
//! condition names its lock once ([`held`](super::thread::ConditionLock::held))
//! and keeps only its own waiting and waking.

use std::time::Instant;

use super::ReleaseError;
use super::{process, thread};

/// A lock as a condition uses it.
pub(crate) trait ConditionLockOps {
    /// Takes the lock, waiting until `deadline`; `false` if it passed.
    fn acquire_until(&self, deadline: Option<Instant>) -> bool;
    fn try_acquire(&self) -> bool;
    /// Releases one level.
    fn release(&self) -> Result<(), ReleaseError>;
    /// Whether the caller may wait or notify: as in Python, a `Lock` that is
    /// locked at all (it has no owner), an `RLock` held by this worker.
    fn is_held(&self) -> bool;
    /// Gives up the lock entirely; the `RLock` levels to restore.
    fn release_save(&self) -> u64;
    /// Takes the lock back at `levels` levels.
    fn acquire_restore(&self, levels: u64);
}

impl ConditionLockOps for thread::Lock {
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        thread::Lock::acquire_until(self, deadline)
    }
    fn try_acquire(&self) -> bool {
        thread::Lock::try_acquire(self)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        thread::Lock::release(self)
    }
    fn is_held(&self) -> bool {
        self.locked()
    }
    fn release_save(&self) -> u64 {
        // Only fails if another worker released the lock under a guard:
        // there is then nothing to give up.
        let _ = thread::Lock::release(self);
        1
    }
    fn acquire_restore(&self, _levels: u64) {
        thread::Lock::acquire_until(self, None);
    }
}

impl ConditionLockOps for thread::RLock {
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        thread::RLock::acquire_until(self, deadline)
    }
    fn try_acquire(&self) -> bool {
        thread::RLock::try_acquire(self)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        thread::RLock::release(self)
    }
    fn is_held(&self) -> bool {
        self.is_owned()
    }
    fn release_save(&self) -> u64 {
        self.release_all()
            .map_or(1, |levels| u64::try_from(levels).unwrap_or(u64::MAX))
    }
    fn acquire_restore(&self, levels: u64) {
        thread::RLock::acquire_restore(self, usize::try_from(levels).unwrap_or(usize::MAX));
    }
}

impl ConditionLockOps for process::Lock {
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        process::Lock::acquire_until(self, deadline).is_some()
    }
    fn try_acquire(&self) -> bool {
        process::Lock::try_acquire(self)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        process::Lock::release(self)
    }
    fn is_held(&self) -> bool {
        self.locked()
    }
    fn release_save(&self) -> u64 {
        // As for a thread `Lock`: nothing to give up if it failed.
        let _ = process::Lock::release(self);
        1
    }
    fn acquire_restore(&self, _levels: u64) {
        process::Lock::acquire_until(self, None);
    }
}

impl ConditionLockOps for process::RLock {
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        process::RLock::acquire_until(self, deadline).is_some()
    }
    fn try_acquire(&self) -> bool {
        process::RLock::try_acquire(self)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        process::RLock::release(self)
    }
    fn is_held(&self) -> bool {
        self.is_owned()
    }
    fn release_save(&self) -> u64 {
        self.release_all().unwrap_or(1)
    }
    fn acquire_restore(&self, levels: u64) {
        process::RLock::acquire_restore(self, levels);
    }
}
