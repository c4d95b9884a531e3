//! The bound of a queue too large to preallocate, kept by counting.
//!
//! A bounded crossbeam channel allocates its whole ring up front, which is
//! right for the usual `Queue::bounded(100)` but not for a bound of a billion.
//! Such a queue keeps its items in an unbounded channel instead, and this
//! counter of places taken enforces the bound: a `put` takes a place (a
//! compare-and-swap below the bound) before it sends, a `get` gives one back
//! after it receives and wakes one blocked `put`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::parking::Parking;

/// Places taken in a queue with a counted bound.
pub(super) struct Room {
    bound: usize,
    taken: AtomicUsize,
    putters: Parking,
}

impl Room {
    /// Room for `bound` items, all free.
    pub(super) fn new(bound: usize) -> Self {
        Room {
            bound,
            taken: AtomicUsize::new(0),
            putters: Parking::default(),
        }
    }

    /// Takes a place if one is free.
    pub(super) fn try_take(&self) -> bool {
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.bound).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes a place, waiting until one is free or `deadline` passes; returns
    /// whether it took one.
    pub(super) fn take(&self, deadline: Option<Instant>) -> bool {
        self.putters.wait_until(|| self.try_take(), deadline)
    }

    /// Gives back a place taken by [`take`](Self::take) or
    /// [`try_take`](Self::try_take).
    pub(super) fn give_back(&self) {
        self.taken.fetch_sub(1, Ordering::SeqCst);
        self.putters.wake_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn places_run_out_at_the_bound_and_come_back() {
        let room = Room::new(2);
        assert!(room.try_take());
        assert!(room.try_take());
        assert!(!room.try_take());
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(!room.take(Some(deadline)));
        assert!(Instant::now() >= deadline);
        room.give_back();
        assert!(room.take(None));
    }

    #[test]
    fn a_blocked_take_wakes_when_a_place_is_given_back() {
        let room = Arc::new(Room::new(1));
        assert!(room.try_take());
        let putters: Vec<_> = (0..3)
            .map(|_| {
                let room = Arc::clone(&room);
                std::thread::spawn(move || {
                    assert!(room.take(None));
                    room.give_back();
                })
            })
            .collect();
        room.give_back();
        for putter in putters {
            putter.join().unwrap();
        }
        assert!(room.try_take());
        assert!(!room.try_take());
    }
}
