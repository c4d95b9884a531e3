//! A lock without an owner in shared memory: one robust lock word
//! ([`WordLock`]): 0 when free, else the holder's pid and a sleepers flag.

use std::sync::atomic::AtomicU32;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Taken;
use crate::shared::arena::kind;
use crate::shared::word_lock::WordLock;
use crate::shared::{Object, Shared};
use crate::sync::ReleaseError;

#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    word: WordLock,
    _pad: AtomicU32,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::LOCK;
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Lock {
    state: Shared<State>,
}

impl Lock {
    pub(crate) fn new() -> Result<Self, crate::SharedMemoryError> {
        Ok(Lock {
            state: Shared::try_new("Lock")?,
        })
    }

    #[cfg(all(test, process_backend))]
    pub(crate) fn shared(&self) -> &Shared<State> {
        &self.state
    }

    /// Takes the lock, waiting until `deadline` (forever for `None`).
    #[inline]
    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> Option<Taken> {
        self.state.word.lock(deadline)
    }

    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        self.state.word.try_lock()
    }

    #[inline]
    pub(crate) fn release(&self) -> Result<(), ReleaseError> {
        if self.state.word.unlock() {
            Ok(())
        } else {
            Err(ReleaseError::Unlocked)
        }
    }

    pub(crate) fn locked(&self) -> bool {
        self.state.word.is_locked()
    }
}
