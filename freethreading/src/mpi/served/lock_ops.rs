//! A served `Lock`, `RLock` or `Condition` as a condition uses its lock
//! (`sync/condition_lock.rs`): each operation one request, which rank 0
//! runs on the lock (a condition's, for a `Condition`).

use std::time::Instant;

use super::Remote;
use super::ops::{Answer, Misuse, Op, Patience};
use crate::sync::ReleaseError;
use crate::sync::condition_lock::ConditionLockOps;

impl ConditionLockOps for Remote {
    fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.ask(Op::Acquire(Patience::until(deadline)))
    }

    fn try_acquire(&self) -> bool {
        self.ask(Op::Acquire(Patience::Never))
    }

    fn release(&self) -> Result<(), ReleaseError> {
        self.checked(Op::Release).map(drop).map_err(Misuse::release)
    }

    fn is_held(&self) -> bool {
        self.ask(Op::IsOwned)
    }

    fn release_save(&self) -> u64 {
        match self.call(Op::ReleaseSave) {
            Answer::Count(levels) => levels,
            _ => 1,
        }
    }

    fn acquire_restore(&self, levels: u64) {
        self.call(Op::AcquireRestore(levels));
    }
}
