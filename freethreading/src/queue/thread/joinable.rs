//! The thread flavor of [`Queue`](crate::Queue): a crossbeam channel holding
//! the items, plus the counter of unfinished tasks.
//!
//! - An unbounded queue is an unbounded (linked-list) channel: `put` never
//!   blocks.
//! - A bounded queue whose ring costs at most [`RING_LIMIT_BYTES`] is a
//!   bounded (array) channel: crossbeam blocks a full `put` and an empty `get`
//!   with real deadlines (`send_deadline`, `recv_deadline`), no polling.
//! - A larger bound is an unbounded channel plus a [`Room`] counting the
//!   places taken, so `Queue::bounded(usize::MAX)` costs nothing up front.
//!
//! `qsize`, `empty` and `full` read the channel's own length, which counts an
//! item from the moment its `put` returns: unlike Python's process queue, they
//! never lag behind a `put`.

use std::mem::size_of;

use crossbeam_channel::{Receiver, Sender};

use super::channel;
use super::room::Room;
use super::tasks::Tasks;
use crate::queue::wait::Wait;
use crate::queue::{Empty, Full, TaskDoneError};

/// The most memory a bounded queue preallocates for its ring of items.
const RING_LIMIT_BYTES: usize = 1 << 20;

/// A FIFO queue shared by the threads of this process.
pub(crate) struct Queue<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
    /// 0 for an unbounded queue, as in Python.
    maxsize: usize,
    /// The bound when it is counted rather than kept by a ring.
    room: Option<Room>,
    tasks: Tasks,
}

/// Where the items of a queue live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// A list that grows and shrinks with the items (no bound, or a counted one).
    List,
    /// A preallocated ring of `maxsize` places.
    Ring,
}

impl Layout {
    /// The layout for a queue of at most `maxsize` items of type `T`.
    pub(super) fn for_bound<T>(maxsize: usize) -> Self {
        // A ring place holds an item and crossbeam's stamp.
        let place = size_of::<T>() + size_of::<usize>();
        match maxsize.checked_mul(place) {
            Some(bytes) if maxsize > 0 && bytes <= RING_LIMIT_BYTES => Layout::Ring,
            _ => Layout::List,
        }
    }
}

impl<T> Queue<T> {
    /// A queue of at most `maxsize` items; 0 means no bound.
    pub(crate) fn new(maxsize: usize) -> Self {
        Self::with_layout(maxsize, Layout::for_bound::<T>(maxsize))
    }

    pub(super) fn with_layout(maxsize: usize, layout: Layout) -> Self {
        let (sender, receiver) = match layout {
            Layout::Ring => crossbeam_channel::bounded(maxsize),
            Layout::List => crossbeam_channel::unbounded(),
        };
        let room = (maxsize > 0 && layout == Layout::List).then(|| Room::new(maxsize));
        Queue {
            sender,
            receiver,
            maxsize,
            room,
            tasks: Tasks::default(),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Puts `item` at the back, waiting for a free place as `wait` allows.
    pub(crate) fn put(&self, item: T, wait: Wait) -> Result<(), Full<T>> {
        if let Some(room) = &self.room {
            let taken = match wait {
                Wait::Never => room.try_take(),
                Wait::Until(_) | Wait::Forever => room.take(wait.deadline()),
            };
            if !taken {
                return Err(Full(item));
            }
        }
        // Counted before the item is visible, so that its `task_done` can
        // never come first.
        self.tasks.add();
        channel::send(&self.sender, item, wait).map_err(|item| {
            // Only a ring refuses an item; a counted bound already took a place.
            self.tasks.cancel();
            Full(item)
        })
    }

    /// Takes the item at the front, waiting for one as `wait` allows.
    pub(crate) fn get(&self, wait: Wait) -> Result<T, Empty> {
        let item = channel::receive(&self.receiver, wait).ok_or(Empty)?;
        if let Some(room) = &self.room {
            room.give_back();
        }
        Ok(item)
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        self.tasks.done()
    }

    /// Waits until every item put has had its `task_done`, as `wait` allows;
    /// returns whether they all have.
    pub(crate) fn join(&self, wait: Wait) -> bool {
        self.tasks.join(wait.deadline())
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.tasks.unfinished()
    }

    pub(crate) fn qsize(&self) -> usize {
        self.receiver.len()
    }

    pub(crate) fn empty(&self) -> bool {
        self.receiver.is_empty()
    }

    pub(crate) fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn the_layout_is_a_ring_only_for_a_small_bound() {
        assert_eq!(Layout::for_bound::<u64>(0), Layout::List);
        assert_eq!(Layout::for_bound::<u64>(1000), Layout::Ring);
        assert_eq!(Layout::for_bound::<u64>(usize::MAX), Layout::List);
        assert_eq!(Layout::for_bound::<[u8; 4096]>(1000), Layout::List);
        assert_eq!(Layout::for_bound::<()>(1 << 17), Layout::Ring);
    }

    #[test]
    fn a_counted_bound_refuses_a_put_when_full_and_gives_the_item_back() {
        let queue = Queue::with_layout(2, Layout::List);
        queue.put(1, Wait::Never).unwrap();
        queue.put(2, Wait::Forever).unwrap();
        assert!(queue.full());
        assert_eq!(queue.put(3, Wait::Never).unwrap_err().0, 3);
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(queue.put(4, Wait::Until(deadline)).unwrap_err().0, 4);
        assert!(Instant::now() >= deadline);
        assert_eq!(queue.unfinished_tasks(), 2);
        assert_eq!(queue.get(Wait::Never), Ok(1));
        assert!(!queue.full());
        queue.put(5, Wait::Never).unwrap();
        assert_eq!(queue.get(Wait::Forever), Ok(2));
        assert_eq!(queue.get(Wait::Never), Ok(5));
        assert_eq!(queue.get(Wait::Never), Err(Empty));
    }

    #[test]
    fn a_counted_bound_wakes_a_blocked_put_when_an_item_leaves() {
        let queue = Arc::new(Queue::with_layout(1, Layout::List));
        queue.put(0_u32, Wait::Forever).unwrap();
        let producer = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || {
                for i in 1..1000 {
                    queue.put(i, Wait::Forever).unwrap();
                }
            })
        };
        for expected in 0..1000 {
            assert_eq!(queue.get(Wait::Forever), Ok(expected));
            assert!(queue.qsize() <= 1);
        }
        producer.join().unwrap();
        assert!(queue.empty());
    }

    #[test]
    fn a_counted_bound_loses_nothing_between_several_threads() {
        const PRODUCERS: u32 = 3;
        const COUNT: u32 = 10_000;
        let queue = Arc::new(Queue::with_layout(4, Layout::List));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    let mut taken = Vec::new();
                    while let Some(item) = queue.get(Wait::Forever).unwrap() {
                        taken.push(item);
                        queue.task_done().unwrap();
                    }
                    queue.task_done().unwrap();
                    taken
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    for seq in 0..COUNT {
                        queue.put(Some((producer, seq)), Wait::Forever).unwrap();
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.join().unwrap();
        }
        for _ in 0..2 {
            queue.put(None, Wait::Forever).unwrap();
        }
        assert!(queue.join(Wait::Forever));
        let mut taken: Vec<_> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        taken.sort_unstable();
        let expected: Vec<_> = (0..PRODUCERS)
            .flat_map(|p| (0..COUNT).map(move |s| (p, s)))
            .collect();
        assert_eq!(taken, expected);
        assert!(queue.empty());
    }
}
