//! Big messages through the arena: a sender copies the bytes into a block
//! of kind `PAYLOAD` and sends only a [`PayloadRef`] (arena id, offset, tag,
//! length) over the channel; the receiver reads them from its own mapping
//! and frees the block. So a big payload is copied once on each side, never
//! pushed through the socket, and the pages of a block given back are
//! reused by the next payload of its size class without faulting again.
//!
//! Ownership, so that no block is lost and none is freed under a reader:
//! - the receiver frees the block once it has read it ([`PayloadRef::read`]);
//! - a sender that learns its message will never be read (a job whose child
//!   died, a job dropped unsent) frees it with [`PayloadRef::release`];
//! - blocks a dead process allocated and never handed over are found by
//!   their owner's token and freed when its death is reported ([`reclaim`]).
//!
//! Freeing is a compare-and-swap of the block's tag (`Arena::free_tagged`),
//! so of a receiver and a sender that both free one block, exactly one
//! does, and a stale reference fails validation rather than reading another
//! payload.
//!
//! The bytes are plain memory, not atomics as in a queue's segments:
//! between the allocation and the free a block is reached only through its
//! one reference, written by the sender before it sends the reference and
//! read by the receiver after it arrives (the channel's system calls order
//! the two), so no two processes ever touch the same bytes at once.
//!
//! A *streamed* payload ([`stream`], from [`STREAM_FROM`] bytes: a task's
//! big byte-buffer arguments or result) is the exception to "written before sent":
//! its reference goes out first (marked streamed), then the sender copies
//! the bytes in a slice at a time, publishing after each slice how many
//! are written in a counter at the block's start (a release store), and
//! never waits for the receiver; the receiver copies out each part once
//! the counter shows it (an acquire load), polling, yielding, then napping.
//! Sender and receiver then touch the block at once, but never the same
//! bytes: the receiver reads only bytes below the count it acquired, which
//! the sender wrote before publishing it and never writes again, while the
//! sender writes only at or above the count; so there is no data race, and
//! the release/acquire pair makes the bytes below the count visible. The
//! freeing rules stay as above: the receiver frees the block once it has
//! read all of it, that is, after the sender's last write; a sender frees
//! it only when the message will not be read, having given the stream up
//! first (its counter set to "abandoned", so that a receiver fails rather
//! than waits), never while its own copy runs. A sender that dies mid-copy
//! never publishes the rest: its receiver, looking between naps, sees the
//! block's owner dead (or the block freed by the death's reclaim) and fails
//! the read, dropping what it had copied, so a torn value is never
//! delivered. A receiver that drops such a payload unread
//! ([`PayloadRef::discard`]) frees it only once it is written whole (or its
//! sender is gone), never under the sender's copy. Only the sender that
//! allocates the block writes its counter.
//! A queue item is never streamed: its getter may come much later, and
//! its producer must be done with it once `put` returns.

use std::io;

use super::arena::kind;
use super::{Arena, global, members};

#[path = "payload_stream.rs"]
mod streamed;

use streamed::{PROGRESS_ROOM, PROGRESS_ROOM_BYTES, STREAMED, sender_died};
#[cfg(all(test, process_backend))]
use streamed::{SLICE, stream_owned_by};
pub(crate) use streamed::{STREAM_FROM, Stream, is_unwritten, stream};

/// Where a payload lies in the arena, as sent over a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PayloadRef {
    arena: u64,
    offset: u64,
    tag: u64,
    len: u64,
    /// Whether the payload is [streamed](stream): sent before it is written.
    streamed: bool,
}

/// The length of a [`PayloadRef`] in [`to_bytes`](PayloadRef::to_bytes).
pub(crate) const REF_LEN: usize = 32;

/// Copies the concatenation of `parts` into a new block of this process's
/// arena; `None` when there is no arena or it has no room, for the caller to
/// send the bytes inline instead.
pub(crate) fn store(parts: &[&[u8]]) -> Option<PayloadRef> {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    store_with(len, |block| {
        let mut at = 0;
        for part in parts {
            block[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        true
    })
}

/// Has `write` fill a new block of `len` bytes in place (an encoder that
/// writes straight into shared memory, rather than into a buffer then
/// copied); `None` when there is no arena, it has no room, or `write`
/// returns `false`, for the caller to send the value inline instead.
pub(crate) fn store_with(len: usize, write: impl FnOnce(&mut [u8]) -> bool) -> Option<PayloadRef> {
    let arena = global().ok()?;
    let block = arena.alloc_dirty(kind::PAYLOAD, len as u64, members::me())?;
    let payload = PayloadRef {
        arena: arena.id(),
        offset: block.offset,
        tag: block.tag,
        len: len as u64,
        streamed: false,
    };
    let written = checked_bytes(arena, &payload).is_some_and(|base| {
        // SAFETY: `base` starts `len` bytes of the block (checked by
        // `checked_bytes`), which this process allocated and nobody else
        // can reach before the reference is sent; the slice is gone when
        // `write` returns.
        let bytes = unsafe { std::slice::from_raw_parts_mut(base, len) };
        write(bytes)
    });
    if !written {
        arena.free_tagged(block.offset, block.tag);
        return None;
    }
    Some(payload)
}

/// The start of the payload's bytes, if the block is a payload block with
/// its tag and holds `len` bytes (behind the progress word if streamed).
fn checked_bytes(arena: &Arena, payload: &PayloadRef) -> Option<*mut u8> {
    if payload.arena != arena.id() {
        return None;
    }
    let (base, room) = arena.bytes_tagged(payload.offset, kind::PAYLOAD, payload.tag)?;
    if !payload.streamed {
        return (payload.len <= room).then_some(base);
    }
    (payload.len.checked_add(PROGRESS_ROOM)? <= room).then(|| {
        // SAFETY: the block holds `PROGRESS_ROOM + len` bytes (checked), so
        // the pointer stays inside it.
        unsafe { base.add(PROGRESS_ROOM_BYTES) }
    })
}

fn stale() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a stale or invalid reference to a payload in shared memory",
    )
}

impl PayloadRef {
    /// Runs `read` on the payload's bytes, then frees its block.
    ///
    /// # Errors
    ///
    /// The reference is stale or garbage: another arena, a freed block, a
    /// length past the block.
    /// A streamed payload is read once its sender has written all of it.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        let arena = global()?;
        let base = checked_bytes(arena, self).ok_or_else(stale)?;
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        if let Err(error) = self.wait_past(arena, len.saturating_sub(1)) {
            arena.free_tagged(self.offset, self.tag);
            return Err(error);
        }
        // SAFETY: `base` starts `len` bytes inside the mapping (checked);
        // the block is this reference's alone until it is freed below, and
        // its sender wrote it before sending the reference, or (streamed)
        // before publishing all of it (see the module).
        let bytes = unsafe { std::slice::from_raw_parts(base.cast_const(), len) };
        // Freed even if `read` (a user's `Deserialize`) panics.
        let guard = FreeOnDrop(arena, self);
        let result = read(bytes);
        if !guard.free() && self.streamed {
            return Err(sender_died());
        }
        Ok(result)
    }

    /// Takes the payload over where it lies, for reading in place for as
    /// long as the returned [`HeldPayload`] lives: a receive without a
    /// copy. The block gets a fresh tag and this process as its owner, so
    /// that neither its sender's [`release`](Self::release) nor its
    /// sender's death frees it under the reader; dropping the
    /// `HeldPayload` frees it (and this process's death does).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    /// A streamed payload is taken once its sender has written all of it.
    pub(crate) fn take(&self) -> io::Result<HeldPayload> {
        let arena = global()?;
        let base = checked_bytes(arena, self).ok_or_else(stale)?;
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        if let Err(error) = self.wait_past(arena, len.saturating_sub(1)) {
            arena.free_tagged(self.offset, self.tag);
            return Err(error);
        }
        let tag = arena
            .take_over(self.offset, self.tag, members::me())
            .ok_or_else(stale)?;
        Ok(HeldPayload {
            base,
            len,
            offset: self.offset,
            tag,
        })
    }

    /// Frees the block if nobody has yet: for a sender whose message will
    /// never be read.
    pub(crate) fn release(&self) {
        if let Ok(arena) = global() {
            if arena.id() == self.arena {
                arena.free_tagged(self.offset, self.tag);
            }
        }
    }

    /// How many bytes the payload holds.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Makes the block nobody's, so that the death of the process that
    /// allocated it no longer frees it: for a payload that outlives its
    /// sender (a queue item).
    pub(crate) fn disown(&self) {
        if let Ok(arena) = global() {
            if arena.id() == self.arena {
                arena.set_owner(self.offset, self.tag, 0);
            }
        }
    }

    /// Where the payload starts in the arena, for a test that checks which
    /// block a payload took.
    #[cfg(all(test, process_backend))]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The fixed-size form sent in a message.
    pub(crate) fn to_bytes(self) -> [u8; REF_LEN] {
        let mut bytes = [0; REF_LEN];
        let len = if self.streamed {
            self.len | STREAMED
        } else {
            self.len
        };
        for (i, word) in [self.arena, self.offset, self.tag, len]
            .into_iter()
            .enumerate()
        {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    /// Reads [`to_bytes`](Self::to_bytes)'s form; `None` if too short.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<PayloadRef> {
        let word = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        let len = word(3)?;
        Some(PayloadRef {
            arena: word(0)?,
            offset: word(1)?,
            tag: word(2)?,
            len: len & !STREAMED,
            streamed: len & STREAMED != 0,
        })
    }
}

/// Frees a payload's block when dropped: after [`PayloadRef::read`]'s
/// reader, however it ends.
struct FreeOnDrop<'a>(&'a Arena, &'a PayloadRef);

impl FreeOnDrop<'_> {
    /// Frees the block now: `false` if it was not this reference's any more
    /// (a streamed one whose sender died or gave up, reclaimed meanwhile).
    fn free(self) -> bool {
        let freed = self.0.free_tagged(self.1.offset, self.1.tag);
        std::mem::forget(self);
        freed
    }
}

impl Drop for FreeOnDrop<'_> {
    fn drop(&mut self) {
        self.0.free_tagged(self.1.offset, self.1.tag);
    }
}

/// A payload this process [took over](PayloadRef::take): its bytes, read
/// where they lie in the arena, until this is dropped, which frees the
/// block. What a `bytes::Bytes` received from shared memory owns.
pub(crate) struct HeldPayload {
    base: *mut u8,
    len: usize,
    offset: u64,
    tag: u64,
}

// SAFETY: the bytes are in the arena's mapping, which lives as long as the
// process (`global` never unmaps it), and nothing else in any process
// reaches the block while this holds its tag (see the module); so the
// handle may move to, and be read from, any thread.
unsafe impl Send for HeldPayload {}
// SAFETY: as for `Send`; `HeldPayload` only ever reads the bytes.
unsafe impl Sync for HeldPayload {}

impl AsRef<[u8]> for HeldPayload {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base` starts `len` bytes inside the mapping (checked by
        // `PayloadRef::take`), in a block this process alone holds until
        // `drop` frees it; its sender wrote them before sending the
        // reference, and nobody writes them again while it is held.
        unsafe { std::slice::from_raw_parts(self.base.cast_const(), self.len) }
    }
}

impl Drop for HeldPayload {
    fn drop(&mut self) {
        if let Ok(arena) = global() {
            arena.free_tagged(self.offset, self.tag);
        }
    }
}

/// Frees the payload blocks the dead process of `token` allocated and never
/// had read: a message it was writing, or one whose reader died with it.
pub(crate) fn reclaim(arena: &Arena, token: u32) {
    for (offset, tag) in arena.blocks_of(kind::PAYLOAD, token) {
        arena.free_tagged(offset, tag);
    }
}

#[cfg(all(test, process_backend))]
#[path = "payload_tests.rs"]
mod tests;
