//! The thread flavor of [`SimpleQueue`](crate::SimpleQueue): an unbounded
//! crossbeam channel, with no task counting and no bound to keep.

use crossbeam_channel::{Receiver, Sender};

use super::channel;
use crate::queue::Empty;
use crate::queue::wait::Wait;

/// An unbounded FIFO queue shared by the threads of this process.
pub(crate) struct SimpleQueue<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
}

impl<T> SimpleQueue<T> {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        SimpleQueue { sender, receiver }
    }

    /// Puts `item` at the back; never blocks.
    pub(crate) fn put(&self, item: T) {
        // An unbounded channel always has room.
        let _ = channel::send(&self.sender, item, Wait::Forever);
    }

    /// Takes the item at the front, waiting for one as `wait` allows.
    pub(crate) fn get(&self, wait: Wait) -> Result<T, Empty> {
        channel::receive(&self.receiver, wait).ok_or(Empty)
    }

    pub(crate) fn empty(&self) -> bool {
        self.receiver.is_empty()
    }

    pub(crate) fn qsize(&self) -> usize {
        self.receiver.len()
    }
}
