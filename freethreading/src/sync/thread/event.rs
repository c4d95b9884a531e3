//! An event: one atomic word holding the flag in bit 0 and a count of `set`
//! calls above it, and a condition variable broadcast on every `set`.
//!
//! Waiters watch the count as well as the flag, so a `set` followed at once by
//! a `clear` still releases everyone who was waiting, as in Python. A waiter
//! polls the word for a moment first (`shared::spin`, the process flavor's
//! policy): a setter on another thread often comes within microseconds, and
//! a waiter that sees it so needs no wake-up. Then it sleeps on the condition
//! variable; `set` changes the word with the mutex held, so no sleeper can
//! miss it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::shared::spin::Spin;

#[derive(Default)]
pub(crate) struct Event {
    /// `sets << 1 | flag`.
    word: AtomicU64,
    sleeping: Mutex<()>,
    changed: Condvar,
}

/// Whether the word moved on from `start` in a way that releases a waiter
/// that came when it was `start`.
fn released(start: u64, now: u64) -> bool {
    now & 1 != 0 || now >> 1 != start >> 1
}

impl Event {
    pub(crate) fn new() -> Self {
        Event::default()
    }

    pub(crate) fn set(&self) {
        let _sleeping = self.sleeping.lock();
        let set = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w & 1 == 0).then_some((w | 1).wrapping_add(2))
            });
        if set.is_ok() {
            self.changed.notify_all();
        }
    }

    pub(crate) fn clear(&self) {
        self.word.fetch_and(!1, Ordering::AcqRel);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.word.load(Ordering::Acquire) & 1 != 0
    }

    /// Waits until the flag is set or `deadline` passes; `true` if it was set.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let start = self.word.load(Ordering::Acquire);
        if start & 1 != 0 {
            return true;
        }
        let mut spin = Spin::new();
        while spin.next() {
            if released(start, self.word.load(Ordering::Acquire)) {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        let mut sleeping = self.sleeping.lock();
        loop {
            if released(start, self.word.load(Ordering::Acquire)) {
                return true;
            }
            match deadline {
                None => self.changed.wait(&mut sleeping),
                Some(deadline) => {
                    if self.changed.wait_until(&mut sleeping, deadline).timed_out() {
                        return released(start, self.word.load(Ordering::Acquire));
                    }
                }
            }
        }
    }
}
