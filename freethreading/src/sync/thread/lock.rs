//! A lock without an owner: a `bool` behind a mutex, and a condition variable
//! that a release signals once.
//!
//! Having no owner is Python's `Lock` semantics: any worker may release it,
//! which is why this is not a `parking_lot::Mutex<()>` whose guard must be
//! dropped where it was taken.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::sync::ReleaseError;

#[derive(Default)]
pub(crate) struct Lock {
    locked: Mutex<bool>,
    unlocked: Condvar,
}

impl Lock {
    pub(crate) fn new() -> Self {
        Lock::default()
    }

    /// Takes the lock, waiting until `deadline` (forever for `None`).
    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        let mut locked = self.locked.lock();
        while *locked {
            match deadline {
                None => self.unlocked.wait(&mut locked),
                // A release may land between the timeout and re-locking: the
                // loop condition, not the timeout flag, decides.
                Some(deadline) => {
                    if self.unlocked.wait_until(&mut locked, deadline).timed_out() && *locked {
                        return false;
                    }
                }
            }
        }
        *locked = true;
        true
    }

    pub(crate) fn try_acquire(&self) -> bool {
        let mut locked = self.locked.lock();
        !std::mem::replace(&mut *locked, true)
    }

    pub(crate) fn release(&self) -> Result<(), ReleaseError> {
        let mut locked = self.locked.lock();
        if !*locked {
            return Err(ReleaseError::Unlocked);
        }
        *locked = false;
        drop(locked);
        // A woken waiter that loses the race to a newcomer waits again, and
        // that newcomer's release wakes the next one: no wake-up is lost.
        self.unlocked.notify_one();
        Ok(())
    }

    pub(crate) fn locked(&self) -> bool {
        *self.locked.lock()
    }
}
