//! The byte buffers that skip serde: a value of one of these types crosses
//! as its bytes, one copy, where serde (bitcode's serde mode included)
//! would visit every byte. They are found by `TypeId` (a `TaskValue` is
//! `'static`), so they need no trait of their own and no specialization:
//!
//! - `Vec<u8>`, `Box<[u8]>` and `bytes::Bytes`;
//! - a one-element tuple of any of them, as a task of one such argument
//!   takes.
//!
//! A `Bytes` received from shared memory is not copied at all: it owns the
//! arena block its bytes lie in ([`HeldPayload`]), which is freed when the
//! last clone of it is dropped. That is this crate's answer to pickle
//! protocol 5's out-of-band buffers.

use std::any::{Any, TypeId};

use bytes::Bytes;

use super::message::MessageError;
use crate::shared::payload::HeldPayload;

/// The bytes of `value` if it is a byte buffer of the fast path.
pub(super) fn as_bytes<T: 'static>(value: &T) -> Option<&[u8]> {
    let value: &dyn Any = value;
    if let Some(bytes) = value.downcast_ref::<Vec<u8>>() {
        Some(bytes)
    } else if let Some(bytes) = value.downcast_ref::<Box<[u8]>>() {
        Some(bytes)
    } else if let Some(bytes) = value.downcast_ref::<Bytes>() {
        Some(bytes)
    } else if let Some((bytes,)) = value.downcast_ref::<(Vec<u8>,)>() {
        Some(bytes)
    } else if let Some((bytes,)) = value.downcast_ref::<(Box<[u8]>,)>() {
        Some(bytes)
    } else if let Some((bytes,)) = value.downcast_ref::<(Bytes,)>() {
        Some(bytes)
    } else {
        None
    }
}

/// Whether a `T` can own a payload where it lies in shared memory, rather
/// than copy it out: `Bytes` and `(Bytes,)`.
pub(super) fn holds_in_place<T: 'static>() -> bool {
    let id = TypeId::of::<T>();
    id == TypeId::of::<Bytes>() || id == TypeId::of::<(Bytes,)>()
}

/// A `T` owning `held`, if `T` [holds in place](holds_in_place).
pub(super) fn from_held<T: 'static>(held: HeldPayload) -> Result<T, MessageError> {
    let bytes = Bytes::from_owner(held);
    let value: Box<dyn Any> = if TypeId::of::<T>() == TypeId::of::<Bytes>() {
        Box::new(bytes)
    } else {
        Box::new((bytes,))
    };
    downcast(value)
}

/// A byte buffer of the fast path that owns its value, to be read from
/// later (a streamed message's source): its bytes as [`as_bytes`] finds them.
pub(super) struct Owned<T>(pub(super) T);

impl<T: 'static> AsRef<[u8]> for Owned<T> {
    fn as_ref(&self) -> &[u8] {
        as_bytes(&self.0).unwrap_or_default()
    }
}

/// A `T` made of a copy of `bytes`, if `T` is a byte buffer of the fast path.
pub(super) fn from_bytes<T: 'static>(bytes: &[u8]) -> Result<T, MessageError> {
    is_buffer::<T>()?;
    let mut buffer = sized(bytes.len());
    buffer.extend_from_slice(bytes);
    from_vec(buffer)
}

fn is_buffer<T: 'static>() -> Result<(), MessageError> {
    let id = TypeId::of::<T>();
    let buffers = [
        TypeId::of::<Vec<u8>>(),
        TypeId::of::<Box<[u8]>>(),
        TypeId::of::<Bytes>(),
        TypeId::of::<(Vec<u8>,)>(),
        TypeId::of::<(Box<[u8]>,)>(),
        TypeId::of::<(Bytes,)>(),
    ];
    if buffers.contains(&id) {
        Ok(())
    } else {
        Err(MessageError::new(format!(
            "raw bytes sent for a `{}`",
            std::any::type_name::<T>()
        )))
    }
}

/// A `T` owning `bytes`, if `T` is a byte buffer of the fast path.
pub(super) fn from_vec<T: 'static>(bytes: Vec<u8>) -> Result<T, MessageError> {
    is_buffer::<T>()?;
    let id = TypeId::of::<T>();
    let value: Box<dyn Any> = if id == TypeId::of::<Vec<u8>>() {
        Box::new(bytes)
    } else if id == TypeId::of::<Box<[u8]>>() {
        Box::new(bytes.into_boxed_slice())
    } else if id == TypeId::of::<Bytes>() {
        Box::new(Bytes::from(bytes))
    } else if id == TypeId::of::<(Vec<u8>,)>() {
        Box::new((bytes,))
    } else if id == TypeId::of::<(Box<[u8]>,)>() {
        Box::new((bytes.into_boxed_slice(),))
    } else if id == TypeId::of::<(Bytes,)>() {
        Box::new((Bytes::from(bytes),))
    } else {
        return Err(MessageError::new(format!(
            "raw bytes sent for a `{}`",
            std::any::type_name::<T>()
        )));
    };
    downcast(value)
}

fn downcast<T: 'static>(value: Box<dyn Any>) -> Result<T, MessageError> {
    value
        .downcast::<T>()
        .map(|value| *value)
        .map_err(|_| MessageError::new("a byte buffer of another type".to_owned()))
}

/// An empty buffer with room for `len` bytes, on huge pages when it is
/// big: a fresh buffer of many megabytes otherwise costs more in page
/// faults than in the copy itself.
pub(super) fn sized(len: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(len);
    crate::sys::memory::prefer_huge_pages(&mut buffer);
    buffer
}
