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
//! big byte-buffer arguments) is the exception to "written before sent":
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
//! delivered. Only the sender that allocates the block writes its counter.
//! A queue item is never streamed: its getter may come much later, and
//! its producer must be done with it once `put` returns.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::arena::kind;
use super::spin::Spin;
use super::{Arena, global, members};

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

/// From how many bytes an owned byte buffer is [streamed](stream): below
/// this, the copy in is over before the receiver could start.
pub(crate) const STREAM_FROM: usize = 4 << 20;

/// How many bytes a streaming sender copies between two publications.
const SLICE: usize = 1 << 20;

/// The bit of a sent reference's length that marks it streamed.
const STREAMED: u64 = 1 << 63;

/// The room before a streamed payload's bytes: its progress word, on a
/// cache line of its own.
const PROGRESS_ROOM: u64 = 64;
const PROGRESS_ROOM_BYTES: usize = 64;

/// The progress of a stream whose sender gave it up unwritten.
const ABANDONED: u64 = u64::MAX;

fn sender_died() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the sender of a payload died before writing it all",
    )
}

/// Allocates a block for a payload of `len` bytes to be written *after*
/// its reference is sent: the receiver copies each part out as soon as
/// the returned [`Stream`] has published it. `None` as for [`store`].
pub(crate) fn stream(len: usize) -> Option<(PayloadRef, Stream)> {
    stream_owned_by(len, members::me())
}

fn stream_owned_by(len: usize, owner: u32) -> Option<(PayloadRef, Stream)> {
    let arena = global().ok()?;
    let room = (len as u64).checked_add(PROGRESS_ROOM)?;
    let block = arena.alloc_dirty(kind::PAYLOAD, room, owner)?;
    let payload = PayloadRef {
        arena: arena.id(),
        offset: block.offset,
        tag: block.tag,
        len: len as u64,
        streamed: true,
    };
    let (Some(base), Some(progress)) = (checked_bytes(arena, &payload), arena.word(block.offset))
    else {
        arena.free_tagged(block.offset, block.tag);
        return None;
    };
    // A reused block keeps its last count: nothing is published yet. The
    // reference's sending orders this before the receiver's first look.
    progress.store(0, Ordering::Relaxed);
    Some((
        payload,
        Stream {
            base,
            len,
            progress,
            written: false,
        },
    ))
}

/// The writing end of a [streamed](stream) payload: [`write`](Self::write)
/// copies the bytes in, publishing each slice; dropped unwritten, it
/// tells the receiver so, which then fails rather than waits.
pub(crate) struct Stream {
    base: *mut u8,
    len: usize,
    progress: &'static AtomicU64,
    written: bool,
}

// SAFETY: the block lies in the arena's mapping, which lives as long as
// the process; only this handle writes it (see the module), from whichever
// thread holds it.
unsafe impl Send for Stream {}

impl Stream {
    /// Copies `bytes` (the payload's length) into the block, a slice at a
    /// time, publishing each as it is done; never waits for the receiver.
    /// Bytes of another length give the stream up.
    pub(crate) fn write(mut self, bytes: &[u8]) {
        if bytes.len() != self.len {
            return;
        }
        self.write_up_to(bytes, self.len, || {});
        self.written = true;
    }

    /// Copies `bytes[..end]` in, from where `published` says it stopped,
    /// a slice at a time, running `between` after each publication.
    fn write_up_to(&mut self, bytes: &[u8], end: usize, mut between: impl FnMut()) {
        let end = end.min(self.len).min(bytes.len());
        let mut at = usize::try_from(self.progress.load(Ordering::Relaxed)).unwrap_or(end);
        while at < end {
            let next = (at + SLICE).min(end);
            // SAFETY: `[at, next)` lies inside the block's `len` bytes
            // (checked by `checked_bytes` at `stream`), at or above what
            // was published, so no reader looks at it yet.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes[at..next].as_ptr(),
                    self.base.add(at),
                    next - at,
                );
            }
            // Release: a reader that sees `next` sees the bytes below it.
            self.progress.store(next as u64, Ordering::Release);
            at = next;
            between();
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if !self.written {
            self.progress.store(ABANDONED, Ordering::Release);
        }
    }
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
        let result = read(bytes);
        if !arena.free_tagged(self.offset, self.tag) && self.streamed {
            return Err(sender_died());
        }
        Ok(result)
    }

    /// Runs `each` on the payload's bytes in order, a part at a time as its
    /// sender publishes them (all at once if it is not streamed), then
    /// frees the block: the receiver copies behind the sender.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); and for a streamed payload, its sender died
    /// or gave up before writing all of it (the parts seen so far are then
    /// a torn value, for the caller to drop).
    pub(crate) fn read_streamed(&self, mut each: impl FnMut(&[u8])) -> io::Result<()> {
        let arena = global()?;
        let base = checked_bytes(arena, self).ok_or_else(stale)?;
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        let mut seen = 0;
        while seen < len {
            let ready = match self.wait_past(arena, seen) {
                Ok(ready) => ready,
                Err(error) => {
                    arena.free_tagged(self.offset, self.tag);
                    return Err(error);
                }
            };
            // SAFETY: `[seen, ready)` lies inside the block's `len` bytes
            // (checked; `ready <= len`); the sender wrote them before it
            // published `ready` (acquired in `wait_past`) and never writes
            // them again, and nobody frees the block before this reader
            // (see the module).
            let part =
                unsafe { std::slice::from_raw_parts(base.add(seen).cast_const(), ready - seen) };
            each(part);
            seen = ready;
        }
        // The free fails only if someone else freed the block meanwhile:
        // its sender's death reported, its blocks reclaimed, and the bytes
        // read perhaps another payload's.
        if !arena.free_tagged(self.offset, self.tag) && self.streamed {
            return Err(sender_died());
        }
        Ok(())
    }

    /// How many bytes the sender has published, once more than `seen`
    /// (at most `len`): at once unless the payload is streamed. Polls, then
    /// sleeps, looking between naps whether the sender still runs.
    fn wait_past(&self, arena: &Arena, seen: usize) -> io::Result<usize> {
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        if !self.streamed || seen >= len {
            return Ok(len);
        }
        let progress = arena.word(self.offset).ok_or_else(stale)?;
        let mut spin = Spin::spaced(32);
        let mut naps = 0_u32;
        loop {
            // Acquire, against the sender's release: the bytes below the
            // count are written.
            let done = progress.load(Ordering::Acquire);
            if done == ABANDONED {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the sender of a payload gave it up before writing it all",
                ));
            }
            let done = usize::try_from(done).unwrap_or(usize::MAX).min(len);
            if done > seen {
                return Ok(done);
            }
            if !spin.next() {
                match arena.owner(self.offset, self.tag) {
                    Some(owner) if members::is_alive(owner) => {}
                    _ => return Err(sender_died()),
                }
                std::thread::sleep(Duration::from_micros(20 << naps.min(6)));
                naps += 1;
            }
        }
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
mod tests {
    use super::*;

    #[test]
    fn a_payload_round_trips_once_and_its_block_is_reused() {
        let body = vec![7; 300_000];
        let parts: [&[u8]; 2] = [b"head", &body];
        let payload = store(&parts).unwrap();
        let copied = payload.read(<[u8]>::to_vec).unwrap();
        assert_eq!(&copied[..4], b"head");
        assert_eq!(copied.len(), 300_004);
        assert!(copied[4..].iter().all(|&b| b == 7));
        assert!(payload.read(|_| ()).is_err(), "read once only");
        let again = store(&[&vec![1; 300_000]]).unwrap();
        assert_eq!(again.offset, payload.offset, "the freed block is reused");
        again.release();
        again.release();
        assert!(again.read(|_| ()).is_err());
    }

    #[test]
    fn a_payload_taken_over_is_read_in_place_and_freed_when_dropped() {
        // 3 MB, a size class (4 MiB) no other test here uses.
        let payload = store(&[&vec![4; 3_000_000]]).unwrap();
        let held = payload.take().unwrap();
        assert_eq!(held.as_ref().len(), 3_000_000);
        assert!(held.as_ref().iter().all(|&b| b == 4));
        assert!(payload.take().is_err(), "taken over once only");
        assert!(payload.read(|_| ()).is_err(), "the old tag reads nothing");
        payload.release();
        let other = store(&[&vec![5; 3_000_000]]).unwrap();
        assert_ne!(
            other.offset, payload.offset,
            "the sender's release freed nothing"
        );
        other.release();
        assert_eq!(held.as_ref()[2_999_999], 4, "still the payload's bytes");
        drop(held);
        let again = store(&[&vec![6; 3_000_000]]).unwrap();
        assert_eq!(again.offset, payload.offset, "dropping it freed the block");
        again.release();
    }

    #[test]
    fn garbage_references_fail_validation() {
        let payload = store(&[&vec![1; 1000]]).unwrap();
        let mut longer = payload;
        longer.len = 1 << 40;
        assert!(longer.read(|_| ()).is_err());
        let mut moved = payload;
        moved.offset += 64;
        assert!(moved.read(|_| ()).is_err());
        assert!(PayloadRef::from_bytes(&payload.to_bytes()[..31]).is_none());
        let back = PayloadRef::from_bytes(&payload.to_bytes()).unwrap();
        assert_eq!(back.read(<[u8]>::len).unwrap(), 1000);
    }

    #[test]
    fn a_reported_death_frees_the_payloads_the_dead_process_held() {
        let arena = global().unwrap();
        // A process that no longer runs (no pid is this high), as the
        // process backend reports a worker killed while writing a result.
        let (pid, start) = (0x3fff_fff0, 12_345);
        let token = members::register_for_test(pid, start);
        let held = arena.alloc_dirty(kind::PAYLOAD, 4000, token).unwrap();
        let mine = store(&[&vec![5; 4000]]).unwrap();
        super::super::process_died(pid, start);
        assert!(
            !arena.free_tagged(held.offset, held.tag),
            "freed with the death"
        );
        assert_eq!(
            mine.read(<[u8]>::len).unwrap(),
            4000,
            "the living keep theirs"
        );
    }

    #[test]
    fn blocks_of_a_dead_owner_are_reclaimed() {
        let arena = global().unwrap();
        let payload = store(&[&vec![3; 5000]]).unwrap();
        let other = arena.alloc_dirty(kind::PAYLOAD, 100, 0x7fff_fff0).unwrap();
        reclaim(arena, 0x7fff_fff0);
        assert!(!arena.free_tagged(other.offset, other.tag), "reclaimed");
        assert_eq!(
            payload.read(<[u8]>::len).unwrap(),
            5000,
            "others' blocks stay"
        );
    }

    /// `len` bytes of a pattern that a torn or shifted copy breaks.
    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251).to_le_bytes()[0] ^ seed)
            .collect()
    }

    /// Reads `payload` part by part on another thread, counting in `seen`
    /// the bytes it has: the bytes and how many parts came, or the error.
    fn read_elsewhere(
        payload: PayloadRef,
        seen: std::sync::Arc<AtomicU64>,
    ) -> std::sync::mpsc::Receiver<io::Result<(Vec<u8>, usize)>> {
        let (done, result) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut bytes, mut parts) = (Vec::new(), 0);
            let read = payload.read_streamed(|part| {
                bytes.extend_from_slice(part);
                parts += 1;
                seen.store(bytes.len() as u64, Ordering::Release);
            });
            let _ = done.send(read.map(|()| (bytes, parts)));
        });
        result
    }

    fn writer_progress(payload: &PayloadRef) -> u64 {
        let word = global().unwrap().word(payload.offset).unwrap();
        word.load(Ordering::Acquire)
    }

    const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

    #[test]
    fn a_streamed_payload_is_read_behind_its_writer() {
        // 20 MiB + 5: a 32 MiB class no other test here uses. Its block is
        // first filled with other bytes, so a read ahead of the writer shows.
        let len = STREAM_FROM + (16 << 20) + 5;
        let dirt = store(&[&vec![0xee; len + 64]]).unwrap();
        dirt.read(|_| ()).unwrap();
        for round in 0..3_u8 {
            let bytes = pattern(len, round);
            let (payload, mut writer) = stream(len).unwrap();
            assert_eq!(payload.offset, dirt.offset, "the block is reused");
            let sent = PayloadRef::from_bytes(&payload.to_bytes()).unwrap();
            assert_eq!(sent, payload, "sent as streamed");
            let seen = std::sync::Arc::new(AtomicU64::new(0));
            let result = read_elsewhere(sent, seen.clone());
            // Each slice waits until the reader has it, so the reader waits
            // for each slice in turn.
            writer.write_up_to(&bytes, len, || {
                let published = writer_progress(&payload);
                let start = std::time::Instant::now();
                while seen.load(Ordering::Acquire) < published && start.elapsed() < WAIT {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            });
            writer.written = true;
            let (read, parts) = result.recv_timeout(WAIT).unwrap().unwrap();
            assert!(read == bytes, "the bytes, in order, none torn");
            assert_eq!(
                parts,
                len.div_ceil(SLICE),
                "read slice by slice as they came"
            );
        }
    }

    #[test]
    fn a_streamed_payload_read_whole_or_taken_waits_for_all_of_it() {
        let len = STREAM_FROM + 1;
        let bytes = pattern(len, 9);
        let (payload, writer) = stream(len).unwrap();
        let reader = std::thread::spawn(move || payload.read(<[u8]>::to_vec));
        std::thread::sleep(std::time::Duration::from_millis(20));
        writer.write(&bytes);
        assert!(reader.join().unwrap().unwrap() == bytes);
        let (payload, writer) = stream(len).unwrap();
        let taker = std::thread::spawn(move || payload.take().map(|held| held.as_ref().to_vec()));
        std::thread::sleep(std::time::Duration::from_millis(20));
        writer.write(&bytes);
        assert!(taker.join().unwrap().unwrap() == bytes);
    }

    #[test]
    fn a_stream_whose_sender_dies_fails_its_reader_and_is_freed() {
        // 10 MiB: a 16 MiB class no other test here uses. Written by a
        // process that no longer runs: half of it published,
        // then nothing more, as when the sender is killed mid-copy.
        let token = members::register_for_test(0x3fff_ffe0, 777);
        let len = STREAM_FROM + (6 << 20);
        let bytes = pattern(len, 3);
        let (payload, mut writer) = stream_owned_by(len, token).unwrap();
        writer.write_up_to(&bytes, len / 2, || {});
        std::mem::forget(writer);
        let read = read_elsewhere(payload, std::sync::Arc::default()).recv_timeout(WAIT);
        let error = read.expect("no hang").expect_err("a torn value");
        assert!(error.to_string().contains("died"), "{error}");
        assert!(payload.read(|_| ()).is_err(), "freed by its reader");
        // Given up unwritten (a job dropped after its reference went out).
        let (payload, writer) = stream(len).unwrap();
        drop(writer);
        let read = read_elsewhere(payload, std::sync::Arc::default()).recv_timeout(WAIT);
        let error = read.expect("no hang").expect_err("nothing to read");
        assert!(error.to_string().contains("gave it up"), "{error}");
        let again = stream(len).unwrap().0;
        assert_eq!(again.offset, payload.offset, "both blocks freed");
        again.release();
    }
}
