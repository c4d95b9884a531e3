//! Streamed payloads (see [`payload`](super)): a block whose reference is
//! sent before its bytes are written; the sender publishes its progress,
//! the receiver copies out behind it.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::super::arena::kind;
use super::super::spin::Spin;
use super::super::{Arena, global, members};
use super::{PayloadRef, checked_bytes, stale};

/// From how many bytes an owned byte buffer is [streamed](stream): below
/// this, the copy in is over before the receiver could start.
pub(crate) const STREAM_FROM: usize = 4 << 20;

/// How many bytes a streaming sender copies between two publications.
pub(super) const SLICE: usize = 1 << 20;

/// The bit of a sent reference's length that marks it streamed.
pub(super) const STREAMED: u64 = 1 << 63;

/// The room before a streamed payload's bytes: its progress word, on a
/// cache line of its own.
pub(super) const PROGRESS_ROOM: u64 = 64;
pub(super) const PROGRESS_ROOM_BYTES: usize = 64;

/// The progress of a stream whose sender gave it up unwritten.
const ABANDONED: u64 = u64::MAX;

/// The error of a streamed payload its sender left unwritten, told apart
/// from the others by [`is_unwritten`].
#[derive(Debug)]
struct Unwritten(&'static str);

impl std::fmt::Display for Unwritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Unwritten {}

pub(super) fn sender_died() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        Unwritten("the sender of a payload died before writing it all"),
    )
}

fn sender_gave_up() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        Unwritten("the sender of a payload gave it up before writing it all"),
    )
}

/// Whether `error` says a streamed payload's sender died or gave it up
/// before writing all of it (and not that the reference was bad).
pub(crate) fn is_unwritten(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<Unwritten>)
}

/// Allocates a block for a payload of `len` bytes to be written *after*
/// its reference is sent: the receiver copies each part out as soon as
/// the returned [`Stream`] has published it. `None` as for [`store`](super::store).
pub(crate) fn stream(len: usize) -> Option<(PayloadRef, Stream)> {
    stream_owned_by(len, members::me())
}

pub(super) fn stream_owned_by(len: usize, owner: u32) -> Option<(PayloadRef, Stream)> {
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
    pub(super) written: bool,
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
    pub(super) fn write_up_to(&mut self, bytes: &[u8], end: usize, mut between: impl FnMut()) {
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

impl PayloadRef {
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

    /// Frees the block without reading it (a receiver that drops the
    /// message), once its sender is done writing it, so that it is never
    /// freed under a streaming sender's copy; `false` if that sender died
    /// or gave the stream up first.
    pub(crate) fn discard(&self) -> bool {
        let Ok(arena) = global() else { return true };
        if arena.id() != self.arena {
            return true;
        }
        let len = usize::try_from(self.len).unwrap_or(usize::MAX);
        let written = self.wait_past(arena, len.saturating_sub(1));
        arena.free_tagged(self.offset, self.tag);
        !written.as_ref().is_err_and(is_unwritten)
    }

    /// How many bytes the sender has published, once more than `seen`
    /// (at most `len`): at once unless the payload is streamed. Polls, then
    /// sleeps, looking between naps whether the sender still runs.
    pub(super) fn wait_past(&self, arena: &Arena, seen: usize) -> io::Result<usize> {
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
                return Err(sender_gave_up());
            }
            let done = usize::try_from(done).unwrap_or(usize::MAX).min(len);
            if done > seen {
                return Ok(done);
            }
            if !spin.next() {
                match arena.owner(self.offset, self.tag) {
                    Some(owner) if members::is_alive(owner) => {}
                    // Its sender is dead, but may have published the rest
                    // since the count was read, then exited (a one-shot
                    // worker exits once its result is written): a count
                    // still short of `seen` is what makes the payload torn.
                    Some(_) => match progress.load(Ordering::Acquire) {
                        ABANDONED => return Err(sender_gave_up()),
                        last if usize::try_from(last).is_ok_and(|last| last > seen) => {
                            return Ok(usize::try_from(last).unwrap_or(len).min(len));
                        }
                        _ => return Err(sender_died()),
                    },
                    // Freed (its sender's death reclaimed it): gone.
                    None => return Err(sender_died()),
                }
                std::thread::sleep(Duration::from_micros(20 << naps.min(6)));
                naps += 1;
            }
        }
    }
}
