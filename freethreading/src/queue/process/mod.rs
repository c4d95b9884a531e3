//! The process flavor of the queues: items serialized into a [`Ring`] in
//! the shared arena, which every process of the tree maps. A small item is
//! postcard (compact, encoded on the stack); a bigger one is a
//! [`message`](crate::codec::message), so a byte buffer is copied as it is
//! and an item from [`SHARED_FROM`](crate::codec::message::SHARED_FROM)
//! bytes up lies in an arena block of its own, the record holding only its
//! reference: the ring's word-by-word copies never see it.
//!
//! One type serves both public queues: [`SimpleQueue`](crate::SimpleQueue)
//! is a [`Queue`] without a bound that counts no tasks. A handle serializes
//! as the ring's validated arena handle.

mod ring;
mod segment;

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(crate) use ring::Ring;
use ring::{GetFailure, PutFailure};

use crate::TaskValue;
use crate::codec::message::{self, Route};
use crate::queue::wait::Wait;
use crate::queue::{GetError, PutError, TaskDoneError};
use crate::shared::Shared;

#[cfg(all(test, process_backend, unix))]
pub(crate) use ring::CRASH_AT;

/// Items small enough to encode on the stack, with no allocation.
const INLINE: usize = 256;

/// The last byte of a record of a small item, after its postcard; a bigger
/// item's record is a [`message`] (bitcode, raw bytes, or a reference to its
/// bytes in shared memory), whose forms never end so.
const POSTCARD: u8 = 0x80;

pub(crate) struct Queue<T> {
    ring: Ring,
    items: PhantomData<fn(T) -> T>,
}

impl<T: TaskValue> Queue<T> {
    /// A queue of at most `maxsize` items; 0 means no bound.
    pub(crate) fn new(maxsize: usize) -> Result<Self, crate::SharedMemoryError> {
        Ok(Queue {
            ring: Ring::new(maxsize)?,
            items: PhantomData,
        })
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.ring.maxsize()
    }

    /// Puts `item` at the back, waiting for room as `wait` allows. Every
    /// item counts as a task; a [`SimpleQueue`](crate::SimpleQueue) just
    /// never asks.
    pub(crate) fn put(&self, item: T, wait: Wait) -> Result<(), PutError<T>> {
        let mut inline = [0_u8; INLINE + 1];
        // A small item goes as postcard, unless it skips a field, which
        // postcard could not read back: the message's codec refuses it.
        let small = postcard::to_slice(&item, &mut inline[..INLINE]);
        let small = match small {
            Ok(_) if crate::codec::skips_a_field(&item) => {
                Err(postcard::Error::SerializeBufferFull)
            }
            other => other,
        };
        let placed = match small {
            Ok(bytes) => {
                let len = bytes.len();
                inline[len] = POSTCARD;
                self.place(&inline[..=len], wait)
            }
            Err(postcard::Error::SerializeBufferFull) => {
                match message::encode(&item, Route::MayShare) {
                    Ok(encoded) => {
                        // The queue's once placed: whoever gets it frees it,
                        // even after this process is gone.
                        encoded.lent.disown();
                        let placed = self.place(&encoded.wire, wait);
                        if placed.is_ok() {
                            encoded.lent.hand_over();
                        }
                        placed
                    }
                    Err(error) => return Err(PutError::Encode(item, error.to_string())),
                }
            }
            Err(error) => return Err(PutError::Encode(item, error.to_string())),
        };
        match placed {
            Ok(()) => Ok(()),
            Err(PutFailure::Full) => Err(PutError::Full(item)),
            Err(PutFailure::NoMemory) => Err(PutError::NoMemory(item)),
        }
    }

    fn place(&self, bytes: &[u8], wait: Wait) -> Result<(), PutFailure> {
        self.ring.put(bytes, wait.deadline())
    }

    /// Takes the item at the front, waiting for one as `wait` allows.
    pub(crate) fn get(&self, wait: Wait) -> Result<T, GetError> {
        thread_local! {
            static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        // Taken out of the cell, so a nested `get` (from a `Deserialize`)
        // gets a buffer of its own.
        let mut buffer = BUFFER.with(std::cell::Cell::take);
        let taken = self.ring.get(&mut buffer, wait.deadline());
        let item = match taken {
            Ok(()) => match buffer.split_last() {
                Some((&POSTCARD, rest)) => {
                    postcard::from_bytes(rest).map_err(|e| GetError::Decode(e.to_string()))
                }
                _ => message::decode(&buffer).map_err(|e| GetError::Decode(e.to_string())),
            },
            Err(GetFailure::Empty) => Err(GetError::Empty),
            Err(GetFailure::Corrupt) => Err(GetError::Decode(
                "the queue's shared memory was overwritten".to_owned(),
            )),
        };
        BUFFER.with(|cell| cell.set(buffer));
        item
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.ring.task_done() {
            Ok(())
        } else {
            Err(TaskDoneError)
        }
    }

    pub(crate) fn join(&self, wait: Wait) -> bool {
        self.ring.join(wait.deadline())
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.ring.unfinished()
    }

    pub(crate) fn qsize(&self) -> usize {
        self.ring.len()
    }

    pub(crate) fn empty(&self) -> bool {
        self.qsize() == 0
    }

    pub(crate) fn full(&self) -> bool {
        let maxsize = self.maxsize();
        maxsize > 0 && self.qsize() >= maxsize
    }
}

impl<T> Drop for Queue<T> {
    /// A queue that never left this process (no handle to it was ever
    /// serialized) dies with its last handle here: the big items it still
    /// holds give their shared-memory blocks back. One that was shared lives
    /// as long as the arena, like every shared primitive.
    fn drop(&mut self) {
        let state = self.ring.shared();
        if state.arena().is_exported(state.offset()) {
            return;
        }
        let mut record = Vec::new();
        let now = Some(std::time::Instant::now());
        while self.ring.get(&mut record, now).is_ok() {
            if record.last() != Some(&POSTCARD) {
                message::discard(&record);
            }
        }
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.ring.shared().serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Queue {
            ring: Ring::from_shared(Shared::deserialize(deserializer)?),
            items: PhantomData,
        })
    }
}

#[cfg(all(test, process_backend))]
mod tests;
