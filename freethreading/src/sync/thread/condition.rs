//! A condition variable over a user's `Lock` or `RLock`, with one wake-up
//! slot per waiter in a FIFO queue: Python's `threading.Condition` algorithm.
//!
//! A waiter enqueues its slot while it still holds the lock, then releases
//! the lock (every level of an `RLock`), parks on its slot, and takes the
//! lock back. `notify(n)` pops at most `n` slots and signals each, so exactly
//! that many waiters wake, oldest first. A waiter whose deadline passes
//! removes its own slot; if a notifier popped it first, it counts as woken.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::{Lock, RLock};
use crate::sync::ConditionError;
use crate::sync::condition_lock::ConditionLockOps;

/// The lock a condition is built over, shared with the user's handle to it.
pub(crate) enum ConditionLock {
    Lock(Arc<Lock>),
    RLock(Arc<RLock>),
}

impl ConditionLock {
    /// The lock, as a condition uses it: the one dispatch on its kind.
    pub(crate) fn held(&self) -> &dyn ConditionLockOps {
        match self {
            ConditionLock::Lock(lock) => &**lock,
            ConditionLock::RLock(lock) => &**lock,
        }
    }
}

#[derive(Default)]
struct Waiter {
    notified: Mutex<bool>,
    wake: Condvar,
}

impl Waiter {
    /// Parks until notified or `deadline`; `true` if notified.
    fn park_until(&self, deadline: Option<Instant>) -> bool {
        let mut notified = self.notified.lock();
        while !*notified {
            match deadline {
                None => self.wake.wait(&mut notified),
                Some(deadline) => {
                    if self.wake.wait_until(&mut notified, deadline).timed_out() {
                        return *notified;
                    }
                }
            }
        }
        true
    }

    fn notify(&self) {
        *self.notified.lock() = true;
        self.wake.notify_one();
    }
}

pub(crate) struct Condition {
    lock: ConditionLock,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Condition {
    pub(crate) fn new(lock: ConditionLock) -> Self {
        Condition {
            lock,
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn lock(&self) -> &ConditionLock {
        &self.lock
    }

    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Result<bool, ConditionError> {
        if !self.lock.held().is_held() {
            return Err(ConditionError::WaitUnacquired);
        }
        Ok(self.wait_held_until(deadline))
    }

    /// Waits for a notification or `deadline`, for a caller known to hold the
    /// lock; `true` if notified. The lock is held again on return either way.
    pub(crate) fn wait_held_until(&self, deadline: Option<Instant>) -> bool {
        let waiter = Arc::new(Waiter::default());
        // Enqueued before the lock is released, so a notifier who takes the
        // lock next is sure to see this waiter.
        self.waiters.lock().push_back(Arc::clone(&waiter));
        let saved = self.lock.held().release_save();
        let notified = waiter.park_until(deadline) || !self.withdraw(&waiter);
        self.lock.held().acquire_restore(saved);
        notified
    }

    pub(crate) fn notify(&self, n: usize) -> Result<(), ConditionError> {
        if !self.lock.held().is_held() {
            return Err(ConditionError::NotifyUnacquired);
        }
        self.notify_held(n);
        Ok(())
    }

    pub(crate) fn notify_all(&self) -> Result<(), ConditionError> {
        self.notify(usize::MAX)
    }

    /// Wakes at most `n` waiters, oldest first.
    pub(crate) fn notify_held(&self, n: usize) {
        let woken: Vec<Arc<Waiter>> = {
            let mut waiters = self.waiters.lock();
            let n = n.min(waiters.len());
            waiters.drain(..n).collect()
        };
        for waiter in woken {
            waiter.notify();
        }
    }

    /// How many workers are waiting and not yet notified.
    pub(crate) fn n_waiting(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Takes a timed-out waiter off the queue; `false` if a notifier already did.
    fn withdraw(&self, waiter: &Arc<Waiter>) -> bool {
        let mut waiters = self.waiters.lock();
        match waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            Some(index) => {
                waiters.remove(index);
                true
            }
            None => false,
        }
    }
}
