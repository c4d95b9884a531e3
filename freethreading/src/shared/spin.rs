//! How a waiter of the process flavor polls before it sleeps in the kernel.
//!
//! A partner process on another core usually answers within a microsecond
//! or two, far sooner than a futex round trip, so a waiter first spins. But
//! a waiter often is the process that has just woken another (`set`, then
//! `wait` for the answer), and the scheduler likes to queue the woken
//! process on the waker's own core: every microsecond the waker spins
//! there, the woken process waits. So the spin is short, and then the
//! waiter polls between `sched_yield` calls, which hand the core to a
//! process queued on it at once and cost little (about 0.4 µs) when none
//! is. Measured on a 2-core VM, where a hint takes 26 ns
//! (`bench_event_wake_latency_parked`, one-way wake of a process parked
//! in the kernel): a pure spin of 200 hints made it 2.8 times a bare
//! futex's; 32 hints matched the futex but let some ping-pongs between
//! processes outlast the spin; 64 hints, about 1.7 µs here, keep the
//! ping-pongs in the spin and the wake-up within 1.6 times the futex's.
//!
//! `crossbeam_utils::Backoff` has the same shape with a spin that doubles
//! up to 127 hints and only 4 yields; these limits are the ones measured.

/// Polls made after a spin-loop hint, before the yielding ones.
const SPINNING: u32 = 64;
/// Polls made after a `sched_yield`, before the waiter sleeps.
const YIELDING: u32 = 32;

/// The polls of one wait: call [`Spin::next`] before each.
pub(crate) struct Spin {
    polls: u32,
    hints: u32,
}

impl Spin {
    /// Polls one spin-loop hint apart, then one yield apart.
    pub(crate) const fn new() -> Spin {
        Spin::spaced(1)
    }

    /// Polls `hints` spin-loop hints apart, then one yield apart. A poll
    /// of a counter the other side is writing pulls its cache line away;
    /// spacing them lets that side work undisturbed in between.
    pub(crate) const fn spaced(hints: u32) -> Spin {
        Spin { polls: 0, hints }
    }

    /// Waits before the next poll; `false` when the waiter has polled
    /// enough and should sleep instead.
    pub(crate) fn next(&mut self) -> bool {
        if self.polls < SPINNING {
            for _ in 0..self.hints {
                std::hint::spin_loop();
            }
        } else if self.polls < SPINNING + YIELDING {
            std::thread::yield_now();
        } else {
            return false;
        }
        self.polls += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spin_ends_after_its_spinning_and_yielding_polls() {
        let mut spin = Spin::spaced(3);
        let mut polls = 0;
        while spin.next() {
            polls += 1;
        }
        assert_eq!(polls, SPINNING + YIELDING);
        assert!(!spin.next(), "and stays ended");
    }
}
