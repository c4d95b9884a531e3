//! A cyclic barrier in shared memory, counted by generations: one round
//! is one generation, and the last party to arrive ends it by moving to the
//! next, so that a round costs one hand-off between processes rather than
//! the two of Python's fill-then-drain state machine (`sync/thread/barrier.rs`),
//! with the same outcomes. State sits behind an internal robust lock, and a
//! [`Notifier`] is broadcast on every change.
//!
//! - A waiter of generation `g` is released when the generation moves past
//!   `g`, and fails if `g` ended by a `reset` (a bit per recent generation
//!   says which) or if the barrier broke while it waited.
//! - While the last party runs the action, newcomers wait: they belong to
//!   the next round.
//! - `abort`, a timeout, a failed action or a dead party break the barrier
//!   until `reset`, which also fails whoever still waits.
//!
//! The action is a `#[worker_fn]` task, kept as a hash of its registered
//! name: every process runs the same binary, so the last party to arrive,
//! whichever process it is in, finds it in its own registry.
//!
//! A party that dies while waiting would leave the others waiting for ever:
//! each waiting party records its process token ([`members`]) in a small
//! table, and a waiter that
//! has slept [`RECHECK`] without news checks that the others still live; a
//! dead one breaks the barrier. A party that dies between rounds is not
//! waiting, and a finished worker's exit must not break anything; but the
//! barrier also remembers the processes that ever took part (waited, or
//! received the barrier: a worker killed before it reached `wait` is a party
//! that will never come), and when the parent reports one of them dead
//! ([`crate::shared::process_died`], for a crash or a kill, never a clean
//! exit) the next check breaks the barrier.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::word_lock::{RECHECK, WordLock};
use crate::shared::{Object, Shared, members};
use crate::sync::BrokenBarrier;

/// Waiting parties whose process token is recorded.
const TRACKED: usize = 40;
/// Processes that ever took part, watched for deaths told by `process_died`.
const KNOWN: usize = 24;

#[repr(C)]
pub(crate) struct State {
    lock: WordLock,
    broken: AtomicU32,
    parties: AtomicU64,
    /// Parties that arrived in this generation.
    count: AtomicU64,
    generation: AtomicU64,
    /// Bit `g % 64` is set when generation `g` ended by a reset.
    failed: AtomicU64,
    /// The last party runs the action: newcomers wait for the next round.
    acting: AtomicU32,
    _pad: AtomicU32,
    /// Nanoseconds plus one; 0 for no default timeout.
    timeout: AtomicU64,
    /// The hash of the action's task name; 0 for none.
    action: AtomicU64,
    changed: Notifier,
    /// The arena's count of recorded deaths when last checked.
    deaths_seen: AtomicU64,
    waiting: [AtomicU32; TRACKED],
    known: [AtomicU32; KNOWN],
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::BARRIER;
}

#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct Barrier {
    state: Shared<State>,
}

/// A process that receives the barrier counts as one that took part: if it
/// is then reported dead, even before it ever waited, the barrier breaks at
/// the next check rather than leaving the others to their timeout.
impl<'de> Deserialize<'de> for Barrier {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let barrier = Barrier {
            state: Shared::deserialize(deserializer)?,
        };
        barrier.make_known();
        Ok(barrier)
    }
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
    crate::codec::message::encode(&(), crate::codec::message::Route::InlineOnly)
        .ok()
        .is_some_and(|args| entry.task().call_serialized(&args.wire).is_ok())
}

impl Barrier {
    /// A barrier for `parties`, which the caller checked is at least one.
    pub(crate) fn new(parties: usize) -> Result<Self, crate::SharedMemoryError> {
        let state: Shared<State> = Shared::try_new("Barrier")?;
        state
            .deaths_seen
            .store(state.arena().deaths(), Ordering::Relaxed);
        state.parties.store(
            u64::try_from(parties).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ok(Barrier { state })
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

    fn broadcast(&self) {
        self.state.changed.notify(u32::MAX);
    }

    /// Breaks the barrier for everyone, with the lock held.
    fn break_now(&self) {
        self.state.broken.store(1, Ordering::Relaxed);
        self.broadcast();
    }

    pub(crate) fn broken(&self) -> bool {
        self.state.broken.load(Ordering::Relaxed) != 0
    }

    /// Gives the internal lock up until something may have changed, or
    /// `deadline`, or a slice passed; takes it back.
    fn wait_changed(&self, deadline: Option<Instant>) {
        let seen = self.state.changed.prepare();
        self.state.lock.unlock();
        self.state.changed.sleep(seen, deadline);
        self.state.changed.done();
        self.state.lock.lock(None);
    }

    /// Whether a waiting party other than this process died.
    fn a_party_died(&self) -> bool {
        let me = members::me();
        self.state.waiting.iter().any(|slot| {
            let party = slot.load(Ordering::Relaxed);
            party != 0 && party != me && !members::is_alive(party)
        })
    }

    /// Whether the parent reported the death of a process that took part,
    /// since the last check.
    fn a_known_party_was_reported_dead(&self) -> bool {
        let s = &*self.state;
        let arena = self.state.arena();
        let seen = s.deaths_seen.load(Ordering::Relaxed);
        let now = arena.deaths();
        if now == seen {
            return false;
        }
        let me = members::me();
        let died = arena.died_since(seen, |dead| {
            dead != 0
                && dead != me
                && s.known
                    .iter()
                    .any(|known| known.load(Ordering::Relaxed) == dead)
        });
        s.deaths_seen.store(now, Ordering::Relaxed);
        died
    }

    /// Waits for news, checking for dead parties every [`RECHECK`]; `true`
    /// if one died and the barrier broke.
    fn wait_or_break(&self, deadline: Option<Instant>, since: &mut Instant) -> bool {
        self.wait_changed(deadline);
        if since.elapsed() >= RECHECK {
            *since = Instant::now();
            if self.a_party_died() || self.a_known_party_was_reported_dead() {
                self.break_now();
                return true;
            }
        }
        false
    }

    /// Adds this process to the parties that ever took part.
    fn make_known(&self) {
        let me = members::me();
        let known = &self.state.known;
        if known.iter().any(|slot| slot.load(Ordering::Relaxed) == me) {
            return;
        }
        for slot in known {
            if slot
                .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    fn enter(&self) -> Option<usize> {
        let me = members::me();
        self.state.waiting.iter().position(|slot| {
            slot.compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// Waits for the round to fill; the arrival index on release. A timeout
    /// (`None` waits forever) breaks the barrier.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrier> {
        let deadline = timeout.and_then(crate::sync::thread::deadline);
        let s = &*self.state;
        s.lock.lock(None);
        let mut since = Instant::now();
        while s.acting.load(Ordering::Relaxed) != 0 && !self.broken() {
            self.wait_or_break(None, &mut since);
        }
        if !self.broken() && self.a_known_party_was_reported_dead() {
            self.break_now();
        }
        if self.broken() {
            s.lock.unlock();
            return Err(BrokenBarrier);
        }
        self.make_known();
        let generation = s.generation.load(Ordering::Relaxed);
        let index = s.count.fetch_add(1, Ordering::Relaxed);
        let slot = self.enter();
        let outcome = if index + 1 >= s.parties.load(Ordering::Relaxed) {
            self.release(generation)
        } else {
            self.await_release(generation, deadline, &mut since)
        };
        if let Some(slot) = slot {
            s.waiting[slot].store(0, Ordering::Relaxed);
        }
        s.lock.unlock();
        outcome.map(|()| usize::try_from(index).unwrap_or(usize::MAX))
    }

    /// The last arrival: runs the action, then ends the generation.
    fn release(&self, generation: u64) -> Result<(), BrokenBarrier> {
        let s = &*self.state;
        let action = s.action.load(Ordering::Relaxed);
        if action != 0 {
            s.acting.store(1, Ordering::Relaxed);
            s.lock.unlock();
            let ran = run_action(action);
            s.lock.lock(None);
            s.acting.store(0, Ordering::Relaxed);
            if !ran {
                self.break_now();
                return Err(BrokenBarrier);
            }
            // `abort` or `reset` may have come while the action ran.
            if self.broken() || s.generation.load(Ordering::Relaxed) != generation {
                self.broadcast();
                return Err(BrokenBarrier);
            }
        }
        s.failed
            .fetch_and(!(1 << (generation % 64)), Ordering::Relaxed);
        s.count.store(0, Ordering::Relaxed);
        s.generation
            .store(generation.wrapping_add(1), Ordering::Relaxed);
        self.broadcast();
        Ok(())
    }

    fn await_release(
        &self,
        generation: u64,
        deadline: Option<Instant>,
        since: &mut Instant,
    ) -> Result<(), BrokenBarrier> {
        let s = &*self.state;
        loop {
            if s.generation.load(Ordering::Relaxed) != generation {
                let reset = s.failed.load(Ordering::Relaxed) & (1 << (generation % 64)) != 0;
                return if reset { Err(BrokenBarrier) } else { Ok(()) };
            }
            if self.broken() {
                return Err(BrokenBarrier);
            }
            // Once everyone has arrived the round completes whatever the
            // clock says, as in Python where the action holds the lock.
            let acting = s.acting.load(Ordering::Relaxed) != 0;
            if !acting && deadline.is_some_and(|d| Instant::now() >= d) {
                self.break_now();
                return Err(BrokenBarrier);
            }
            if self.wait_or_break(deadline.filter(|_| !acting), since) {
                return Err(BrokenBarrier);
            }
        }
    }

    /// Back to a fresh round; parties waiting now leave with an error.
    pub(crate) fn reset(&self) {
        let s = &*self.state;
        s.lock.lock(None);
        let generation = s.generation.load(Ordering::Relaxed);
        s.failed.fetch_or(1 << (generation % 64), Ordering::Relaxed);
        s.generation
            .store(generation.wrapping_add(1), Ordering::Relaxed);
        s.count.store(0, Ordering::Relaxed);
        s.broken.store(0, Ordering::Relaxed);
        self.broadcast();
        s.lock.unlock();
    }

    pub(crate) fn abort(&self) {
        self.state.lock.lock(None);
        self.break_now();
        self.state.lock.unlock();
    }

    pub(crate) fn parties(&self) -> usize {
        usize::try_from(self.state.parties.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    pub(crate) fn n_waiting(&self) -> usize {
        if self.broken() || self.state.acting.load(Ordering::Relaxed) != 0 {
            0
        } else {
            usize::try_from(self.state.count.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
        }
    }
}
