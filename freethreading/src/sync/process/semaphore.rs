//! A counting semaphore in shared memory: the count in one atomic, taken by
//! compare-and-swap, and a [`Notifier`] for the ones that wait for a permit.
//! A release wakes anyone only when someone sleeps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::{Object, Shared};
use crate::sync::ReleaseError;

#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    value: AtomicU64,
    /// The bound plus one; 0 for none.
    bound: AtomicU64,
    available: Notifier,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::SEMAPHORE;
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Semaphore {
    state: Shared<State>,
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Semaphore {
    pub(crate) fn new(value: usize, bounded: bool) -> Result<Self, crate::SharedMemoryError> {
        let what = if bounded {
            "BoundedSemaphore"
        } else {
            "Semaphore"
        };
        let state: Shared<State> = Shared::try_new(what)?;
        state.value.store(to_u64(value), Ordering::Relaxed);
        if bounded {
            state
                .bound
                .store(to_u64(value).saturating_add(1), Ordering::Relaxed);
        }
        Ok(Semaphore { state })
    }

    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        self.state
            .value
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |v| v.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.state
            .available
            .wait_until(deadline, || self.try_acquire())
    }

    pub(crate) fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        let n = to_u64(n);
        let bound = self.state.bound.load(Ordering::Relaxed).checked_sub(1);
        self.state
            .value
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |v| match bound {
                None => Some(v.saturating_add(n)),
                Some(bound) => v.checked_add(n).filter(|&raised| raised <= bound),
            })
            .map_err(|_| ReleaseError::TooManyReleases)?;
        self.state
            .available
            .notify(u32::try_from(n).unwrap_or(u32::MAX));
        Ok(())
    }

    pub(crate) fn value(&self) -> usize {
        usize::try_from(self.state.value.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    pub(crate) fn bound(&self) -> Option<usize> {
        self.state
            .bound
            .load(Ordering::Relaxed)
            .checked_sub(1)
            .map(|b| usize::try_from(b).unwrap_or(usize::MAX))
    }
}
