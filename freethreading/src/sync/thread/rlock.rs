//! A reentrant lock: the owning worker's identifier and a recursion count
//! behind a mutex, and a condition variable signalled when it becomes free.
//!
//! The owner is the calling thread's worker identity (`current::thread_ident`,
//! which [`crate::get_ident`] returns on threads). It stays per thread on the
//! process backend too, where `get_ident` is the process id that every
//! thread of the process shares.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::sync::ReleaseError;

#[derive(Default)]
struct State {
    owner: Option<u64>,
    count: usize,
}

#[derive(Default)]
pub(crate) struct RLock {
    state: Mutex<State>,
    free: Condvar,
}

impl RLock {
    pub(crate) fn new() -> Self {
        RLock::default()
    }

    /// Takes the lock once more, waiting until `deadline` unless the caller
    /// already owns it.
    pub(crate) fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        let me = crate::current::thread_ident();
        let mut state = self.state.lock();
        if state.owner == Some(me) {
            state.count += 1;
            return true;
        }
        self.take(&mut state, me, 1, deadline)
    }

    pub(crate) fn try_acquire(&self) -> bool {
        let me = crate::current::thread_ident();
        let mut state = self.state.lock();
        match state.owner {
            Some(owner) if owner == me => state.count += 1,
            Some(_) => return false,
            None => {
                state.owner = Some(me);
                state.count = 1;
            }
        }
        true
    }

    pub(crate) fn release(&self) -> Result<(), ReleaseError> {
        let me = crate::current::thread_ident();
        let mut state = self.state.lock();
        if state.owner != Some(me) {
            return Err(ReleaseError::NotOwner);
        }
        state.count -= 1;
        if state.count == 0 {
            state.owner = None;
            drop(state);
            self.free.notify_one();
        }
        Ok(())
    }

    /// Releases every level the caller holds, for a condition wait; returns
    /// how many to restore.
    pub(crate) fn release_all(&self) -> Result<usize, ReleaseError> {
        let me = crate::current::thread_ident();
        let mut state = self.state.lock();
        if state.owner != Some(me) {
            return Err(ReleaseError::NotOwner);
        }
        let count = std::mem::take(&mut state.count);
        state.owner = None;
        drop(state);
        self.free.notify_one();
        Ok(count)
    }

    /// Takes the lock back at `count` levels after [`RLock::release_all`].
    pub(crate) fn acquire_restore(&self, count: usize) {
        let me = crate::current::thread_ident();
        let mut state = self.state.lock();
        self.take(&mut state, me, count.max(1), None);
    }

    pub(crate) fn is_owned(&self) -> bool {
        let me = crate::current::thread_ident();
        self.state.lock().owner == Some(me)
    }

    /// The owner's identifier and the recursion count, for `Debug`.
    pub(crate) fn snapshot(&self) -> (Option<u64>, usize) {
        let state = self.state.lock();
        (state.owner, state.count)
    }

    fn take(
        &self,
        state: &mut parking_lot::MutexGuard<'_, State>,
        me: u64,
        count: usize,
        deadline: Option<Instant>,
    ) -> bool {
        while state.owner.is_some() {
            match deadline {
                None => self.free.wait(state),
                Some(deadline) => {
                    if self.free.wait_until(state, deadline).timed_out() && state.owner.is_some() {
                        return false;
                    }
                }
            }
        }
        state.owner = Some(me);
        state.count = count;
        true
    }
}
