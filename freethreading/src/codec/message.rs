//! A message: what crosses a process boundary as one value (a task's
//! arguments, a chunk, a result, an error), in one of four forms named by
//! its last byte (last, so that marking a message appends a byte to the
//! encoder's output rather than copying the whole of it behind a first one):
//!
//! - `INLINE`: the value's bitcode;
//! - `INLINE_POSTCARD`: the value's postcard, for a value that carries a big
//!   byte string through serde's bytes path ([`probe`](super::probe): a
//!   `#[serde(with = "serde_bytes")]` field), which postcard copies in one
//!   go where bitcode visits every byte; and for a small value (a few
//!   integers or strings: a quick task's arguments or result), which
//!   postcard writes and reads in a seventh of bitcode's time;
//! - `INLINE_BYTES`: the value is a byte buffer of the fast path
//!   ([`buffers`](super::buffers): `Vec<u8>`, `Box<[u8]>`, `bytes::Bytes`,
//!   or a one-element tuple of one), its bytes as they are: one copy, where
//!   serde would visit every byte;
//! - `SHARED`, `SHARED_BYTES`, `SHARED_POSTCARD`: the same, from [`SHARED_FROM`] bytes up, in a
//!   block of the shared-memory arena ([`crate::shared::payload`]), whose
//!   reference is the message. The receiver reads the value from its own
//!   mapping and frees the block, so big payloads are copied once per side,
//!   never through the socket; a `Bytes` receiver copies nothing and keeps
//!   the block until the `Bytes` is dropped. Without an arena, or with it
//!   full, a big message goes inline. A big byte buffer given away
//!   ([`encode_owned`]: a pool call's arguments, a task's result) is *streamed*: its
//!   reference is sent before its bytes are written, and the sender's
//!   [`Lent::fill`] writes them while the receiver copies them out.

use std::fmt;
use std::io;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::buffers::{Owned, as_bytes, from_bytes, from_held, from_vec, holds_in_place, sized};
use super::probe::Shape;
use crate::shared::payload::{self, PayloadRef, Stream};

const INLINE: u8 = 0;
const INLINE_BYTES: u8 = 1;
const SHARED: u8 = 2;
const SHARED_BYTES: u8 = 3;
const INLINE_POSTCARD: u8 = 4;
const SHARED_POSTCARD: u8 = 5;

/// From how many bytes a message goes through shared memory: below this,
/// one copy into the socket costs less than a block's allocation, the
/// reference and its validation.
pub(crate) const SHARED_FROM: usize = 256 * 1024;

/// An encoded message: the bytes to send, and the arena block they lend if
/// the value went through shared memory.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) wire: Vec<u8>,
    pub(crate) lent: Lent,
}

/// The block a sent message lends its receiver, freed when this is dropped
/// unless [handed over](Lent::hand_over): a sender keeps it while the
/// message may still be read (a job until its reply or its worker's death),
/// and whichever of it and the receiver frees the block first does.
///
/// A [streamed](payload::stream) message's block is written after the
/// message is sent: [`fill`](Lent::fill) copies its bytes in. Dropped
/// unfilled, it gives the stream up (its receiver fails rather than waits)
/// before it frees the block.
#[derive(Default)]
#[must_use = "dropping it frees the block the message names"]
pub(crate) struct Lent {
    block: Option<PayloadRef>,
    fill: Option<Fill>,
}

/// What a streamed message's block is still to be filled with.
struct Fill {
    source: Box<dyn AsRef<[u8]> + Send>,
    stream: Stream,
}

impl Lent {
    /// Writes a streamed message's bytes into its block, publishing them as
    /// they go, once the message is sent (so that the receiver copies them
    /// out behind this); nothing for any other message, or a second time.
    pub(crate) fn fill(&mut self) {
        if let Some(Fill { source, stream }) = self.fill.take() {
            stream.write((*source).as_ref());
        }
    }

    /// Leaves the block to the receiver alone, who frees it once read (or,
    /// if this process dies first, whoever reports its death); a streamed
    /// message is filled first.
    pub(crate) fn hand_over(mut self) {
        self.fill();
        self.block = None;
    }

    /// Makes the block nobody's, so that this process's death no longer
    /// frees it: for a queue item, which must outlive its producer. Done
    /// before the item is placed (a death in between leaks the block rather
    /// than freeing one the queue holds); still freed if this is dropped,
    /// for an item never placed. (A queue item is never streamed.)
    pub(crate) fn disown(&self) {
        if let Some(block) = &self.block {
            block.disown();
        }
    }

    /// Whether the message went through shared memory.
    #[cfg(all(test, process_backend))]
    pub(crate) fn is_shared(&self) -> bool {
        self.block.is_some()
    }

    /// Whether the message is streamed and not yet [filled](Self::fill).
    pub(crate) fn is_unfilled(&self) -> bool {
        self.fill.is_some()
    }
}

impl fmt::Debug for Lent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lent")
            .field("block", &self.block)
            .field("unfilled", &self.fill.is_some())
            .finish()
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        // The stream first: it must not touch the block once freed.
        drop(self.fill.take());
        if let Some(block) = self.block.take() {
            block.release();
        }
    }
}

/// Whether a message may go through shared memory: not one sent to more
/// than one receiver (an initializer's arguments, read by every worker),
/// since the first reader frees the block.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    InlineOnly,
    MayShare,
}

/// Why a message could not be read back.
#[derive(Debug)]
pub(crate) struct MessageError {
    reason: String,
    /// Whether it was a streamed payload whose sender died (or gave it
    /// up) before writing all of it.
    unwritten: bool,
}

impl MessageError {
    pub(super) fn new(reason: String) -> Self {
        MessageError {
            reason,
            unwritten: false,
        }
    }

    /// An error reading a payload from shared memory; a stream its sender
    /// left unwritten is marked so (see [`unwritten`](Self::unwritten)).
    fn reading(error: &io::Error) -> Self {
        MessageError {
            reason: error.to_string(),
            unwritten: payload::is_unwritten(error),
        }
    }

    /// Whether the message was [streamed](payload::stream) and its sender
    /// died or gave it up before writing all of it: for a reply, its
    /// worker's death, to be reported as such rather than as a bad value.
    pub(crate) fn unwritten(&self) -> bool {
        self.unwritten
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Encodes `value` as a message, taking it: a big byte buffer (from
/// [`STREAM_FROM`](payload::STREAM_FROM) bytes) is *streamed*: the message
/// names a block not yet written, and its [`Lent::fill`], run by the
/// sender once the message is sent, copies the bytes in while the receiver
/// copies them out. Anything else is as [`encode`].
pub(crate) fn encode_owned<T: Serialize + Send + 'static>(
    value: T,
    route: Route,
) -> Result<Message, super::CodecError> {
    let len = as_bytes(&value).map_or(0, <[u8]>::len);
    if route == Route::MayShare && len >= payload::STREAM_FROM {
        if let Some((block, stream)) = payload::stream(len) {
            let mut message = shared(SHARED_BYTES, block);
            message.lent.fill = Some(Fill {
                source: Box::new(Owned(value)),
                stream,
            });
            return Ok(message);
        }
    }
    encode(&value, route)
}

/// Encodes `value` as a message. A panic in the value's own `Serialize` is
/// an error, as bitcode's refusals are ([`super::encode`]).
pub(crate) fn encode<T: Serialize + 'static>(
    value: &T,
    route: Route,
) -> Result<Message, super::CodecError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        encode_unguarded(value, route)
    }))
    .unwrap_or_else(|panic| {
        Err(serde::ser::Error::custom(format_args!(
            "encoding it panicked: {}",
            crate::task::unwind::payload_message(&*panic)
        )))
    })
}

fn encode_unguarded<T: Serialize + 'static>(
    value: &T,
    route: Route,
) -> Result<Message, super::CodecError> {
    let share = route == Route::MayShare;
    if let Some(bytes) = as_bytes(value) {
        if share && bytes.len() >= SHARED_FROM {
            if let Some(lent) = payload::store(&[bytes]) {
                return Ok(shared(SHARED_BYTES, lent));
            }
        }
        let mut wire = Vec::with_capacity(bytes.len() + 1);
        wire.extend_from_slice(bytes);
        wire.push(INLINE_BYTES);
        return Ok(Message {
            wire,
            lent: Lent::default(),
        });
    }
    let form = super::probe::shape(value);
    if form == Shape::Small {
        // A value postcard cannot write (a sequence of unknown length) goes
        // on to bitcode, which refuses it with an error too.
        // Few values may still be many bytes (one long string): those go
        // through shared memory as any other big value does.
        if let Ok(wire) = postcard::to_extend(value, Vec::with_capacity(32)) {
            return Ok(finish(wire, (INLINE_POSTCARD, SHARED_POSTCARD), share));
        }
    }
    // Postcard walks the whole value twice anyway (its size, its bytes), so
    // one more walk to refuse a skipped field costs less than either.
    if form == Shape::BigBytes && !super::probe::skips_a_field(value) {
        // A value postcard cannot write (a sequence of unknown length) goes
        // on to bitcode, which refuses it with an error too.
        let size = postcard::ser_flavors::Size::default();
        if let Ok(len) = postcard::serialize_with_flavor::<T, _, usize>(value, size) {
            // Big: written straight into shared memory, one copy.
            if share && len >= SHARED_FROM {
                let stored = payload::store_with(len, |block| {
                    postcard::to_slice(value, block).is_ok_and(|written| written.len() == len)
                });
                if let Some(lent) = stored {
                    return Ok(shared(SHARED_POSTCARD, lent));
                }
            }
            if let Ok(wire) = postcard::to_allocvec(value) {
                return Ok(finish(wire, (INLINE_POSTCARD, SHARED_POSTCARD), share));
            }
        }
    }
    Ok(finish(super::encode(value)?, (INLINE, SHARED), share))
}

/// The message of an encoded value: through shared memory if it may and is
/// big (and the arena has room), else inline.
fn finish(mut wire: Vec<u8>, (inline, in_shared): (u8, u8), share: bool) -> Message {
    if share && wire.len() >= SHARED_FROM {
        if let Some(lent) = payload::store(&[&wire]) {
            return shared(in_shared, lent);
        }
    }
    wire.push(inline);
    Message {
        wire,
        lent: Lent::default(),
    }
}

fn shared(form: u8, lent: PayloadRef) -> Message {
    let mut wire = Vec::with_capacity(payload::REF_LEN + 1);
    wire.extend_from_slice(&lent.to_bytes());
    wire.push(form);
    Message {
        wire,
        lent: Lent {
            block: Some(lent),
            fill: None,
        },
    }
}

/// Decodes a message; a block it names is freed, whether or not its bytes
/// decode as a `T`.
pub(crate) fn decode<T: DeserializeOwned + 'static>(wire: &[u8]) -> Result<T, MessageError> {
    let (&form, rest) = wire
        .split_last()
        .ok_or_else(|| MessageError::new("an empty message".to_owned()))?;
    match form {
        INLINE => super::decode(rest).map_err(|e| MessageError::new(e.to_string())),
        INLINE_BYTES => from_bytes(rest),
        INLINE_POSTCARD => from_postcard(rest),
        SHARED | SHARED_BYTES | SHARED_POSTCARD => {
            let lent = PayloadRef::from_bytes(rest).ok_or_else(|| {
                MessageError::new("a truncated shared-memory reference".to_owned())
            })?;
            if form == SHARED_BYTES && holds_in_place::<T>() {
                let held = lent.take().map_err(|e| MessageError::reading(&e))?;
                return from_held(held);
            }
            if form == SHARED_BYTES {
                // Copied out part by part, behind a streaming sender.
                let mut buffer = sized(usize::try_from(lent.len()).unwrap_or(0));
                lent.read_streamed(|part| buffer.extend_from_slice(part))
                    .map_err(|e| MessageError::reading(&e))?;
                return from_vec(buffer);
            }
            lent.read(|bytes| match form {
                SHARED => super::decode(bytes).map_err(|e| MessageError::new(e.to_string())),
                SHARED_POSTCARD => from_postcard(bytes),
                _ => from_bytes(bytes),
            })
            .map_err(|e| MessageError::reading(&e))?
        }
        other => Err(MessageError::new(format!(
            "a message of unknown form {other}"
        ))),
    }
}

/// A value read from all of `bytes`: a byte left over means the bytes were
/// not written as a `T` (postcard does not describe itself), an error
/// rather than a value read from the wrong bytes.
fn from_postcard<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, MessageError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(MessageError::new(format!(
            "{} bytes left over after the value: not written as this type",
            rest.len()
        ))),
        Err(e) => Err(MessageError::new(e.to_string())),
    }
}

/// How many bytes a message carries: its own length, or for one in shared
/// memory the length of the payload it names (what a limit on messages
/// must count).
pub(crate) fn carried_len(wire: &[u8]) -> usize {
    match wire.split_last() {
        Some((&(SHARED | SHARED_BYTES | SHARED_POSTCARD), rest))
            if rest.len() == payload::REF_LEN =>
        {
            PayloadRef::from_bytes(rest)
                .and_then(|lent| usize::try_from(lent.len()).ok())
                .map_or(wire.len(), |len| len.saturating_add(1))
        }
        _ => wire.len(),
    }
}

/// Frees the block a message names, if any, without reading it: for a
/// receiver that drops a message unread (a queue dropped with items in it,
/// the reply of a cancelled job). A streamed one is freed once its sender
/// is done writing it (never under its copy); `false` if its sender died
/// or gave it up first.
pub(crate) fn discard(wire: &[u8]) -> bool {
    if let Some((&(SHARED | SHARED_BYTES | SHARED_POSTCARD), rest)) = wire.split_last() {
        if let Some(lent) = PayloadRef::from_bytes(rest) {
            return lent.discard();
        }
    }
    true
}

#[cfg(all(test, process_backend))]
mod tests {
    use super::*;

    fn round_trip<T: Serialize + DeserializeOwned + 'static>(value: &T, route: Route) -> (T, bool) {
        let message = encode(value, route).unwrap();
        let shared = message.lent.is_shared();
        message.lent.hand_over();
        (decode(&message.wire).unwrap(), shared)
    }

    /// A struct with a byte field for serde's bytes path.
    #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Frame {
        id: u32,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn every_form_round_trips() {
        let small = vec![1_u8, 2, 3];
        assert_eq!(round_trip(&small, Route::MayShare), (small.clone(), false));
        let big: Vec<u8> = (0..SHARED_FROM + 5)
            .map(|i| (i % 251).to_le_bytes()[0])
            .collect();
        assert_eq!(round_trip(&big, Route::MayShare), (big.clone(), true));
        assert_eq!(round_trip(&big, Route::InlineOnly), (big.clone(), false));
        let boxed: Box<[u8]> = big.clone().into_boxed_slice();
        assert_eq!(
            round_trip(&(boxed.clone(),), Route::MayShare),
            ((boxed,), true)
        );
        let shared = bytes::Bytes::from(big.clone());
        assert_eq!(round_trip(&shared, Route::MayShare), (shared.clone(), true));
        assert_eq!(
            round_trip(&(shared.clone(),), Route::MayShare),
            ((shared.clone(),), true)
        );
        let inline = bytes::Bytes::from_static(b"abc");
        assert_eq!(
            round_trip(&inline, Route::MayShare),
            (inline.clone(), false)
        );
        assert_eq!(
            round_trip(&shared, Route::InlineOnly),
            (shared.clone(), false)
        );
        let words: Vec<u64> = (0..100_000).collect();
        assert_eq!(round_trip(&words, Route::MayShare), (words.clone(), true));
        for len in [100, 100_000, SHARED_FROM + 3] {
            let frame = Frame {
                id: 3,
                data: vec![5; len],
            };
            let (back, shared) = round_trip(&frame, Route::MayShare);
            assert_eq!((back, shared), (frame.clone(), len > SHARED_FROM));
            let (back, _) = round_trip(&(frame.clone(), 9_u8), Route::InlineOnly);
            assert_eq!(back, (frame, 9));
        }
        let pair = (7_u32, String::from("x"));
        assert_eq!(round_trip(&pair, Route::MayShare), (pair.clone(), false));
    }

    #[test]
    fn a_shared_message_is_read_once_and_garbage_is_an_error() {
        let message = encode(&vec![9_u8; SHARED_FROM], Route::MayShare).unwrap();
        message.lent.hand_over();
        assert_eq!(decode::<Vec<u8>>(&message.wire).unwrap().len(), SHARED_FROM);
        assert!(decode::<Vec<u8>>(&message.wire).is_err());
        assert!(decode::<Vec<u8>>(&[]).is_err());
        assert!(decode::<Vec<u8>>(&[1, 2, SHARED]).is_err());
        assert!(decode::<Vec<u8>>(&[77]).is_err());
        assert!(decode::<u32>(&[1, 2, 3, 4, INLINE_BYTES]).is_err());
        let discarded = encode(&vec![1_u8; SHARED_FROM], Route::MayShare).unwrap();
        discarded.lent.hand_over();
        discard(&discarded.wire);
        assert!(
            decode::<Vec<u8>>(&discarded.wire).is_err(),
            "discarded unread"
        );
        let dropped = encode(&vec![1_u8; SHARED_FROM], Route::MayShare).unwrap();
        drop(dropped.lent);
        assert!(
            decode::<Vec<u8>>(&dropped.wire).is_err(),
            "the sender took it back"
        );
    }

    #[test]
    fn a_big_owned_buffer_is_streamed_and_read_while_it_is_filled() {
        for len in [
            payload::STREAM_FROM - 1,
            payload::STREAM_FROM,
            (64 << 20) + 3,
        ] {
            let big: Vec<u8> = (0..len).map(|i| (i % 253).to_le_bytes()[0]).collect();
            let mut message = encode_owned((big.clone(),), Route::MayShare).unwrap();
            assert!(message.lent.is_shared());
            assert_eq!(message.lent.is_unfilled(), len >= payload::STREAM_FROM);
            let wire = message.wire.clone();
            let reader = std::thread::spawn(move || decode::<(Vec<u8>,)>(&wire));
            message.lent.fill();
            message.lent.hand_over();
            let (back,) = reader.join().unwrap().unwrap();
            assert!(back == big, "{len} bytes, byte for byte");
        }
        let inline = encode_owned((vec![1_u8; payload::STREAM_FROM],), Route::InlineOnly).unwrap();
        assert!(!inline.lent.is_shared());
        let numbers: Vec<u64> = (0..1 << 20).collect();
        let words = encode_owned(numbers.clone(), Route::MayShare).unwrap();
        assert!(words.lent.is_shared() && !words.lent.is_unfilled());
        words.lent.hand_over();
        assert_eq!(decode::<Vec<u64>>(&words.wire).unwrap(), numbers);
        // A streamed message dropped unsent gives its block back.
        let dropped = encode_owned(vec![2_u8; payload::STREAM_FROM], Route::MayShare).unwrap();
        drop(dropped.lent);
        assert!(decode::<Vec<u8>>(&dropped.wire).is_err());
    }
}

#[cfg(test)]
mod refused_shapes {
    use super::*;

    /// Postcard writes a struct without its skipped field and reads the next
    /// field's bytes in its place; bitcode refuses such a struct.
    #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Skips {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        note: Option<u32>,
        a: u8,
        b: u8,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn a_skipped_field_is_never_decoded_as_another_value() {
        for len in [16 * 1024 - 1, 16 * 1024, 300 * 1024] {
            for route in [Route::InlineOnly, Route::MayShare] {
                let value = Skips {
                    note: None,
                    a: 1,
                    b: 5,
                    data: vec![9; len],
                };
                // Refused, or decoded as itself: never as another value.
                if let Ok(message) = encode(&value, route) {
                    message.lent.hand_over();
                    if let Ok(back) = decode::<Skips>(&message.wire) {
                        assert_eq!(back, value, "a {len}-byte field");
                    }
                }
            }
        }
    }

    /// The big field first, the skipped one after it: the probe that finds
    /// the big field stops there, so the skip must be looked for on its own.
    #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
    struct SkipsLater {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        note: Option<u32>,
        a: u8,
    }

    #[test]
    fn a_field_skipped_after_a_big_one_is_never_decoded_as_another_value() {
        for route in [Route::InlineOnly, Route::MayShare] {
            let value = SkipsLater {
                data: vec![9; 300 * 1024],
                note: None,
                a: 1,
            };
            // Refused: postcard, chosen for the big field, would write the
            // struct without the skipped one and fail (or misread) it back.
            assert!(encode(&value, route).is_err());
        }
    }

    #[test]
    fn postcard_bytes_left_over_are_an_error() {
        let mut wire = postcard::to_allocvec(&7_u8).unwrap();
        wire.push(3);
        assert!(from_postcard::<u8>(&wire).is_err());
    }

    /// A sequence of unknown length: bitcode panics on it inside; the codec
    /// reports an error instead.
    struct Unsized;

    impl Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq((0..3_u8).filter(|x| x % 2 == 0))
        }
    }

    #[test]
    fn a_sequence_of_unknown_length_is_an_error_not_a_panic() {
        let result = std::panic::catch_unwind(|| encode(&Unsized, Route::InlineOnly).map(|_| ()));
        let encoded = result.expect("encoding must not panic");
        assert!(encoded.is_err());
    }
}
