//! The count of unfinished tasks behind `task_done()` and `join()`.
//!
//! As in Python's `queue.Queue`, every put item is a task until a consumer
//! calls `task_done()` for it. The count is one atomic, raised by `put` before
//! the item is visible (so a consumer's `task_done()` never finds it at zero)
//! and lowered, never below zero, by `task_done()`. Joiners sleep in a
//! [`Parking`] and are woken only when the count reaches zero, not on every
//! `task_done()`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::parking::Parking;
use crate::queue::TaskDoneError;

/// Unfinished tasks of one queue, and the threads joining it.
#[derive(Default)]
pub(super) struct Tasks {
    unfinished: AtomicUsize,
    joiners: Parking,
}

impl Tasks {
    /// Counts a task for an item about to be put.
    pub(super) fn add(&self) {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
    }

    /// Takes back the task of an [`add`](Self::add) whose item was not put.
    pub(super) fn cancel(&self) {
        // Never fails: the `add` being taken back is still counted.
        let _ = self.done();
    }

    /// Marks one task done, waking joiners when it was the last.
    pub(super) fn done(&self) -> Result<(), TaskDoneError> {
        let before = self
            .unfinished
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if before == 1 {
            self.joiners.wake_all();
        }
        Ok(())
    }

    /// How many tasks are not done yet.
    pub(super) fn unfinished(&self) -> usize {
        self.unfinished.load(Ordering::SeqCst)
    }

    /// Blocks until no task is unfinished, or until `deadline`; returns
    /// whether none is.
    pub(super) fn join(&self, deadline: Option<Instant>) -> bool {
        self.joiners.wait_until(|| self.unfinished() == 0, deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn done_below_zero_is_an_error_and_changes_nothing() {
        let tasks = Tasks::default();
        assert_eq!(tasks.done(), Err(TaskDoneError));
        tasks.add();
        assert_eq!(tasks.done(), Ok(()));
        assert_eq!(tasks.done(), Err(TaskDoneError));
        assert_eq!(tasks.unfinished(), 0);
    }

    #[test]
    fn join_times_out_while_a_task_is_open_and_wakes_on_the_last_done() {
        let tasks = Arc::new(Tasks::default());
        tasks.add();
        tasks.add();
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(!tasks.join(Some(deadline)));
        assert!(Instant::now() >= deadline);

        let joiner = {
            let tasks = Arc::clone(&tasks);
            std::thread::spawn(move || tasks.join(None))
        };
        tasks.done().unwrap();
        tasks.cancel();
        assert!(joiner.join().unwrap());
        assert!(tasks.join(Some(Instant::now())));
    }
}
