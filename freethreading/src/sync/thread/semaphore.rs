//! A counting semaphore, optionally bounded: the count behind a mutex, and a
//! condition variable signalled once per permit released.
//!
//! `BoundedSemaphore` is this type with `bound` set to the initial value,
//! checked on every release as Python's `threading.BoundedSemaphore` does.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::sync::ReleaseError;

pub(crate) struct Semaphore {
    value: Mutex<usize>,
    available: Condvar,
    bound: Option<usize>,
}

impl Semaphore {
    pub(crate) fn new(value: usize, bounded: bool) -> Self {
        Semaphore {
            value: Mutex::new(value),
            available: Condvar::new(),
            bound: bounded.then_some(value),
        }
    }

    /// Takes one permit, waiting until `deadline` (forever for `None`).
    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        let mut value = self.value.lock();
        while *value == 0 {
            match deadline {
                None => self.available.wait(&mut value),
                Some(deadline) => {
                    if self.available.wait_until(&mut value, deadline).timed_out() && *value == 0 {
                        return false;
                    }
                }
            }
        }
        *value -= 1;
        true
    }

    pub(crate) fn try_acquire(&self) -> bool {
        let mut value = self.value.lock();
        if *value == 0 {
            return false;
        }
        *value -= 1;
        true
    }

    /// Returns `n` permits, waking up to `n` waiters. Without a bound the
    /// count saturates at `usize::MAX`, as good as unlimited.
    pub(crate) fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        let mut value = self.value.lock();
        *value = match (self.bound, value.checked_add(n)) {
            (None, raised) => raised.unwrap_or(usize::MAX),
            (Some(bound), Some(raised)) if raised <= bound => raised,
            (Some(_), _) => return Err(ReleaseError::TooManyReleases),
        };
        drop(value);
        // One wake-up per permit; stop early once nobody is left waiting.
        for _ in 0..n {
            if !self.available.notify_one() {
                break;
            }
        }
        Ok(())
    }

    pub(crate) fn value(&self) -> usize {
        *self.value.lock()
    }

    pub(crate) fn bound(&self) -> Option<usize> {
        self.bound
    }
}
