//! A reentrant lock in shared memory: a robust lock word naming the owning
//! process, and next to it the owning thread (`current::thread_ident`, one
//! per thread even where [`crate::get_ident`] is the process id) and the
//! recursion count, written only by the owner.
//!
//! "This worker owns it" is: the word names this process and the worker
//! field names this worker. The worker field is cleared before the word is
//! released, so a thread of the same process never mistakes a stale field
//! for its own.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Taken;
use crate::shared::arena::kind;
use crate::shared::word_lock::WordLock;
use crate::shared::{Object, Shared, members};
use crate::sync::ReleaseError;

#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    word: WordLock,
    _pad: AtomicU32,
    worker: AtomicU64,
    count: AtomicU64,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::RLOCK;
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct RLock {
    state: Shared<State>,
}

impl RLock {
    pub(crate) fn new() -> Result<Self, crate::SharedMemoryError> {
        Ok(RLock {
            state: Shared::try_new("RLock")?,
        })
    }

    fn owned_by(&self, me: u64) -> bool {
        self.state.word.owner() == members::me() && self.state.worker.load(Ordering::Relaxed) == me
    }

    fn take(&self, me: u64, count: u64, deadline: Option<Instant>) -> Option<Taken> {
        let taken = self.state.word.lock(deadline)?;
        self.state.worker.store(me, Ordering::Relaxed);
        self.state.count.store(count, Ordering::Relaxed);
        Some(taken)
    }

    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> Option<Taken> {
        let me = crate::current::thread_ident();
        if self.owned_by(me) {
            self.state.count.fetch_add(1, Ordering::Relaxed);
            return Some(Taken::Clean);
        }
        self.take(me, 1, deadline)
    }

    pub(crate) fn try_acquire(&self) -> bool {
        let me = crate::current::thread_ident();
        if self.owned_by(me) {
            self.state.count.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        if !self.state.word.try_lock() {
            return false;
        }
        self.state.worker.store(me, Ordering::Relaxed);
        self.state.count.store(1, Ordering::Relaxed);
        true
    }

    pub(crate) fn release(&self) -> Result<(), ReleaseError> {
        if !self.owned_by(crate::current::thread_ident()) {
            return Err(ReleaseError::NotOwner);
        }
        if self.state.count.fetch_sub(1, Ordering::Relaxed) <= 1 {
            self.state.count.store(0, Ordering::Relaxed);
            self.state.worker.store(0, Ordering::Relaxed);
            self.state.word.unlock();
        }
        Ok(())
    }

    /// Releases every level, for a condition wait; how many to restore.
    pub(crate) fn release_all(&self) -> Result<u64, ReleaseError> {
        if !self.owned_by(crate::current::thread_ident()) {
            return Err(ReleaseError::NotOwner);
        }
        let count = self.state.count.swap(0, Ordering::Relaxed);
        self.state.worker.store(0, Ordering::Relaxed);
        self.state.word.unlock();
        Ok(count)
    }

    /// Takes the lock back at `count` levels after [`RLock::release_all`].
    pub(crate) fn acquire_restore(&self, count: u64) {
        self.take(crate::current::thread_ident(), count.max(1), None);
    }

    pub(crate) fn is_owned(&self) -> bool {
        self.owned_by(crate::current::thread_ident())
    }

    /// The owning worker and the recursion count, for `Debug`.
    pub(crate) fn snapshot(&self) -> (Option<u64>, usize) {
        if !self.state.word.is_locked() {
            return (None, 0);
        }
        let count = self.state.count.load(Ordering::Relaxed);
        (
            Some(self.state.worker.load(Ordering::Relaxed)),
            usize::try_from(count).unwrap_or(usize::MAX),
        )
    }
}
