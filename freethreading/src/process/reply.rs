//! A reply frame read back in the parent: what both process runners (one
//! worker's monitor, a crew's driver) make of a worker's answer.

use super::wire::{ReplyHeader, split};
use crate::codec::message;
use crate::task::{TaskError, TaskValue};

/// A reply frame's outcome: the decoded result, or the task's error.
pub(crate) fn decode_reply<R: TaskValue>(frame: &[u8], task: &str) -> Result<R, TaskError> {
    let (header, payload) = split::<ReplyHeader>(frame).map_err(|garbled| {
        TaskError::serialization(format!("reply for `{task}`: {}", garbled.0))
    })?;
    if header.ok {
        message::decode(payload).map_err(|e| TaskError::result(task, e))
    } else {
        let error = message::decode::<TaskError>(payload)
            .map_err(|e| TaskError::serialization(format!("error of `{task}`: {e}")))?;
        Err(error)
    }
}

/// Frees the shared-memory block a reply's value lies in, for a reply that
/// will not be decoded (its job was cancelled while it ran, and the reply
/// beat the kill): the block is the worker's, which lives on and would not
/// free it.
pub(crate) fn discard_reply(frame: &[u8]) {
    if let Ok((_, payload)) = split::<ReplyHeader>(frame) {
        message::discard(payload);
    }
}
