//! The wire format for what crosses a process boundary: serde with `postcard`,
//! a compact binary format (variable-length integers, no field names).

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use postcard::Error as CodecError;

/// Serializes `value` into a fresh buffer.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    postcard::to_stdvec(value)
}

/// Deserializes a whole buffer; trailing bytes are left unread and not an error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    postcard::from_bytes(bytes)
}
