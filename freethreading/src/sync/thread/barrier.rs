//! A cyclic barrier: Python's `threading.Barrier` state machine behind a
//! mutex, with one condition variable broadcast on every change of phase.
//!
//! A round fills until `parties` have arrived; the last one runs the action
//! (with the mutex released, so the action may look at the barrier) and
//! switches to draining. Parties leave one by one and the last to leave opens
//! the next round. Newcomers wait while a round drains or resets, so a fast
//! party entering the next round can never be counted in the previous one.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::sync::BrokenBarrier;

/// The action run by the last party to arrive, a task on every backend.
pub(crate) type Action = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Parties are arriving.
    Filling,
    /// All have arrived; the last one runs the action.
    Acting,
    /// Released: parties are leaving with success.
    Draining,
    /// `reset` while parties waited: they leave with an error.
    Resetting,
    /// Aborted, timed out, or the action panicked, until `reset`.
    Broken,
}

struct State {
    phase: Phase,
    /// Parties inside `wait` in this round.
    count: usize,
    timeout: Option<Duration>,
    action: Option<Action>,
}

pub(crate) struct Barrier {
    parties: usize,
    state: Mutex<State>,
    changed: Condvar,
}

impl Barrier {
    /// A barrier for `parties`, which the caller checked is at least one.
    pub(crate) fn new(parties: usize) -> Self {
        Barrier {
            parties,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
                timeout: None,
                action: None,
            }),
            changed: Condvar::new(),
        }
    }

    pub(crate) fn set_action(&self, action: Action) {
        self.state.lock().action = Some(action);
    }

    pub(crate) fn set_timeout(&self, timeout: Option<Duration>) {
        self.state.lock().timeout = timeout;
    }

    pub(crate) fn default_timeout(&self) -> Option<Duration> {
        self.state.lock().timeout
    }

    /// Waits for the round to fill; the arrival index on release. A timeout
    /// (`None` waits forever) breaks the barrier.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrier> {
        let mut state = self.state.lock();
        while matches!(
            state.phase,
            Phase::Acting | Phase::Draining | Phase::Resetting
        ) {
            self.changed.wait(&mut state);
        }
        if state.phase == Phase::Broken {
            return Err(BrokenBarrier);
        }
        let index = state.count;
        state.count += 1;
        let outcome = if index + 1 == self.parties {
            self.release(&mut state)
        } else {
            self.await_release(&mut state, timeout)
        };
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.changed.notify_all();
        }
        outcome.map(|()| index)
    }

    /// The last arrival: runs the action, then lets the round go.
    fn release(&self, state: &mut MutexGuard<'_, State>) -> Result<(), BrokenBarrier> {
        state.phase = Phase::Acting;
        if let Some(action) = state.action.clone() {
            let ran = MutexGuard::unlocked(state, || crate::task::unwind::catch(|| action()));
            if ran.is_err() {
                self.break_barrier(state);
                return Err(BrokenBarrier);
            }
        }
        // `abort` may have broken the barrier while the action ran.
        if state.phase != Phase::Acting {
            return Err(BrokenBarrier);
        }
        state.phase = Phase::Draining;
        self.changed.notify_all();
        Ok(())
    }

    fn await_release(
        &self,
        state: &mut MutexGuard<'_, State>,
        timeout: Option<Duration>,
    ) -> Result<(), BrokenBarrier> {
        let deadline = timeout.and_then(super::deadline);
        while matches!(state.phase, Phase::Filling | Phase::Acting) {
            match deadline {
                // Once everyone has arrived the round completes whatever the
                // clock says, as in Python where the action holds the lock.
                Some(deadline) if state.phase == Phase::Filling => {
                    if self.changed.wait_until(state, deadline).timed_out()
                        && state.phase == Phase::Filling
                    {
                        self.break_barrier(state);
                        return Err(BrokenBarrier);
                    }
                }
                _ => self.changed.wait(state),
            }
        }
        if state.phase == Phase::Draining {
            Ok(())
        } else {
            Err(BrokenBarrier)
        }
    }

    fn break_barrier(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.changed.notify_all();
    }

    /// Back to a fresh round; parties waiting now leave with an error.
    pub(crate) fn reset(&self) {
        let mut state = self.state.lock();
        if state.count == 0 {
            state.phase = Phase::Filling;
        } else if matches!(state.phase, Phase::Filling | Phase::Broken) {
            // The last waiter to leave opens the next round.
            state.phase = Phase::Resetting;
        }
        self.changed.notify_all();
    }

    pub(crate) fn abort(&self) {
        let mut state = self.state.lock();
        self.break_barrier(&mut state);
    }

    pub(crate) fn parties(&self) -> usize {
        self.parties
    }

    pub(crate) fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        if state.phase == Phase::Filling {
            state.count
        } else {
            0
        }
    }

    pub(crate) fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}
