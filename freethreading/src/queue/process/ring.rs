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

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use super::segment::Segment;
use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::spin::Spin;
use crate::shared::word_lock::{RECHECK, Taken, WordLock};
use crate::shared::{Arena, Object, Shared};

/// A queue's first segment: room for some 60 small items. A queue whose
/// handle went to another process is never freed (nobody can count the
/// copies), so a small queue should leave little behind.
const FIRST_SEGMENT: u64 = 1024 - 64;
/// The largest segment a queue grows to (each is twice the last), unless
/// an item needs more: room for thousands of small items, so a streaming
/// queue allocates rarely. Sizes fill arena blocks, whose headers take 64.
const SEGMENT: u64 = 64 * 1024 - 64;
const HEADER: u64 = 8;
/// A link record: header and next segment.
const LINK: u64 = 16;
const RECORD: u64 = 1 << 32;
const LINK_MARK: u64 = 2 << 32;

const OP_NONE: u32 = 0;
const OP_OPEN: u32 = 1;

/// Spin-loop hints between two polls of the other side's counter, while
/// the waiter spins. Polling a counter the other side is writing pulls its
/// cache line away on every poll; polling less often lets a few items pile
/// up, so a consumer that caught up takes them as a batch instead of
/// falling into lockstep with the producer, one cache miss per item on
/// each side.
const POLL_EVERY: u32 = 8;

/// The producers' own cache line, which no consumer reads.
#[repr(C)]
#[derive(Default)]
struct PutSide {
    lock: WordLock,
    journal: AtomicU32,
    /// Where the next record goes.
    tail: AtomicU64,
    saved_tail: AtomicU64,
    saved_puts: AtomicU64,
    /// The segment the open `put` allocated, 0 for none: freed on undo.
    fresh: AtomicU64,
    /// 0 for no bound; never changes after creation.
    maxsize: AtomicU64,
}

/// The consumers' own cache line, which no producer reads.
#[repr(C)]
#[derive(Default)]
struct GetSide {
    lock: WordLock,
    journal: AtomicU32,
    /// The next record to take.
    head: AtomicU64,
    /// `puts` as a consumer last read it.
    seen_puts: AtomicU64,
    saved_head: AtomicU64,
    saved_gets: AtomicU64,
    /// A copy of the bound, so a `get` need not read the producers' line.
    maxsize: AtomicU64,
    /// The segment a finished `get` left behind and is freeing, 0 for
    /// none: a repairer frees it if its owner died first.
    leaving: AtomicU64,
}

/// What a waiting call, a `task_done` or a `join` writes: producers read
/// `not_empty` on every `put`, consumers `not_full` on every `get` of a
/// bounded queue, and both change only when someone sleeps.
#[repr(C)]
#[derive(Default)]
struct Tasks {
    not_full: Notifier,
    all_done: Notifier,
    /// Calls to `task_done`, ever: `puts - done` tasks are unfinished.
    done: AtomicU64,
}

/// One value on a cache line of its own. (Arena blocks are 64-aligned, so
/// 64 it is, though some x86 processors fetch lines in adjacent pairs.)
#[repr(C, align(64))]
#[derive(Default)]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Each side's working fields apart from the counter the other side
/// polls: a consumer waiting for `puts` to move must not pull the line a
/// producer is writing its journal on.
#[repr(C)]
#[derive(Default)]
pub(crate) struct State {
    put: Padded<PutSide>,
    /// Items published, ever: the commit of a `put`.
    puts: Padded<AtomicU64>,
    get: Padded<GetSide>,
    /// Items taken, ever.
    gets: Padded<AtomicU64>,
    not_empty: Padded<Notifier>,
    tasks: Padded<Tasks>,
}

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

/// A crash point for tests: the process aborts in the middle of the next
/// `put` (1), `get` (2), `put` that allocates a segment (3, once it has
/// linked it) or `get` that leaves one (4, once it has counted its item),
/// holding that side's lock with its journal open.
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

/// Polls until `counter` moves off `seen`, then sleeps on `notifier` until
/// it does, until `deadline` or for one [`RECHECK`] slice; spurious returns
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
        notifier.sleep(sequence, deadline, RECHECK);
    }
    notifier.done();
}

/// The shared part of a queue, untyped: bytes in, bytes out.
pub(crate) struct Ring {
    state: Shared<State>,
}

impl Ring {
    pub(crate) fn new(maxsize: usize) -> Ring {
        let state: Shared<State> = Shared::new("Queue");
        let maxsize = u64::try_from(maxsize).unwrap_or(u64::MAX);
        state.put.maxsize.store(maxsize, Ordering::Relaxed);
        state.get.maxsize.store(maxsize, Ordering::Relaxed);
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

    /// Takes the producers' lock, undoing what a dead owner left half-done.
    #[inline]
    fn lock_put(&self) {
        if self.state.put.lock.lock(None) == Some(Taken::OwnerDied) {
            self.repair_put();
        }
    }

    /// Takes the consumers' lock, undoing what a dead owner left half-done.
    #[inline]
    fn lock_get(&self) {
        if self.state.get.lock.lock(None) == Some(Taken::OwnerDied) {
            self.repair_get();
        }
    }

    #[cold]
    fn repair_put(&self) {
        let p = &self.state.put;
        if p.journal.load(Ordering::Relaxed) != OP_OPEN {
            return;
        }
        if self.state.puts.load(Ordering::Relaxed) == p.saved_puts.load(Ordering::Relaxed) {
            // Not counted, so no consumer saw it: as if it never happened.
            p.tail
                .store(p.saved_tail.load(Ordering::Relaxed), Ordering::Relaxed);
            // Taken out first: a repairer that dies here must not make the
            // next one free the block again, perhaps someone else's by then.
            let fresh = p.fresh.swap(0, Ordering::Relaxed);
            if fresh != 0 {
                self.arena().free(fresh);
            }
        }
        p.journal.store(OP_NONE, Ordering::Release);
    }

    #[cold]
    fn repair_get(&self) {
        let g = &self.state.get;
        if g.journal.load(Ordering::Relaxed) == OP_OPEN {
            // Undone whole, so no item is lost with the dead process. If it
            // died after counting its get, a producer may have used that
            // room meanwhile: a bounded queue then holds one item over its
            // bound until the next get.
            g.head
                .store(g.saved_head.load(Ordering::Relaxed), Ordering::Relaxed);
            self.state
                .gets
                .store(g.saved_gets.load(Ordering::Relaxed), Ordering::SeqCst);
            g.leaving.store(0, Ordering::Relaxed);
            g.journal.store(OP_NONE, Ordering::Release);
        }
        self.free_left_behind();
        // The dead owner never released the lock, so nothing orders its
        // `seen_puts` before this process's reads of the records it counts:
        // read `puts` again, with acquire.
        let puts = self.state.puts.load(Ordering::Acquire);
        g.seen_puts.store(puts, Ordering::Relaxed);
    }

    /// Frees the segment a finished `get` left behind, if any.
    fn free_left_behind(&self) {
        let leaving = self.state.get.leaving.swap(0, Ordering::Relaxed);
        if leaving != 0 {
            self.arena().free(leaving);
        }
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

    /// Puts one record, waiting for room until `deadline` if `wait`.
    pub(crate) fn put(
        &self,
        bytes: &[u8],
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<(), PutFailure> {
        self.lock_put();
        // The very count found full is the one to wait on: a get that came
        // after it, before this producer registered as a sleeper, must end
        // the wait at once.
        while let Err(gets) = self.room() {
            self.state.put.lock.unlock();
            if !wait || passed(deadline) {
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
    /// `deadline` if `wait`.
    pub(crate) fn get(
        &self,
        out: &mut Vec<u8>,
        wait: bool,
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
            if !wait || passed(deadline) {
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

    /// Forgets every item of a queue whose memory is not well-formed, with
    /// the consumers' lock held: the head jumps to the tail. (The segments
    /// in between are not walked, so not freed: their links are suspect.)
    #[cold]
    fn corrupt(&self) -> GetFailure {
        self.lock_put();
        let (p, g) = (&self.state.put, &self.state.get);
        let tail = p.tail.load(Ordering::Relaxed);
        let puts = self.state.puts.load(Ordering::Relaxed);
        // Journaled with the new values as the ones to restore, so a repair
        // after a death half-way finishes the jump.
        g.saved_head.store(tail, Ordering::Relaxed);
        g.saved_gets.store(puts, Ordering::Relaxed);
        g.journal.store(OP_OPEN, Ordering::Release);
        g.head.store(tail, Ordering::Relaxed);
        g.seen_puts.store(puts, Ordering::Relaxed);
        self.state.gets.store(puts, Ordering::SeqCst);
        g.journal.store(OP_NONE, Ordering::Release);
        p.lock.unlock();
        self.state.tasks.not_full.notify(u32::MAX);
        GetFailure::Corrupt
    }

    /// Marks one task done; `false` if none was unfinished.
    pub(crate) fn task_done(&self) -> bool {
        let tasks = &self.state.tasks;
        let mut puts = 0;
        // `puts` read afresh on every try: items put and done while this
        // call retried count too.
        let counted = tasks
            .done
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| {
                puts = self.state.puts.load(Ordering::SeqCst);
                (done < puts).then_some(done + 1)
            });
        match counted {
            Ok(done) => {
                if done + 1 == puts {
                    tasks.all_done.notify(u32::MAX);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until every task is done, until `deadline`; whether they are.
    pub(crate) fn join(&self, deadline: Option<Instant>) -> bool {
        let all_done = &self.state.tasks.all_done;
        loop {
            if self.unfinished() == 0 {
                return true;
            }
            let seen = all_done.prepare();
            if self.unfinished() == 0 {
                all_done.done();
                return true;
            }
            if passed(deadline) {
                all_done.done();
                return false;
            }
            all_done.sleep(seen, deadline, RECHECK);
            all_done.done();
        }
    }

    pub(crate) fn unfinished(&self) -> usize {
        // `done` first: it never passes `puts`, which only grows.
        let done = self.state.tasks.done.load(Ordering::SeqCst);
        let puts = self.state.puts.load(Ordering::SeqCst);
        usize::try_from(puts.saturating_sub(done)).unwrap_or(usize::MAX)
    }

    pub(crate) fn len(&self) -> usize {
        // `gets` first: it never passes `puts`, which only grows.
        let gets = self.state.gets.load(Ordering::SeqCst);
        let puts = self.state.puts.load(Ordering::SeqCst);
        usize::try_from(puts.saturating_sub(gets)).unwrap_or(usize::MAX)
    }

    pub(crate) fn maxsize(&self) -> usize {
        usize::try_from(self.state.put.maxsize.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let arena = self.arena();
        if arena.is_exported(self.state.offset()) {
            return;
        }
        // Nobody else can reach the queue: free its segments, head to tail.
        let (mut offset, mut position) = unpack(self.state.get.head.load(Ordering::Relaxed));
        let (tail, _) = unpack(self.state.put.tail.load(Ordering::Relaxed));
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
