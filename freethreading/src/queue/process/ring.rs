//! The items of a process queue: variable-size records in a chain of arena
//! segments, with one robust lock for the producers and another for the
//! consumers, so that a `put` and a `get` running at once in two processes
//! never write the same cache line.
//!
//! A record is an 8-byte header (the payload length, and a mark that tells a
//! record from a link) followed by the postcard bytes, padded to 8. `tail`
//! and `head` each pack a segment and a position into one `u64`. A `put`
//! writes its record past the tail, where no reader looks, moves the tail,
//! and then publishes the record by counting it in `puts`: that one store
//! is the commit. When a segment is full the `put` allocates the next one
//! (an unbounded `put` never waits, it grows) and leaves a link record at
//! the old tail. A `get` may take an item while `gets < puts`: it copies
//! the record at the head out, moves the head on and counts it in `gets`,
//! freeing a segment it leaves behind. So `qsize` is `puts - gets`, exact
//! the moment either call returns, and the unfinished tasks are
//! `puts - done`.
//!
//! Each side keeps its counters on a cache line of its own; a consumer
//! re-reads `puts` only when it has used up the value it last saw, so while
//! items stream the two sides share nothing but the records themselves.
//!
//! Crash safety: before it changes its side, an operation saves that side's
//! counters in a journal and marks it open. The next process to take the
//! lock from a dead owner finds the journal open and repairs: a `put` that
//! had not counted its item is undone (its tail restored, a segment it
//! allocated freed), a dead `get` is undone whole, so it did not take its
//! item. No torn record is ever delivered, because a record is counted only
//! once it is complete, and only counted records are read.

mod repair;
mod state;
mod tasks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::segment::Segment;
use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::spin::Spin;
use crate::shared::{Arena, Shared};
#[cfg(all(test, process_backend, unix))]
pub(crate) use repair::CRASH_AT;
use repair::crash_point;
pub(crate) use state::State;
use state::{
    FIRST_SEGMENT, HEADER, LINK, LINK_MARK, OP_NONE, OP_OPEN, RECORD, SEGMENT, pack, padded, unpack,
};

/// Whether `deadline` has come.
fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
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

/// Spin-loop hints between two polls of the other side's counter, while
/// the waiter spins. Polling a counter the other side is writing pulls its
/// cache line away on every poll; polling less often lets a few items pile
/// up, so a consumer that caught up takes them as a batch instead of
/// falling into lockstep with the producer, one cache miss per item on
/// each side.
const POLL_EVERY: u32 = 8;

/// Polls until `counter` moves off `seen`, then sleeps on `notifier` until
/// it does, until `deadline` or for one [`RECHECK`](crate::shared::word_lock::RECHECK) slice; spurious returns
/// are possible. The caller re-checks under its lock. Registering as a
/// sleeper makes the other side's every call pay for a notification, so
/// the polls come first.
fn wait_for_change(counter: &AtomicU64, seen: u64, notifier: &Notifier, deadline: Option<Instant>) {
    let mut spin = Spin::spaced(POLL_EVERY);
    while spin.next() {
        if counter.load(Ordering::Relaxed) != seen {
            return;
        }
    }
    let sequence = notifier.prepare();
    // `prepare` and this load, against the other side's store of the
    // counter and its `has_sleepers`, are sequentially consistent: either
    // this sees the change or the other side sees the sleeper.
    if counter.load(Ordering::SeqCst) == seen {
        // Polled enough above: a second spin, registered, would make every
        // call of the other side pay for a notification meanwhile.
        notifier.park(sequence, deadline);
    }
    notifier.done();
}

/// The shared part of a queue, untyped: bytes in, bytes out.
pub(crate) struct Ring {
    state: Shared<State>,
}

impl Ring {
    pub(crate) fn new(maxsize: usize) -> Result<Ring, crate::SharedMemoryError> {
        let state: Shared<State> = Shared::try_new("Queue")?;
        let maxsize = u64::try_from(maxsize).unwrap_or(u64::MAX);
        state.put.maxsize.store(maxsize, Ordering::Relaxed);
        state.get.maxsize.store(maxsize, Ordering::Relaxed);
        Ok(Ring { state })
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

    /// `Ok` if a `put` may place an item now, with the producers' lock
    /// held; else the count of gets the queue was full at, to wait on.
    fn room(&self) -> Result<(), u64> {
        let max = self.state.put.maxsize.load(Ordering::Relaxed);
        if max == 0 {
            return Ok(());
        }
        let gets = self.state.gets.load(Ordering::Acquire);
        if self.state.puts.load(Ordering::Relaxed) - gets < max {
            Ok(())
        } else {
            Err(gets)
        }
    }

    /// Puts one record, waiting for room until `deadline` (forever for
    /// `None`; a deadline already passed does not wait).
    pub(crate) fn put(&self, bytes: &[u8], deadline: Option<Instant>) -> Result<(), PutFailure> {
        self.lock_put();
        // The very count found full is the one to wait on: a get that came
        // after it, before this producer registered as a sleeper, must end
        // the wait at once.
        while let Err(gets) = self.room() {
            self.state.put.lock.unlock();
            if passed(deadline) {
                return Err(PutFailure::Full);
            }
            let gets_counter = &self.state.gets;
            wait_for_change(gets_counter, gets, &self.state.tasks.not_full, deadline);
            self.lock_put();
        }
        let placed = self.place(bytes);
        self.state.put.lock.unlock();
        if placed.is_ok() && self.state.not_empty.has_sleepers() {
            self.state.not_empty.notify(1);
        }
        placed
    }

    /// Writes the record and publishes it, with the producers' lock held.
    fn place(&self, bytes: &[u8]) -> Result<(), PutFailure> {
        let arena = self.arena();
        let p = &self.state.put;
        let len = u64::try_from(bytes.len())
            .ok()
            .filter(|&len| len <= 0xFFFF_FFFF)
            .ok_or(PutFailure::NoMemory)?;
        let need = HEADER + padded(len);
        let tail = p.tail.load(Ordering::Relaxed);
        let puts = self.state.puts.load(Ordering::Relaxed);
        p.saved_tail.store(tail, Ordering::Relaxed);
        p.saved_puts.store(puts, Ordering::Relaxed);
        p.fresh.store(0, Ordering::Relaxed);
        p.journal.store(OP_OPEN, Ordering::Release);
        let (segment_offset, position) = unpack(tail);
        let placed = match Segment::open(arena, segment_offset) {
            Some(segment) if position + need + LINK <= segment.len() => {
                Some((segment, segment_offset, position))
            }
            current => self.grow(current.map(|segment| (segment, position)), need),
        };
        let written = placed.and_then(|(segment, offset, position)| {
            segment.write_u64(position, RECORD | len)?;
            segment.write_bytes(position + HEADER, bytes)?;
            Some(pack(offset, position + need))
        });
        let Some(tail) = written else {
            self.repair_put();
            return Err(PutFailure::NoMemory);
        };
        p.tail.store(tail, Ordering::Relaxed);
        crash_point(1);
        // The commit; sequentially consistent against a sleeping consumer
        // (see `wait_for_change`).
        self.state.puts.store(puts + 1, Ordering::SeqCst);
        p.journal.store(OP_NONE, Ordering::Release);
        Ok(())
    }

    /// Allocates the next segment, with room for `need` bytes and a link,
    /// and links it from `current` (the tail's segment and position), or
    /// makes it the head of a queue that has no segment yet.
    fn grow(&self, current: Option<(Segment, u64)>, need: u64) -> Option<(Segment, u64, u64)> {
        let arena = self.arena();
        let size = current.as_ref().map_or(FIRST_SEGMENT, |(old, _)| {
            ((old.len() + 64) * 2 - 64).min(SEGMENT)
        });
        let block = arena.alloc(kind::SEGMENT, size.max(need + LINK))?;
        if block.offset >> 32 != 0 {
            arena.free(block.offset);
            return None;
        }
        self.state.put.fresh.store(block.offset, Ordering::Relaxed);
        let segment = Segment::open(arena, block.offset)?;
        match current {
            Some((old, position)) => {
                old.write_u64(position + 8, block.offset)?;
                old.write_u64(position, LINK_MARK)?;
                crash_point(3);
            }
            // No segment means no item: `head` is unused until `puts`
            // counts this one, so the producer may set it.
            None => self
                .state
                .get
                .head
                .store(pack(block.offset, 0), Ordering::Relaxed),
        }
        Some((segment, block.offset, 0))
    }

    /// Takes the record at the head into `out`, waiting for one until
    /// `deadline` (forever for `None`; a deadline already passed does not
    /// wait).
    pub(crate) fn get(
        &self,
        out: &mut Vec<u8>,
        deadline: Option<Instant>,
    ) -> Result<(), GetFailure> {
        let g = &self.state.get;
        loop {
            self.lock_get();
            let gets = self.state.gets.load(Ordering::Relaxed);
            if gets == g.seen_puts.load(Ordering::Relaxed) {
                let puts = self.state.puts.load(Ordering::Acquire);
                g.seen_puts.store(puts, Ordering::Relaxed);
            }
            if gets < g.seen_puts.load(Ordering::Relaxed) {
                let taken = self.take(out, gets);
                g.lock.unlock();
                let bounded = g.maxsize.load(Ordering::Relaxed) != 0;
                if bounded && self.state.tasks.not_full.has_sleepers() {
                    self.state.tasks.not_full.notify(1);
                }
                return taken;
            }
            g.lock.unlock();
            if passed(deadline) {
                return Err(GetFailure::Empty);
            }
            let puts = &self.state.puts;
            wait_for_change(puts, gets, &self.state.not_empty, deadline);
        }
    }

    /// Copies out the record at the head, the `gets`-th, with the
    /// consumers' lock held and `puts` counting it.
    fn take(&self, out: &mut Vec<u8>, gets: u64) -> Result<(), GetFailure> {
        let arena = self.arena();
        let g = &self.state.get;
        let head = g.head.load(Ordering::Relaxed);
        let (mut segment_offset, mut position) = unpack(head);
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
        g.saved_head.store(head, Ordering::Relaxed);
        g.saved_gets.store(gets, Ordering::Relaxed);
        g.journal.store(OP_OPEN, Ordering::Release);
        g.head.store(
            pack(segment_offset, position + HEADER + padded(len)),
            Ordering::Relaxed,
        );
        crash_point(2);
        // Sequentially consistent against a producer waiting for room, which
        // only a bounded queue has.
        let order = if g.maxsize.load(Ordering::Relaxed) == 0 {
            Ordering::Release
        } else {
            Ordering::SeqCst
        };
        self.state.gets.store(gets + 1, order);
        if let Some(old) = left_behind {
            g.leaving.store(old, Ordering::Relaxed);
            crash_point(4);
        }
        g.journal.store(OP_NONE, Ordering::Release);
        if left_behind.is_some() {
            self.free_left_behind();
        }
        Ok(())
    }
}
