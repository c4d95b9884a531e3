//! The format of what crosses a process boundary: task arguments and
//! results, initializer arguments, queue items. Serde with `bitcode`, a
//! compact binary format that is fast to read and write: the vectors of a
//! `map` chunk encode and decode about three times faster than with
//! `postcard`'s variable-length integers, which stay in use for the small
//! headers of the wire protocol (`process/wire.rs`), for small values (a
//! few parts, whose bitcode setup costs more than the value) and for values
//! with a big nested byte string (`probe.rs`, `message.rs`).

mod buffers;
pub(crate) mod message;
mod probe;
#[cfg(test)]
mod shapes_tests;

pub(crate) use probe::skips_a_field;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::task::TaskError;

pub(crate) use bitcode::Error as CodecError;

/// Serializes `value` into a fresh buffer.
///
/// bitcode panics on what its format cannot hold (a sequence of unknown
/// length: `collect_seq` over a filtered iterator, `#[serde(flatten)]`); that
/// is the value's shape, not a bug here, so it is an error like any other,
/// as is a panic in the value's own `Serialize`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let encoded =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bitcode::serialize(value)));
    encoded.unwrap_or_else(|panic| {
        Err(serde::ser::Error::custom(format_args!(
            "encoding it panicked: {} (the format cannot hold a sequence or map of \
             unknown length: `collect_seq` over an iterator without an exact size, \
             `#[serde(flatten)]`)",
            crate::task::unwind::payload_message(&*panic)
        )))
    })
}

/// Deserializes a whole buffer.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    bitcode::deserialize(bytes)
}

/// Serializes the arguments of `task` as a [`message`], naming the task if
/// they cannot be.
pub(crate) fn encode_arguments<T: Serialize + 'static>(
    task: &str,
    args: &T,
    route: message::Route,
) -> Result<message::Message, TaskError> {
    message::encode(args, route).map_err(|e| TaskError::arguments(task, e))
}

/// As [`encode_arguments`], taking the arguments, so that a big byte
/// buffer can be [streamed](message::encode_owned).
pub(crate) fn encode_owned_arguments<T: Serialize + Send + 'static>(
    task: &str,
    args: T,
    route: message::Route,
) -> Result<message::Message, TaskError> {
    message::encode_owned(args, route).map_err(|e| TaskError::arguments(task, e))
}
