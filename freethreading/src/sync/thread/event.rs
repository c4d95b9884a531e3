//! An event: a flag and a count of `set` calls behind a mutex, and a
//! condition variable broadcast on every `set`.
//!
//! Waiters watch the count as well as the flag, so a `set` followed at once by
//! a `clear` still releases everyone who was waiting, as in Python.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

#[derive(Default)]
struct State {
    flag: bool,
    sets: u64,
}

#[derive(Default)]
pub(crate) struct Event {
    state: Mutex<State>,
    changed: Condvar,
}

impl Event {
    pub(crate) fn new() -> Self {
        Event::default()
    }

    pub(crate) fn set(&self) {
        let mut state = self.state.lock();
        if !state.flag {
            state.flag = true;
            state.sets = state.sets.wrapping_add(1);
            drop(state);
            self.changed.notify_all();
        }
    }

    pub(crate) fn clear(&self) {
        self.state.lock().flag = false;
    }

    pub(crate) fn is_set(&self) -> bool {
        self.state.lock().flag
    }

    /// Waits until the flag is set or `deadline` passes; `true` if it was set.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        let start = state.sets;
        while !state.flag && state.sets == start {
            match deadline {
                None => self.changed.wait(&mut state),
                Some(deadline) => {
                    if self.changed.wait_until(&mut state, deadline).timed_out() {
                        break;
                    }
                }
            }
        }
        state.flag || state.sets != start
    }
}
