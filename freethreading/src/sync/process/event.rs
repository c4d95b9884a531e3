//! An event in shared memory: one futex word holding the flag in bit 0 and a
//! count of `set` calls above it, and a count of sleepers so that `set` makes
//! a system call only when someone waits.
//!
//! Waiters watch the count as well as the flag, so a `set` followed at once
//! by a `clear` still releases everyone who was waiting, as in Python.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::shared::arena::kind;
use crate::shared::spin::Spin;
use crate::shared::{Object, Shared};
use crate::sys::futex;

#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    word: AtomicU32,
    sleepers: AtomicU32,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::EVENT;
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Event {
    state: Shared<State>,
}

impl Event {
    pub(crate) fn new() -> Result<Self, crate::SharedMemoryError> {
        Ok(Event {
            state: Shared::try_new("Event")?,
        })
    }

    pub(crate) fn set(&self) {
        let set = self
            .state
            .word
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |w| {
                (w & 1 == 0).then_some((w | 1).wrapping_add(2))
            });
        if set.is_ok() && self.state.sleepers.load(Ordering::SeqCst) != 0 {
            futex::wake(&self.state.word, u32::MAX);
        }
    }

    pub(crate) fn clear(&self) {
        self.state.word.fetch_and(!1, Ordering::SeqCst);
    }

    pub(crate) fn is_set(&self) -> bool {
        self.state.word.load(Ordering::SeqCst) & 1 != 0
    }

    /// Waits until the flag is set or `deadline` passes; `true` if it was set.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let start = self.state.word.load(Ordering::SeqCst);
        if start & 1 != 0 {
            return true;
        }
        // A short spin before going to the kernel (see `shared::spin`): a
        // setter in another process often comes within a few microseconds,
        // and a spinning waiter costs the setter no wake-up call.
        let mut spin = Spin::new();
        while spin.next() {
            let now = self.state.word.load(Ordering::Acquire);
            if now & 1 != 0 || now >> 1 != start >> 1 {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        self.state.sleepers.fetch_add(1, Ordering::SeqCst);
        let released = loop {
            let now = self.state.word.load(Ordering::SeqCst);
            if now & 1 != 0 || now >> 1 != start >> 1 {
                break true;
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break false;
                    }
                    Some(left)
                }
            };
            futex::wait(&self.state.word, now, timeout);
        };
        self.state.sleepers.fetch_sub(1, Ordering::SeqCst);
        released
    }
}
