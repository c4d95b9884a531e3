//! A reply frame read back in the parent: what both process runners (one
//! worker's monitor, a crew's driver) make of a worker's answer.

use super::wire::{ReplyHeader, split};
use crate::codec::message;
use crate::task::{TaskError, TaskValue};

/// A reply whose result was [streamed](crate::shared::payload::stream) and
/// never written whole: its worker died (or gave the result up) after the
/// reply went out, while it copied the result in. The caller reports the
/// worker's death, as if no reply had come.
#[derive(Debug)]
pub(crate) struct Torn;

impl Torn {
    /// The job's error where the worker's death cannot be reported as
    /// such (a rank, whose results are never streamed).
    #[cfg(feature = "mpi")]
    pub(crate) fn error(task: &str) -> TaskError {
        TaskError::serialization(format!(
            "the result of `{task}` was left unwritten by its worker"
        ))
    }
}

/// A reply frame's outcome: the decoded result, or the task's error; or
/// [`Torn`] if the worker died while it streamed the result.
pub(crate) fn decode_reply<R: TaskValue>(
    frame: &[u8],
    task: &str,
) -> Result<Result<R, TaskError>, Torn> {
    let (header, payload) = match split::<ReplyHeader>(frame) {
        Ok(split) => split,
        Err(garbled) => {
            return Ok(Err(TaskError::serialization(format!(
                "reply for `{task}`: {}",
                garbled.0
            ))));
        }
    };
    if header.ok {
        match message::decode(payload) {
            Ok(value) => Ok(Ok(value)),
            Err(e) if e.unwritten() => Err(Torn),
            Err(e) => Ok(Err(TaskError::result(task, e))),
        }
    } else {
        Ok(match message::decode::<TaskError>(payload) {
            Ok(error) => Err(error),
            Err(e) => Err(TaskError::serialization(format!("error of `{task}`: {e}"))),
        })
    }
}

/// Frees the shared-memory block a reply's value lies in, for a reply that
/// will not be decoded (its job was cancelled while it ran, and the reply
/// beat the kill): the block is the worker's, which lives on and would not
/// free it. A streamed one is freed once the worker has written it;
/// [`Torn`] if the worker died first.
pub(crate) fn discard_reply(frame: &[u8]) -> Result<(), Torn> {
    match split::<ReplyHeader>(frame) {
        Ok((_, payload)) if !message::discard(payload) => Err(Torn),
        _ => Ok(()),
    }
}
