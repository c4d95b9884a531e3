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
    panic_as_error(|| encode_unguarded(value, route))
}

/// Runs an encoder, a panic in the value's own `Serialize` its error.
fn panic_as_error<R>(
    encode: impl FnOnce() -> Result<R, super::CodecError>,
) -> Result<R, super::CodecError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(encode)).unwrap_or_else(|panic| {
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
    let form = Form::of(value);
    if route == Route::MayShare {
        if let Some(message) = form.straight_to_shared(value) {
            return Ok(message);
        }
    }
    let mut wire = match form {
        Form::Bytes(bytes) => Vec::with_capacity(bytes.len() + 1),
        Form::Small | Form::BigBytes => Vec::with_capacity(32),
        // Bitcode's own vector is taken as it is.
        Form::Other => Vec::new(),
    };
    write_inline(value, form, &mut wire)?;
    // Few values may still be many bytes (one long string): those go
    // through shared memory as any other big value does.
    if route == Route::MayShare && wire.len() > SHARED_FROM {
        if let Some((&inline, value)) = wire.split_last() {
            let in_shared = match inline {
                INLINE_BYTES => SHARED_BYTES,
                INLINE_POSTCARD => SHARED_POSTCARD,
                _ => SHARED,
            };
            if let Some(lent) = payload::store(&[value]) {
                return Ok(shared(in_shared, lent));
            }
        }
    }
    Ok(Message {
        wire,
        lent: Lent::default(),
    })
}

/// Appends `value` to `wire` as an inline message (what [`encode`] makes
/// with [`Route::InlineOnly`]), after what `wire` holds: a message to an
/// MPI rank is written straight into the frame that carries it. On an
/// error, `wire` is as it was.
pub(crate) fn encode_inline_into<T: Serialize + 'static>(
    value: &T,
    wire: &mut Vec<u8>,
) -> Result<(), super::CodecError> {
    let start = wire.len();
    let written = panic_as_error(|| write_inline(value, Form::of(value), wire));
    if written.is_err() {
        wire.truncate(start);
    }
    written
}

/// How a value is written, as its encoder found it.
#[derive(Clone, Copy)]
enum Form<'v> {
    /// A byte buffer of the fast path, as its bytes.
    Bytes(&'v [u8]),
    /// Postcard: a small value ...
    Small,
    /// ... or one carrying a big byte string whose fields are all written.
    BigBytes,
    /// Bitcode: anything else.
    Other,
}

impl<'v> Form<'v> {
    fn of<T: Serialize + 'static>(value: &'v T) -> Self {
        if let Some(bytes) = as_bytes(value) {
            return Form::Bytes(bytes);
        }
        match super::probe::shape(value) {
            Shape::Small => Form::Small,
            // Postcard walks the whole value twice anyway (its size, its
            // bytes), so one more walk to refuse a skipped field costs less
            // than either.
            Shape::BigBytes if !super::probe::skips_a_field(value) => Form::BigBytes,
            _ => Form::Other,
        }
    }

    /// A big value written straight into a block of shared memory (one
    /// copy), if the arena has room: a byte buffer, or a value with a big
    /// byte string, whose postcard is sized first.
    fn straight_to_shared<T: Serialize + 'static>(self, value: &T) -> Option<Message> {
        match self {
            Form::Bytes(bytes) if bytes.len() >= SHARED_FROM => {
                payload::store(&[bytes]).map(|lent| shared(SHARED_BYTES, lent))
            }
            Form::BigBytes => {
                let size = postcard::ser_flavors::Size::default();
                let len = postcard::serialize_with_flavor::<T, _, usize>(value, size).ok()?;
                if len < SHARED_FROM {
                    return None;
                }
                let lent = payload::store_with(len, |block| {
                    postcard::to_slice(value, block).is_ok_and(|written| written.len() == len)
                })?;
                Some(shared(SHARED_POSTCARD, lent))
            }
            _ => None,
        }
    }
}

/// Appends `value`'s bytes in `form`, then the byte that names the form.
fn write_inline<T: Serialize + 'static>(
    value: &T,
    form: Form<'_>,
    wire: &mut Vec<u8>,
) -> Result<(), super::CodecError> {
    match form {
        Form::Bytes(bytes) => {
            wire.extend_from_slice(bytes);
            wire.push(INLINE_BYTES);
            return Ok(());
        }
        Form::Small | Form::BigBytes => {
            // A value postcard cannot write (a sequence of unknown length)
            // goes on to bitcode, which refuses it with an error too.
            let start = wire.len();
            if postcard::to_extend(value, Append(wire)).is_ok() {
                wire.push(INLINE_POSTCARD);
                return Ok(());
            }
            wire.truncate(start);
        }
        Form::Other => {}
    }
    let encoded = super::encode(value)?;
    if wire.is_empty() {
        *wire = encoded;
    } else {
        wire.extend_from_slice(&encoded);
    }
    wire.push(INLINE);
    Ok(())
}

/// A vector that postcard appends to.
struct Append<'a>(&'a mut Vec<u8>);

impl Extend<u8> for Append<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        self.0.extend(bytes);
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
/// decode as a `T`. A panic in the value's own `Deserialize` is an error,
/// as one in its `Serialize` is ([`encode`]): decoding runs on a pool's
/// driver, a queue's reader or a caller's thread, which all go on.
pub(crate) fn decode<T: DeserializeOwned + 'static>(wire: &[u8]) -> Result<T, MessageError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode_unguarded(wire)))
        .unwrap_or_else(|panic| {
            Err(MessageError::new(format!(
                "decoding it panicked: {}",
                crate::task::unwind::payload_message(&*panic)
            )))
        })
}

fn decode_unguarded<T: DeserializeOwned + 'static>(wire: &[u8]) -> Result<T, MessageError> {
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

    /// `value` goes through shared memory exactly when its inline bytes
    /// (less the form's byte) are [`SHARED_FROM`] or more, in the shared
    /// twin of its inline form, and reads back either way.
    fn shares_from_the_same_size<T>(value: &T) -> bool
    where
        T: Serialize + DeserializeOwned + std::fmt::Debug + PartialEq + 'static,
    {
        let inline = encode(value, Route::InlineOnly).unwrap();
        let (&inline_form, payload) = inline.wire.split_last().unwrap();
        let message = encode(value, Route::MayShare).unwrap();
        let shared = message.lent.is_shared();
        assert_eq!(
            shared,
            payload.len() >= SHARED_FROM,
            "{} bytes",
            payload.len()
        );
        let form = *message.wire.last().unwrap();
        let expected = match (inline_form, shared) {
            (form, false) => form,
            (INLINE_BYTES, true) => SHARED_BYTES,
            (INLINE_POSTCARD, true) => SHARED_POSTCARD,
            (_, true) => SHARED,
        };
        assert_eq!(form, expected, "{} bytes", payload.len());
        message.lent.hand_over();
        assert_eq!(&decode::<T>(&message.wire).unwrap(), value);
        shared
    }

    #[test]
    fn every_form_goes_to_shared_memory_from_the_same_size() {
        // A byte buffer as it is; one long string (postcard, small); a
        // struct with a big byte string (postcard, sized first); a map
        // (bitcode): each just under and at the threshold.
        for len in [SHARED_FROM - 1, SHARED_FROM] {
            assert_eq!(
                shares_from_the_same_size(&vec![7_u8; len]),
                len == SHARED_FROM
            );
        }
        let mut crossed = [false; 3];
        for len in SHARED_FROM - 8..SHARED_FROM + 8 {
            let text = "x".repeat(len);
            crossed[0] |= shares_from_the_same_size(&text);
            let frame = Frame {
                id: 3,
                data: vec![5; len],
            };
            crossed[1] |= shares_from_the_same_size(&frame);
        }
        let map = |n: u32| -> std::collections::BTreeMap<u32, u64> {
            (0..n).map(|i| (i, u64::from(i) << 40)).collect()
        };
        let inline_len = |n| encode(&map(n), Route::InlineOnly).unwrap().wire.len() - 1;
        // The fewest entries whose bitcode reaches the threshold.
        let (mut low, mut high) = (1_u32, 1 << 20);
        while low < high {
            let mid = low + (high - low) / 2;
            if inline_len(mid) >= SHARED_FROM {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        for n in low.saturating_sub(2)..low + 2 {
            crossed[2] |= shares_from_the_same_size(&map(n));
        }
        assert_eq!(crossed, [true; 3], "each form crossed the threshold");
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

    /// Written after `head` by `encode_inline_into`: the same bytes as
    /// `encode` makes inline, and read back by `decode`.
    fn appended<T>(value: &T) -> T
    where
        T: Serialize + DeserializeOwned + std::fmt::Debug + PartialEq + 'static,
    {
        let mut wire = b"head".to_vec();
        encode_inline_into(value, &mut wire).unwrap();
        assert_eq!(&wire[..4], b"head");
        assert_eq!(wire[4..], encode(value, Route::InlineOnly).unwrap().wire);
        decode(&wire[4..]).unwrap()
    }

    /// A struct with a byte field for serde's bytes path.
    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Frame {
        id: u32,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn a_value_appended_inline_reads_back_and_a_failure_leaves_what_was_there() {
        // Each form: bytes as they are, a small value's postcard, a big
        // byte string's postcard, bitcode.
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(appended(&bytes), bytes);
        assert_eq!(
            appended(&(7_u64, "seven".to_owned())),
            (7, "seven".to_owned())
        );
        let frame = Frame {
            id: 3,
            data: vec![9; 64 * 1024],
        };
        assert_eq!(appended(&frame), frame);
        let map: std::collections::BTreeMap<u32, String> =
            (0..40).map(|i| (i, i.to_string())).collect();
        assert_eq!(appended(&map), map);
        // Bitcode panics on it inside: an error, and the head stays as it was.
        let mut wire = b"head".to_vec();
        assert!(encode_inline_into(&Unsized, &mut wire).is_err());
        assert_eq!(wire, b"head");
    }

    /// Its `Deserialize` panics.
    #[derive(Debug, Serialize)]
    struct Explosive(u32);

    impl<'de> serde::Deserialize<'de> for Explosive {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            panic!("Explosive blows up as it is read")
        }
    }

    #[test]
    fn a_panic_in_a_values_deserialize_is_an_error() {
        let message = encode(&Explosive(1), Route::InlineOnly).unwrap();
        let error = decode::<Explosive>(&message.wire).unwrap_err();
        assert!(
            error.to_string().contains("blows up as it is read"),
            "{error}"
        );
    }
}
