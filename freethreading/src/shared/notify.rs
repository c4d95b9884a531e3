//! A wake-up channel in shared memory: a futex sequence word and a count of
//! sleepers, so that a notifier makes a system call only when someone sleeps.
//!
//! A sleeper registers ([`Notifier::prepare`]) and reads the sequence, then
//! checks its condition, then sleeps on the sequence it read. A notifier
//! changes the condition, then reads the count of sleepers and, if any,
//! bumps the sequence and wakes them. Both orders are sequentially
//! consistent, so either the sleeper sees the change, or the notifier sees
//! the sleeper and the bumped sequence stops the sleep. A sleeper spins a
//! little before it parks in the kernel, and the notifier makes the wake-up
//! system call only for sleepers that parked.

use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::Instant;

use crate::shared::spin::Spin;
use crate::shared::word_lock::RECHECK;
use crate::sys::futex;

#[repr(C)]
#[derive(Default)]
pub(crate) struct Notifier {
    seq: AtomicU32,
    sleepers: AtomicU32,
    /// Sleepers inside the futex call now, past their spin: only they need
    /// a wake-up system call.
    parked: AtomicU32,
    _pad: AtomicU32,
}

impl Notifier {
    /// Registers a sleeper; the sequence to pass to [`sleep`](Self::sleep).
    pub(crate) fn prepare(&self) -> u32 {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        self.seq.load(Ordering::SeqCst)
    }

    /// Sleeps while the sequence is still `seen`, at most until `deadline`
    /// and at most one [`RECHECK`] slice, after which a caller checks that
    /// its partners live; spurious returns are possible.
    pub(crate) fn sleep(&self, seen: u32, deadline: Option<Instant>) {
        // A short spin first (see `shared::spin`): a partner process on
        // another core often answers within a microsecond or two, sooner
        // than a futex round trip (a barrier's round, a queue's ping-pong).
        let mut spin = Spin::new();
        while spin.next() {
            if self.seq.load(Ordering::Acquire) != seen {
                return;
            }
        }
        self.park(seen, deadline);
    }

    /// As [`sleep`](Self::sleep), without the spin: for a caller that has
    /// just polled its condition itself, before registering.
    pub(crate) fn park(&self, seen: u32, deadline: Option<Instant>) {
        let wait = match deadline {
            Some(deadline) => deadline
                .saturating_duration_since(Instant::now())
                .min(RECHECK),
            None => RECHECK,
        };
        if !wait.is_zero() {
            // Counted before the futex call re-reads the sequence: a
            // notifier that missed this count bumped the sequence first, so
            // the kernel sees it changed and does not sleep.
            self.parked.fetch_add(1, Ordering::SeqCst);
            futex::wait(&self.seq, seen, Some(wait));
            self.parked.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Waits until `ready` holds or `deadline` passes; whether it held. The
    /// whole protocol: check, register, check again, sleep, repeat.
    pub(crate) fn wait_until(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        if ready() {
            return true;
        }
        loop {
            let seen = self.prepare();
            let outcome = if ready() {
                Some(true)
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                Some(false)
            } else {
                self.sleep(seen, deadline);
                None
            };
            self.done();
            if let Some(outcome) = outcome {
                return outcome;
            }
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
            if self.parked.load(Ordering::SeqCst) != 0 {
                futex::wake(&self.seq, n);
            }
        }
    }

    /// Whether anyone is registered as sleeping.
    pub(crate) fn has_sleepers(&self) -> bool {
        self.sleepers.load(Ordering::SeqCst) != 0
    }
}
