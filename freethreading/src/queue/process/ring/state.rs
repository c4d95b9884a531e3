//! The layout of a process queue in the arena: each side's working fields
//! on a cache line of its own, apart from the counter the other side polls,
//! and the record format of its segments.

use std::sync::atomic::{AtomicU32, AtomicU64};

use crate::shared::Object;
use crate::shared::arena::kind;
use crate::shared::notify::Notifier;
use crate::shared::word_lock::WordLock;

/// A queue's first segment: room for some 60 small items. A queue whose
/// handle went to another process is never freed (nobody can count the
/// copies), so a small queue should leave little behind.
pub(super) const FIRST_SEGMENT: u64 = 1024 - 64;
/// The largest segment a queue grows to (each is twice the last), unless
/// an item needs more: room for thousands of small items, so a streaming
/// queue allocates rarely. Sizes fill arena blocks, whose headers take 64.
pub(super) const SEGMENT: u64 = 64 * 1024 - 64;
pub(super) const HEADER: u64 = 8;
/// A link record: header and next segment.
pub(super) const LINK: u64 = 16;
pub(super) const RECORD: u64 = 1 << 32;
pub(super) const LINK_MARK: u64 = 2 << 32;

pub(super) const OP_NONE: u32 = 0;
pub(super) const OP_OPEN: u32 = 1;

/// The producers' own cache line, which no consumer reads.
#[repr(C)]
#[derive(Default)]
pub(super) struct PutSide {
    pub(super) lock: WordLock,
    pub(super) journal: AtomicU32,
    /// Where the next record goes.
    pub(super) tail: AtomicU64,
    pub(super) saved_tail: AtomicU64,
    pub(super) saved_puts: AtomicU64,
    /// The segment the open `put` allocated, 0 for none: freed on undo.
    pub(super) fresh: AtomicU64,
    /// 0 for no bound; never changes after creation.
    pub(super) maxsize: AtomicU64,
}

/// The consumers' own cache line, which no producer reads.
#[repr(C)]
#[derive(Default)]
pub(super) struct GetSide {
    pub(super) lock: WordLock,
    pub(super) journal: AtomicU32,
    /// The next record to take.
    pub(super) head: AtomicU64,
    /// `puts` as a consumer last read it.
    pub(super) seen_puts: AtomicU64,
    pub(super) saved_head: AtomicU64,
    pub(super) saved_gets: AtomicU64,
    /// A copy of the bound, so a `get` need not read the producers' line.
    pub(super) maxsize: AtomicU64,
    /// The segment a finished `get` left behind and is freeing, 0 for
    /// none: a repairer frees it if its owner died first.
    pub(super) leaving: AtomicU64,
}

/// What a waiting call, a `task_done` or a `join` writes: producers read
/// `not_empty` on every `put`, consumers `not_full` on every `get` of a
/// bounded queue, and both change only when someone sleeps.
#[repr(C)]
#[derive(Default)]
pub(super) struct Tasks {
    pub(super) not_full: Notifier,
    pub(super) all_done: Notifier,
    /// Calls to `task_done`, ever: `puts - done` tasks are unfinished.
    pub(super) done: AtomicU64,
}

/// One value on a cache line of its own. (Arena blocks are 64-aligned, so
/// 64 it is, though some x86 processors fetch lines in adjacent pairs.)
#[repr(C, align(64))]
#[derive(Default)]
pub(super) struct Padded<T>(T);

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
    pub(super) put: Padded<PutSide>,
    /// Items published, ever: the commit of a `put`.
    pub(super) puts: Padded<AtomicU64>,
    pub(super) get: Padded<GetSide>,
    /// Items taken, ever.
    pub(super) gets: Padded<AtomicU64>,
    pub(super) not_empty: Padded<Notifier>,
    pub(super) tasks: Padded<Tasks>,
}

// SAFETY: atomics only, valid when zero, no Drop.
unsafe impl Object for State {
    const KIND: u32 = kind::QUEUE;
}

pub(super) fn pack(segment: u64, position: u64) -> u64 {
    (segment << 32) | position
}

pub(super) fn unpack(at: u64) -> (u64, u64) {
    (at >> 32, at & 0xFFFF_FFFF)
}

pub(super) fn padded(n: u64) -> u64 {
    n.div_ceil(8) * 8
}
