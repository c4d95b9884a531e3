//! A cyclic barrier in shared memory: Python's `threading.Barrier` state
//! machine (the same phases as `sync/thread/barrier.rs`) behind an internal
//! robust lock, with a [`Notifier`] broadcast on every change of phase.
//!
//! The action is a `#[worker_fn]` task, kept as a hash of its registered
//! name: every process runs the same binary, so the last party to arrive,
//! whichever process it is in, finds it in its own registry.
//!
//! A party that dies while waiting would leave the others waiting for ever:
//! each waiting party records its pid in a small table, and a waiter that
//! has slept [`RECHECK`] without news checks that the others still live; a
//! dead one is counted out and the barrier breaks.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::word_lock::{RECHECK, WordLock};
use crate::shared::{Object, Shared};
use crate::sync::BrokenBarrier;
use crate::sys::pid;

const FILLING: u32 = 0;
const ACTING: u32 = 1;
const DRAINING: u32 = 2;
const RESETTING: u32 = 3;
const BROKEN: u32 = 4;

const TRACKED: usize = 58;

#[repr(C)]
pub(crate) struct State {
    lock: WordLock,
    phase: AtomicU32,
    parties: AtomicU64,
    count: AtomicU64,
    /// Nanoseconds plus one; 0 for no default timeout.
    timeout: AtomicU64,
    /// The hash of the action's task name; 0 for none.
    action: AtomicU64,
    changed: Notifier,
    waiting: [AtomicU32; TRACKED],
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::BARRIER;
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Barrier {
    state: Shared<State>,
}

/// FNV-1a: stable across processes and builds, unlike `DefaultHasher`.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    }) | 1
}

/// Runs the registered `() -> ()` task whose name hashes to `hash`; `false`
/// if there is none or it failed.
fn run_action(hash: u64) -> bool {
    let Some(entry) = crate::registered_tasks()
        .into_iter()
        .find(|entry| name_hash(entry.name()) == hash)
    else {
        return false;
    };
    crate::codec::encode(&())
        .ok()
        .is_some_and(|args| entry.task().call_serialized(&args).is_ok())
}

impl Barrier {
    /// A barrier for `parties`, which the caller checked is at least one.
    pub(crate) fn new(parties: usize) -> Self {
        let state: Shared<State> = Shared::new("Barrier");
        state.parties.store(
            u64::try_from(parties).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Barrier { state }
    }

    pub(crate) fn set_action(&self, name: &str) {
        self.state.action.store(name_hash(name), Ordering::Relaxed);
    }

    pub(crate) fn set_timeout(&self, timeout: Option<Duration>) {
        let raw = timeout.map_or(0, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(u64::MAX - 1) + 1
        });
        self.state.timeout.store(raw, Ordering::Relaxed);
    }

    pub(crate) fn default_timeout(&self) -> Option<Duration> {
        self.state
            .timeout
            .load(Ordering::Relaxed)
            .checked_sub(1)
            .map(Duration::from_nanos)
    }

    fn phase(&self) -> u32 {
        self.state.phase.load(Ordering::Relaxed)
    }

    fn set_phase(&self, phase: u32) {
        self.state.phase.store(phase, Ordering::Relaxed);
        self.state.changed.notify(u32::MAX);
    }

    /// Gives the internal lock up until the phase may have changed, or
    /// `deadline`, or a slice passed; takes it back.
    fn wait_changed(&self, deadline: Option<Instant>) {
        let seen = self.state.changed.prepare();
        self.state.lock.unlock();
        self.state.changed.sleep(seen, deadline, RECHECK);
        self.state.changed.done();
        self.state.lock.lock(None);
    }

    /// Counts out waiting parties whose process died; `true` if any did.
    fn count_out_the_dead(&self) -> bool {
        let me = pid::current();
        let mut died = false;
        for slot in &self.state.waiting {
            let party = slot.load(Ordering::Relaxed);
            if party != 0 && party != me && !pid::is_alive(party) {
                slot.store(0, Ordering::Relaxed);
                let _ = self
                    .state
                    .count
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1));
                died = true;
            }
        }
        died
    }

    /// Waits, checking for dead parties every [`RECHECK`]; `true` if one died
    /// and the barrier broke.
    fn wait_or_break(&self, deadline: Option<Instant>, since: &mut Instant) -> bool {
        self.wait_changed(deadline);
        if since.elapsed() >= RECHECK {
            *since = Instant::now();
            if self.count_out_the_dead() {
                self.set_phase(BROKEN);
                return true;
            }
        }
        false
    }

    fn enter(&self) -> Option<usize> {
        let me = pid::current();
        self.state.waiting.iter().position(|slot| {
            slot.compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// Waits for the round to fill; the arrival index on release. A timeout
    /// (`None` waits forever) breaks the barrier.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrier> {
        let deadline = timeout.and_then(crate::sync::thread::deadline);
        self.state.lock.lock(None);
        let mut since = Instant::now();
        while matches!(self.phase(), ACTING | DRAINING | RESETTING) {
            self.wait_or_break(None, &mut since);
        }
        if self.phase() == BROKEN {
            self.state.lock.unlock();
            return Err(BrokenBarrier);
        }
        let index = self.state.count.fetch_add(1, Ordering::Relaxed);
        let slot = self.enter();
        let outcome = if index + 1 >= self.state.parties.load(Ordering::Relaxed) {
            self.release()
        } else {
            self.await_release(deadline, &mut since)
        };
        if let Some(slot) = slot {
            self.state.waiting[slot].store(0, Ordering::Relaxed);
        }
        let left = self
            .state
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1))
            .map_or(0, |c| c - 1);
        if left == 0 && matches!(self.phase(), DRAINING | RESETTING) {
            self.set_phase(FILLING);
        }
        self.state.lock.unlock();
        outcome.map(|()| usize::try_from(index).unwrap_or(usize::MAX))
    }

    /// The last arrival: runs the action, then lets the round go.
    fn release(&self) -> Result<(), BrokenBarrier> {
        self.set_phase(ACTING);
        let action = self.state.action.load(Ordering::Relaxed);
        if action != 0 {
            self.state.lock.unlock();
            let ran = run_action(action);
            self.state.lock.lock(None);
            if !ran {
                self.set_phase(BROKEN);
                return Err(BrokenBarrier);
            }
        }
        // `abort` may have broken the barrier while the action ran.
        if self.phase() != ACTING {
            return Err(BrokenBarrier);
        }
        self.set_phase(DRAINING);
        Ok(())
    }

    fn await_release(
        &self,
        deadline: Option<Instant>,
        since: &mut Instant,
    ) -> Result<(), BrokenBarrier> {
        while matches!(self.phase(), FILLING | ACTING) {
            // Once everyone has arrived the round completes whatever the
            // clock says, as in Python where the action holds the lock.
            let filling = self.phase() == FILLING;
            if filling && deadline.is_some_and(|d| Instant::now() >= d) {
                self.set_phase(BROKEN);
                return Err(BrokenBarrier);
            }
            if self.wait_or_break(deadline.filter(|_| filling), since) {
                return Err(BrokenBarrier);
            }
        }
        if self.phase() == DRAINING {
            Ok(())
        } else {
            Err(BrokenBarrier)
        }
    }

    /// Back to a fresh round; parties waiting now leave with an error.
    pub(crate) fn reset(&self) {
        self.state.lock.lock(None);
        if self.state.count.load(Ordering::Relaxed) == 0 {
            self.set_phase(FILLING);
        } else if matches!(self.phase(), FILLING | BROKEN) {
            // The last waiter to leave opens the next round.
            self.set_phase(RESETTING);
        } else {
            self.state.changed.notify(u32::MAX);
        }
        self.state.lock.unlock();
    }

    pub(crate) fn abort(&self) {
        self.state.lock.lock(None);
        self.set_phase(BROKEN);
        self.state.lock.unlock();
    }

    pub(crate) fn parties(&self) -> usize {
        usize::try_from(self.state.parties.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    pub(crate) fn n_waiting(&self) -> usize {
        if self.phase() == FILLING {
            usize::try_from(self.state.count.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
        } else {
            0
        }
    }

    pub(crate) fn broken(&self) -> bool {
        self.phase() == BROKEN
    }
}
