//! A worker's outcome: published once by whoever ran the task (its thread,
//! or the monitor of its process) and awaited by joiners on either flavor.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub(super) struct Outcome<T> {
    value: Mutex<Option<T>>,
    published: Condvar,
}

impl<T> Outcome<T> {
    pub(super) fn new() -> Self {
        Outcome {
            value: Mutex::new(None),
            published: Condvar::new(),
        }
    }

    /// Sets the outcome and wakes every joiner.
    pub(super) fn publish(&self, value: T) {
        *self.value.lock() = Some(value);
        self.published.notify_all();
    }

    pub(super) fn is_published(&self) -> bool {
        self.value.lock().is_some()
    }

    /// The outcome, if published and not taken yet.
    pub(super) fn take(&self) -> Option<T> {
        self.value.lock().take()
    }

    /// Waits for the outcome and takes it.
    pub(super) fn wait_take(&self) -> T {
        let mut value = self.value.lock();
        loop {
            if let Some(value) = value.take() {
                return value;
            }
            self.published.wait(&mut value);
        }
    }

    /// Waits at most `timeout` for the outcome; whether it is published. A
    /// timeout past what `Instant` can hold is no timeout.
    pub(super) fn wait_for(&self, timeout: Duration) -> bool {
        let mut value = self.value.lock();
        let deadline = Instant::now().checked_add(timeout);
        while value.is_none() {
            match deadline {
                Some(deadline) => {
                    if self.published.wait_until(&mut value, deadline).timed_out() {
                        break;
                    }
                }
                None => self.published.wait(&mut value),
            }
        }
        value.is_some()
    }
}
