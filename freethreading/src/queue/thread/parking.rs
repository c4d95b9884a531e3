//! Where threads sleep until a lock-free condition becomes true.
//!
//! The counters of a queue (unfinished tasks, places taken) are atomics, so
//! the common path takes no lock. A thread that must wait for one of them
//! registers as a sleeper under a mutex and rechecks; a thread that changes a
//! counter takes the mutex to notify only when a sleeper is registered. Both
//! sides use `SeqCst` (the waiter: register, then read the counter; the waker:
//! write the counter, then read the sleepers), so at least one of them sees
//! the other's write and no wake-up is lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// Sleeping threads waiting for a condition on some atomic state.
#[derive(Default)]
pub(super) struct Parking {
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Parking {
    /// Blocks until `ready()` returns `true`, or until `deadline` passes;
    /// returns the last answer of `ready()`.
    ///
    /// `ready` may act (take a place, say) when it answers `true`; it is
    /// always called once more after the deadline, so a wake-up that arrives
    /// together with the deadline is used rather than lost.
    pub(super) fn wait_until(
        &self,
        mut ready: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        if ready() {
            return true;
        }
        let mut guard = self.lock.lock();
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let done = loop {
            if ready() {
                break true;
            }
            match deadline {
                None => self.changed.wait(&mut guard),
                Some(deadline) => {
                    if self.changed.wait_until(&mut guard, deadline).timed_out() {
                        break ready();
                    }
                }
            }
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        done
    }

    /// Wakes one sleeper, after a change that lets one of them go on.
    pub(super) fn wake_one(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.changed.notify_one();
        }
    }

    /// Wakes every sleeper, after a change that lets all of them go on.
    pub(super) fn wake_all(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.changed.notify_all();
        }
    }
}
