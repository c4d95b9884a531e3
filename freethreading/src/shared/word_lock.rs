//! A lock word that survives its owner's death: the owner's process token
//! ([`members`]: like a pid, but never mistaken for a later process that
//! got the same pid) in the low bits of one `AtomicU32`, and a flag for
//! sleepers in the top bit.
//!
//! This is the layout of Linux robust futexes (`FUTEX_TID_MASK`,
//! `FUTEX_WAITERS`), kept by hand: an uncontended `lock` is one
//! compare-and-swap from 0 to this process's token and `unlock` one swap back, with no
//! system call; `unlock` wakes a sleeper only when the flag says one sleeps.
//! Because taking the lock writes the owner in the same atomic step, no
//! window exists where the lock is held by nobody known. A waiter sleeps in
//! slices of [`RECHECK`]; once one has passed since its last check, it
//! checks that the owner still lives, and takes over the lock of a dead one,
//! reporting it.
//!
//! The owner is a process, not a thread: a Python `Lock` has no owner, and an
//! `RLock` keeps its owning worker next to this word.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::members;
use crate::sys::futex;

/// How long a waiter sleeps before it checks the owner is still alive.
pub(crate) const RECHECK: Duration = Duration::from_millis(50);

const WAITERS: u32 = 1 << 31;
const OWNER: u32 = !WAITERS;

/// How a lock was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// From an owner that released it, or free.
    Clean,
    /// From an owner process that died holding it.
    OwnerDied,
}

/// The lock word; all-zero is unlocked.
#[repr(transparent)]
#[derive(Default)]
pub(crate) struct WordLock(AtomicU32);

impl WordLock {
    /// Takes the lock if it is free now, with no system call.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(0, members::me(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock, waiting until `deadline` (forever for `None`);
    /// `None` if the deadline passed first.
    #[inline]
    pub(crate) fn lock(&self, deadline: Option<Instant>) -> Option<Taken> {
        if self.try_lock() {
            Some(Taken::Clean)
        } else {
            self.lock_slow(deadline)
        }
    }

    #[cold]
    fn lock_slow(&self, deadline: Option<Instant>) -> Option<Taken> {
        let me = members::me();
        // A short spin first: most critical sections are a few stores long.
        for _ in 0..64 {
            std::hint::spin_loop();
            if self.0.load(Ordering::Relaxed) == 0 && self.try_lock() {
                return Some(Taken::Clean);
            }
        }
        let mut checked = Instant::now();
        loop {
            let word = self.0.load(Ordering::Relaxed);
            if word == 0 {
                // Taken with the flag set: others may still sleep.
                if self
                    .0
                    .compare_exchange(0, me | WAITERS, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Some(Taken::Clean);
                }
                continue;
            }
            if word & WAITERS == 0
                && self
                    .0
                    .compare_exchange(word, word | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            let slice = match deadline {
                None => RECHECK,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    left.min(RECHECK)
                }
            };
            futex::wait(&self.0, word | WAITERS, Some(slice));
            // Timed from the last check, not per sleep: wake-ups by signals
            // or by other waiters' turns must not put the check off forever.
            if checked.elapsed() >= RECHECK {
                checked = Instant::now();
                let owner = word & OWNER;
                if owner != me
                    && !members::is_alive(owner)
                    && self
                        .0
                        .compare_exchange(
                            word | WAITERS,
                            me | WAITERS,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                {
                    return Some(Taken::OwnerDied);
                }
            }
        }
    }

    /// Frees the lock, whoever holds it, and wakes one sleeper if any sleeps;
    /// `false` if it was not locked.
    #[inline]
    pub(crate) fn unlock(&self) -> bool {
        let word = self.0.swap(0, Ordering::Release);
        if word & WAITERS != 0 {
            futex::wake(&self.0, 1);
        }
        word != 0
    }

    pub(crate) fn is_locked(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// The token of the process holding the lock, 0 if free.
    pub(crate) fn owner(&self) -> u32 {
        self.0.load(Ordering::Relaxed) & OWNER
    }
}

#[cfg(all(test, process_backend))]
mod tests {
    use super::*;
    use crate::sys::pid;

    #[test]
    fn a_lock_whose_owner_pid_was_recycled_is_taken_over() {
        // The owner died and a live process got its pid: it runs, but it
        // started at another time than the owner did.
        let start = pid::start_time(pid::current()).unwrap();
        let dead_owner = members::register_for_test(pid::current(), start + 1);
        let lock = WordLock(AtomicU32::new(dead_owner));
        let started = Instant::now();
        assert_eq!(lock.lock(None), Some(Taken::OwnerDied));
        assert!(started.elapsed() < 10 * RECHECK, "{:?}", started.elapsed());
        assert_eq!(lock.owner(), members::me());
        assert!(lock.unlock());
        assert_eq!(lock.lock(None), Some(Taken::Clean));
    }

    #[test]
    fn a_lock_held_by_a_live_process_is_not_taken_over() {
        let lock = WordLock::default();
        assert!(lock.try_lock());
        let deadline = Instant::now() + 2 * RECHECK;
        assert_eq!(lock.lock(Some(deadline)), None, "waits out its deadline");
    }
}
