//! The items of a process queue: variable-size records in a chain of arena
//! segments, behind one robust lock, with a journal that makes every change
//! of the queue's counters atomic even if its process dies half-way.
//!
//! A record is an 8-byte header (the payload length, and a mark that tells a
//! record from a link) followed by the postcard bytes, padded to 8. `tail`
//! and `head` each pack a segment and a position into one `u64`, so moving
//! either is one store. A `put` writes its record past the tail, where no
//! reader looks, and then publishes it by moving the tail; when a segment is
//! full it allocates the next one (an unbounded `put` never waits, it grows)
//! and leaves a link record at the old tail. A `get` copies the record at the
//! head out and moves the head on, freeing a segment it leaves. When the
//! queue becomes empty both go back to the start of the segment, so a queue
//! in steady use keeps touching the same few cache lines.
//!
//! Before changing `head`, `tail`, `len` or `unfinished` an operation saves
//! them in the journal and marks it open; it closes the journal once all are
//! written. The next process to take the lock from a dead owner finds the
//! journal open and restores the saved values: the dead `put` never
//! happened, the dead `get` did not take its item. No torn record is ever
//! delivered, because only complete records lie between head and tail.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::word_lock::{RECHECK, Taken, WordLock};
use crate::shared::{Arena, Object, Shared};

/// The smallest segment: room for thousands of small items.
const SEGMENT: u64 = 64 * 1024 - 64;
const HEADER: u64 = 8;
/// A link record: header and next segment.
const LINK: u64 = 16;
const RECORD: u64 = 1 << 32;
const LINK_MARK: u64 = 2 << 32;

const OP_NONE: u32 = 0;
const OP_OPEN: u32 = 1;

/// The first 64 bytes are what every `put` and `get` writes, in one cache
/// line (the block holding a `State` is line-aligned); the rest is read on
/// every operation and written rarely. `len` fits 32 bits: a record takes
/// at least 8 bytes of a 1 GiB arena.
#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    lock: WordLock,
    journal: AtomicU32,
    head: AtomicU64,
    tail: AtomicU64,
    len: AtomicU32,
    saved_len: AtomicU32,
    unfinished: AtomicU64,
    saved_head: AtomicU64,
    saved_tail: AtomicU64,
    // `unfinished` changes only with the lock held (`task_done` takes it
    // too), so restoring its saved value never undoes someone else's step.
    saved_unfinished: AtomicU64,
    /// 0 for no bound.
    maxsize: AtomicU64,
    not_empty: Notifier,
    not_full: Notifier,
    all_done: Notifier,
}

const _: () = assert!(std::mem::offset_of!(State, maxsize) == 64);

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::QUEUE;
}

fn pack(segment: u64, position: u64) -> u64 {
    (segment << 32) | position
}

fn unpack(at: u64) -> (u64, u64) {
    (at >> 32, at & 0xFFFF_FFFF)
}

fn padded(n: u64) -> u64 {
    n.div_ceil(8) * 8
}

/// Why a `put` could not place its item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PutFailure {
    Full,
    NoMemory,
}

/// Why a `get` found no item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GetFailure {
    Empty,
    /// The queue's memory does not hold a well-formed record: it was
    /// overwritten. The queue is emptied rather than read further.
    Corrupt,
}

/// A crash point for tests: the process aborts in the middle of the next
/// `put` (1) or `get` (2), holding the lock with the journal open.
#[cfg(test)]
pub(crate) static CRASH_AT: AtomicU32 = AtomicU32::new(0);

#[inline]
fn crash_point(at: u32) {
    #[cfg(test)]
    if CRASH_AT.load(Ordering::Relaxed) == at {
        std::process::abort();
    }
    #[cfg(not(test))]
    let _ = at;
}

/// The shared part of a queue, untyped: bytes in, bytes out.
pub(crate) struct Ring {
    state: Shared<State>,
}

/// A segment's bytes in this process's mapping.
struct Segment {
    base: *mut u8,
    len: u64,
}

impl Segment {
    fn open(arena: &Arena, offset: u64) -> Option<Segment> {
        let (base, len) = arena.bytes(offset, kind::SEGMENT)?;
        Some(Segment { base, len })
    }

    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked first")]
    fn read_u64(&self, at: u64) -> Option<u64> {
        if at.checked_add(8)? > self.len || at % 8 != 0 {
            return None;
        }
        // SAFETY: `at + 8 <= len` keeps the read inside the segment, whose
        // bytes are mapped for the arena's lifetime; 8-aligned because the
        // segment is, and the queue lock is held, so no other writer races.
        Some(unsafe {
            self.base
                .add(usize::try_from(at).ok()?)
                .cast::<u64>()
                .read()
        })
    }

    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked first")]
    fn write_u64(&self, at: u64, value: u64) -> Option<()> {
        if at.checked_add(8)? > self.len || at % 8 != 0 {
            return None;
        }
        // SAFETY: as in `read_u64`; the bytes lie past the queue's tail or
        // are its own header, which only the lock holder touches.
        unsafe {
            self.base
                .add(usize::try_from(at).ok()?)
                .cast::<u64>()
                .write(value);
        }
        Some(())
    }

    fn write_bytes(&self, at: u64, bytes: &[u8]) -> Option<()> {
        if at.checked_add(bytes.len() as u64)? > self.len {
            return None;
        }
        // SAFETY: the range is inside the segment (checked above) and past
        // the tail, where nobody reads; `bytes` is private memory, so the
        // ranges do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.base.add(usize::try_from(at).ok()?),
                bytes.len(),
            );
        }
        Some(())
    }

    fn read_bytes(&self, at: u64, len: u64, out: &mut Vec<u8>) -> Option<()> {
        if at.checked_add(len)? > self.len {
            return None;
        }
        let len = usize::try_from(len).ok()?;
        out.clear();
        out.reserve(len);
        // SAFETY: the range is inside the segment (checked above), holds a
        // complete record between head and tail that no one writes while
        // the lock is held, and `out` has room for `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.base.add(usize::try_from(at).ok()?),
                out.as_mut_ptr(),
                len,
            );
            out.set_len(len);
        }
        Some(())
    }
}

impl Ring {
    pub(crate) fn new(maxsize: usize) -> Ring {
        let state: Shared<State> = Shared::new("Queue");
        state.maxsize.store(
            u64::try_from(maxsize).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ring { state }
    }

    pub(crate) fn from_shared(state: Shared<State>) -> Ring {
        Ring { state }
    }

    pub(crate) fn shared(&self) -> &Shared<State> {
        &self.state
    }

    fn arena(&self) -> &'static Arena {
        self.state.arena()
    }

    /// Takes the queue lock, repairing what a dead owner left half-done.
    #[inline]
    fn lock(&self) {
        if self.state.lock.lock(None) == Some(Taken::OwnerDied) {
            self.repair();
        }
    }

    #[inline]
    fn unlock(&self) {
        self.state.lock.unlock();
    }

    #[cold]
    fn repair(&self) {
        let s = &*self.state;
        if s.journal.load(Ordering::Relaxed) == OP_OPEN {
            s.head
                .store(s.saved_head.load(Ordering::Relaxed), Ordering::Relaxed);
            s.tail
                .store(s.saved_tail.load(Ordering::Relaxed), Ordering::Relaxed);
            s.len
                .store(s.saved_len.load(Ordering::Relaxed), Ordering::Relaxed);
            s.unfinished.store(
                s.saved_unfinished.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
            s.journal.store(OP_NONE, Ordering::Release);
        }
    }

    fn open_journal(&self) {
        let s = &*self.state;
        s.saved_head
            .store(s.head.load(Ordering::Relaxed), Ordering::Relaxed);
        s.saved_tail
            .store(s.tail.load(Ordering::Relaxed), Ordering::Relaxed);
        s.saved_len
            .store(s.len.load(Ordering::Relaxed), Ordering::Relaxed);
        s.saved_unfinished
            .store(s.unfinished.load(Ordering::Relaxed), Ordering::Relaxed);
        s.journal.store(OP_OPEN, Ordering::Release);
    }

    fn close_journal(&self) {
        self.state.journal.store(OP_NONE, Ordering::Release);
    }

    fn has_room(&self) -> bool {
        let max = self.state.maxsize.load(Ordering::Relaxed);
        max == 0 || u64::from(self.state.len.load(Ordering::Relaxed)) < max
    }

    /// Puts one record, waiting for room until `deadline` if `wait`; counts
    /// a task if `counted`.
    pub(crate) fn put(
        &self,
        bytes: &[u8],
        counted: bool,
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<(), PutFailure> {
        self.lock();
        while !self.has_room() {
            if !wait || deadline.is_some_and(|d| Instant::now() >= d) {
                self.unlock();
                return Err(PutFailure::Full);
            }
            let seen = self.state.not_full.prepare();
            self.unlock();
            self.state.not_full.sleep(seen, deadline, RECHECK);
            self.state.not_full.done();
            self.lock();
        }
        let placed = self.place(bytes, counted);
        if placed.is_ok() && self.state.not_empty.has_sleepers() {
            self.state.not_empty.notify(1);
        }
        self.unlock();
        placed
    }

    /// Writes the record and publishes it, with the lock held.
    fn place(&self, bytes: &[u8], counted: bool) -> Result<(), PutFailure> {
        let arena = self.arena();
        let s = &*self.state;
        if s.len.load(Ordering::Relaxed) == u32::MAX {
            return Err(PutFailure::NoMemory);
        }
        let need = HEADER + padded(bytes.len() as u64);
        let (mut segment_offset, mut position) = unpack(s.tail.load(Ordering::Relaxed));
        let mut segment = Segment::open(arena, segment_offset);
        let fresh = match &segment {
            Some(segment) => position + need + LINK > segment.len,
            None => true,
        };
        let link_from = segment.as_ref().filter(|_| fresh).map(|_| position);
        if fresh {
            let block = arena
                .alloc(kind::SEGMENT, SEGMENT.max(need + LINK))
                .ok_or(PutFailure::NoMemory)?;
            if block.offset >> 32 != 0 {
                arena.free(block.offset);
                return Err(PutFailure::NoMemory);
            }
            let new = Segment::open(arena, block.offset).ok_or(PutFailure::NoMemory)?;
            if segment.is_none() {
                // The queue's first segment (or its only one was freed).
                s.head.store(pack(block.offset, 0), Ordering::Relaxed);
            }
            segment = Some(new);
            segment_offset = block.offset;
            position = 0;
        }
        let segment = segment.ok_or(PutFailure::NoMemory)?;
        segment
            .write_u64(position, RECORD | bytes.len() as u64)
            .ok_or(PutFailure::NoMemory)?;
        segment
            .write_bytes(position + HEADER, bytes)
            .ok_or(PutFailure::NoMemory)?;
        self.open_journal();
        if let Some(at) = link_from {
            let (old_offset, _) = unpack(s.tail.load(Ordering::Relaxed));
            if let Some(old) = Segment::open(arena, old_offset) {
                old.write_u64(at, LINK_MARK);
                old.write_u64(at + 8, segment_offset);
            }
        }
        s.tail
            .store(pack(segment_offset, position + need), Ordering::Relaxed);
        crash_point(1);
        s.len.fetch_add(1, Ordering::Relaxed);
        if counted {
            s.unfinished.fetch_add(1, Ordering::SeqCst);
        }
        self.close_journal();
        Ok(())
    }

    /// Takes the record at the head into `out`, waiting for one until
    /// `deadline` if `wait`.
    pub(crate) fn get(
        &self,
        out: &mut Vec<u8>,
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<(), GetFailure> {
        self.lock();
        while self.state.len.load(Ordering::Relaxed) == 0 {
            if !wait || deadline.is_some_and(|d| Instant::now() >= d) {
                self.unlock();
                return Err(GetFailure::Empty);
            }
            let seen = self.state.not_empty.prepare();
            self.unlock();
            self.state.not_empty.sleep(seen, deadline, RECHECK);
            self.state.not_empty.done();
            self.lock();
        }
        let taken = self.take(out);
        if taken.is_ok() && self.state.not_full.has_sleepers() {
            self.state.not_full.notify(1);
        }
        self.unlock();
        taken
    }

    fn take(&self, out: &mut Vec<u8>) -> Result<(), GetFailure> {
        let arena = self.arena();
        let s = &*self.state;
        let (mut segment_offset, mut position) = unpack(s.head.load(Ordering::Relaxed));
        let mut left_behind = None;
        let mut segment = Segment::open(arena, segment_offset);
        let mut header = segment.as_ref().and_then(|seg| seg.read_u64(position));
        if header == Some(LINK_MARK) {
            let next = segment
                .as_ref()
                .and_then(|seg| seg.read_u64(position + 8))
                .unwrap_or(0);
            left_behind = Some(segment_offset);
            segment_offset = next;
            position = 0;
            segment = Segment::open(arena, segment_offset);
            header = segment.as_ref().and_then(|seg| seg.read_u64(position));
        }
        let (Some(segment), Some(header)) = (segment, header) else {
            return Err(self.corrupt());
        };
        let len = header & 0xFFFF_FFFF;
        if header & !0xFFFF_FFFF != RECORD
            || segment.read_bytes(position + HEADER, len, out).is_none()
        {
            return Err(self.corrupt());
        }
        self.open_journal();
        let left = s.len.load(Ordering::Relaxed).saturating_sub(1);
        if left == 0 {
            // Empty: start over at the front of this segment.
            s.head.store(pack(segment_offset, 0), Ordering::Relaxed);
            s.tail.store(pack(segment_offset, 0), Ordering::Relaxed);
        } else {
            s.head.store(
                pack(segment_offset, position + HEADER + padded(len)),
                Ordering::Relaxed,
            );
        }
        crash_point(2);
        s.len.store(left, Ordering::Relaxed);
        self.close_journal();
        if let Some(old) = left_behind {
            arena.free(old);
        }
        Ok(())
    }

    /// Forgets every item of a queue whose memory is not well-formed.
    #[cold]
    fn corrupt(&self) -> GetFailure {
        let s = &*self.state;
        s.len.store(0, Ordering::Relaxed);
        s.head.store(0, Ordering::Relaxed);
        s.tail.store(0, Ordering::Relaxed);
        GetFailure::Corrupt
    }

    /// Marks one task done; `false` if none was unfinished.
    pub(crate) fn task_done(&self) -> bool {
        self.lock();
        let unfinished = self.state.unfinished.load(Ordering::Relaxed);
        if unfinished > 0 {
            self.state
                .unfinished
                .store(unfinished - 1, Ordering::SeqCst);
            if unfinished == 1 {
                self.state.all_done.notify(u32::MAX);
            }
        }
        self.unlock();
        unfinished > 0
    }

    /// Waits until every task is done, until `deadline`; whether they are.
    pub(crate) fn join(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.state.unfinished.load(Ordering::SeqCst) == 0 {
                return true;
            }
            let seen = self.state.all_done.prepare();
            if self.state.unfinished.load(Ordering::SeqCst) == 0 {
                self.state.all_done.done();
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.state.all_done.done();
                return false;
            }
            self.state.all_done.sleep(seen, deadline, RECHECK);
            self.state.all_done.done();
        }
    }

    pub(crate) fn unfinished(&self) -> usize {
        usize::try_from(self.state.unfinished.load(Ordering::SeqCst)).unwrap_or(usize::MAX)
    }

    pub(crate) fn len(&self) -> usize {
        usize::try_from(self.state.len.load(Ordering::SeqCst)).unwrap_or(usize::MAX)
    }

    pub(crate) fn maxsize(&self) -> usize {
        usize::try_from(self.state.maxsize.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let arena = self.arena();
        if arena.is_exported(self.state.offset()) {
            return;
        }
        // Nobody else can reach the queue: free its segments, head to tail.
        let (mut offset, mut position) = unpack(self.state.head.load(Ordering::Relaxed));
        let (tail, _) = unpack(self.state.tail.load(Ordering::Relaxed));
        while let Some(segment) = Segment::open(arena, offset) {
            if offset == tail {
                arena.free(offset);
                break;
            }
            // Find this segment's link: walk its records.
            let mut next = None;
            while let Some(header) = segment.read_u64(position) {
                if header == LINK_MARK {
                    next = segment.read_u64(position + 8);
                    break;
                }
                if header & !0xFFFF_FFFF != RECORD {
                    break;
                }
                position += HEADER + padded(header & 0xFFFF_FFFF);
            }
            arena.free(offset);
            match next {
                Some(next) => {
                    offset = next;
                    position = 0;
                }
                None => break,
            }
        }
    }
}
