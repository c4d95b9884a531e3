//! A wake-up channel in shared memory: a futex sequence word and a count of
//! sleepers, so that a notifier makes a system call only when someone sleeps.
//!
//! A sleeper registers ([`Notifier::prepare`]) and reads the sequence, then
//! checks its condition, then sleeps on the sequence it read. A notifier
//! changes the condition, then reads the count of sleepers and, if any,
//! bumps the sequence and wakes them. Both orders are sequentially
//! consistent, so either the sleeper sees the change, or the notifier sees
//! the sleeper and the bumped sequence stops the sleep.

use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::{Duration, Instant};

use crate::sys::futex;

#[repr(C)]
#[derive(Default)]
pub(crate) struct Notifier {
    seq: AtomicU32,
    sleepers: AtomicU32,
}

impl Notifier {
    /// Registers a sleeper; the sequence to pass to [`sleep`](Self::sleep).
    pub(crate) fn prepare(&self) -> u32 {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        self.seq.load(Ordering::SeqCst)
    }

    /// Sleeps while the sequence is still `seen`, at most until `deadline`
    /// and at most `slice`; spurious returns are possible.
    pub(crate) fn sleep(&self, seen: u32, deadline: Option<Instant>, slice: Duration) {
        let wait = match deadline {
            Some(deadline) => deadline
                .saturating_duration_since(Instant::now())
                .min(slice),
            None => slice,
        };
        if !wait.is_zero() {
            futex::wait(&self.seq, seen, Some(wait));
        }
    }

    /// Unregisters a sleeper made by [`prepare`](Self::prepare).
    pub(crate) fn done(&self) {
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes at most `n` sleepers, after the caller changed the condition.
    #[inline]
    pub(crate) fn notify(&self, n: u32) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.seq.fetch_add(1, Ordering::SeqCst);
            futex::wake(&self.seq, n);
        }
    }

    /// Whether anyone is registered as sleeping.
    pub(crate) fn has_sleepers(&self) -> bool {
        self.sleepers.load(Ordering::SeqCst) != 0
    }
}
