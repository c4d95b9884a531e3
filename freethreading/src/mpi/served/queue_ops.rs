//! A served `Queue` or `SimpleQueue`, typed: items are encoded as messages
//! (`codec/message.rs`, inline) on their way in and decoded on their way
//! out, wherever the caller is, so rank 0 holds bytes whatever the item's
//! type, and a primitive inside an item travels as its id.

use super::Remote;
use super::ops::{Answer, Op, Patience};
use crate::TaskValue;
use crate::codec::message::{self, Route};
use crate::queue::wait::Wait;
use crate::queue::{GetError, PutError};

/// What a request or an answer adds around a queue item (postcard's request
/// number, object, thread, operation, length and patience), rounded up: an
/// item is refused at `put` unless it fits with it, so that an answer that
/// carries it to a worker rank later always fits too (one that did not
/// would leave the getter waiting, the item gone).
const FRAMING: usize = 64;

impl Remote {
    /// Puts `item`, waiting as `wait` says for room.
    pub(crate) fn put<T: TaskValue>(&self, item: T, wait: Wait) -> Result<(), PutError<T>> {
        let wire = match message::encode(&item, Route::InlineOnly) {
            Ok(encoded) if crate::mpi::fits(encoded.wire.len() + FRAMING) => encoded.wire,
            Ok(encoded) => {
                let why = format!(
                    "{} bytes, over what one MPI message may carry",
                    encoded.wire.len()
                );
                return Err(PutError::Encode(item, why));
            }
            Err(error) => return Err(PutError::Encode(item, error.to_string())),
        };
        match self.call(Op::Put(wire, Patience::of_wait(wait))) {
            Answer::Done => Ok(()),
            _ => Err(PutError::Full(item)),
        }
    }

    /// Takes an item, waiting as `wait` says for one.
    pub(crate) fn receive<T: TaskValue>(&self, wait: Wait) -> Result<T, GetError> {
        match self.call(Op::Get(Patience::of_wait(wait))) {
            Answer::Item(wire) => {
                message::decode(&wire).map_err(|error| GetError::Decode(error.to_string()))
            }
            _ => Err(GetError::Empty),
        }
    }
}
