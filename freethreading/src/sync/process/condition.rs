//! A condition variable in shared memory over a process `Lock` or `RLock`,
//! with Python's algorithm: one wake-up slot per waiter in a FIFO list.
//!
//! The list is a chain of [`Waiter`] blocks in the arena, linked by offset
//! and guarded by an internal robust lock. A waiter appends its slot while it
//! still holds the user's lock, releases the lock, sleeps on its slot's futex
//! word, and takes the lock back. `notify(n)` pops at most `n` slots of
//! living waiters and wakes each: it never waits for a waiter, and it skips
//! (and frees) the slot of a process that died waiting, so the notification
//! reaches a living one. A waiter whose deadline passes takes its own slot
//! out; if a notifier popped it first, it counts as notified. The links
//! (offsets, 0 ending the list) decide who waits; the count is kept for
//! `n_waiting` only, so a process dying half-way through an append leaves a
//! list that is still walkable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{Lock, RLock};
use crate::shared::arena::kind;
use crate::shared::word_lock::WordLock;
use crate::shared::{Object, Shared, members};
use crate::sync::ConditionError;
use crate::sync::condition_lock::ConditionLockOps;
use crate::sys::futex;

/// The lock a condition is built over, shared with the user's handle to it.
#[derive(Serialize, Deserialize)]
pub(crate) enum ConditionLock {
    Lock(#[serde(with = "crate::shared::arc")] Arc<Lock>),
    RLock(#[serde(with = "crate::shared::arc")] Arc<RLock>),
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

/// A bound on any walk of the list, so a corrupted cycle cannot hang it.
const MAX_WAITERS: usize = 1 << 20;

#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    list: WordLock,
    _pad: AtomicU32,
    head: AtomicU64,
    tail: AtomicU64,
    len: AtomicU64,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::CONDITION;
}

#[repr(C)]
#[derive(Default)]
pub(crate) struct Waiter {
    /// 0 while waiting, 1 once notified.
    notified: AtomicU32,
    /// The waiting process's token ([`members`]).
    process: AtomicU32,
    next: AtomicU64,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for Waiter {
    const KIND: u32 = kind::WAITER;
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Condition {
    lock: ConditionLock,
    state: Shared<State>,
}

impl Condition {
    pub(crate) fn new(lock: ConditionLock) -> Result<Self, crate::SharedMemoryError> {
        Ok(Condition {
            lock,
            state: Shared::try_new("Condition")?,
        })
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
        let arena = self.state.arena();
        let slot = match Shared::<Waiter>::new_in(arena) {
            Ok(slot) => slot,
            Err(error) => crate::shared::no_memory("Condition waiter", error),
        };
        slot.process.store(members::me(), Ordering::Relaxed);
        let offset = slot.offset();
        self.state.list.lock(None);
        match arena.follow::<Waiter>(self.state.tail.load(Ordering::Relaxed)) {
            Some(last) => last.next.store(offset, Ordering::Relaxed),
            None => self.state.head.store(offset, Ordering::Relaxed),
        }
        self.state.tail.store(offset, Ordering::Relaxed);
        self.state.len.fetch_add(1, Ordering::Relaxed);
        self.state.list.unlock();

        let saved = self.lock.held().release_save();
        let mut notified = false;
        loop {
            if slot.notified.load(Ordering::Acquire) != 0 {
                notified = true;
                break;
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    Some(left)
                }
            };
            futex::wait(&slot.notified, 0, timeout);
        }
        if !notified {
            self.state.list.lock(None);
            notified = !self.withdraw(offset);
            self.state.list.unlock();
        }
        drop(slot);
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

    /// Wakes at most `n` living waiters, oldest first.
    pub(crate) fn notify_held(&self, n: usize) {
        if n == 0 || self.state.head.load(Ordering::Relaxed) == 0 {
            return;
        }
        let arena = self.state.arena();
        let me = members::me();
        self.state.list.lock(None);
        let mut woken = 0;
        while woken < n {
            let offset = self.state.head.load(Ordering::Relaxed);
            if offset == 0 {
                break;
            }
            let Some(waiter) = arena.follow::<Waiter>(offset) else {
                // A broken link: forget the list rather than follow garbage.
                self.forget_all();
                break;
            };
            let next = waiter.next.load(Ordering::Relaxed);
            self.state.head.store(next, Ordering::Relaxed);
            if next == 0 {
                self.state.tail.store(0, Ordering::Relaxed);
            }
            self.leave_count();
            let owner = waiter.process.load(Ordering::Relaxed);
            if owner != me && !members::is_alive(owner) {
                arena.free(offset);
                continue;
            }
            waiter.notified.store(1, Ordering::Release);
            futex::wake(&waiter.notified, 1);
            woken += 1;
        }
        self.state.list.unlock();
    }

    /// How many workers are waiting and not yet notified.
    pub(crate) fn n_waiting(&self) -> usize {
        usize::try_from(self.state.len.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// Takes a timed-out waiter's slot out of the list, with the list locked;
    /// `false` if a notifier already did.
    fn withdraw(&self, offset: u64) -> bool {
        let arena = self.state.arena();
        let mut previous: Option<(u64, &Waiter)> = None;
        let mut current = self.state.head.load(Ordering::Relaxed);
        // Links, not the count, decide: the count is only for `n_waiting`.
        for _ in 0..MAX_WAITERS {
            if current == 0 {
                return false;
            }
            let Some(waiter) = arena.follow::<Waiter>(current) else {
                self.forget_all();
                return false;
            };
            let next = waiter.next.load(Ordering::Relaxed);
            if current == offset {
                match previous {
                    Some((_, previous)) => previous.next.store(next, Ordering::Relaxed),
                    None => self.state.head.store(next, Ordering::Relaxed),
                }
                if next == 0 {
                    self.state
                        .tail
                        .store(previous.map_or(0, |(at, _)| at), Ordering::Relaxed);
                }
                self.leave_count();
                return true;
            }
            previous = Some((current, waiter));
            current = next;
        }
        false
    }

    fn leave_count(&self) {
        let _ = self
            .state
            .len
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Drops a list whose links are not well-formed (its memory was
    /// overwritten); its waiters time out or wait on.
    #[cold]
    fn forget_all(&self) {
        self.state.head.store(0, Ordering::Relaxed);
        self.state.tail.store(0, Ordering::Relaxed);
        self.state.len.store(0, Ordering::Relaxed);
    }
}
