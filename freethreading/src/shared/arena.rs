//! The arena: one fixed-size memfd that every process of the tree maps, with
//! a size-class allocator kept inside it.
//!
//! Layout: a [`Header`] in the first page, the table of the tree's
//! processes ([`members`](super::members)), then blocks. A block is a 64-byte
//! [`BlockHeader`] and its data, `128 << class` bytes in all, carved from a
//! bump pointer and recycled through one free list per class. The lists and
//! the bump pointer sit behind a [`WordLock`]; every allocator step writes
//! its links in an order where a process dying half-way leaks a block at
//! worst, so a lock taken from a dead owner needs no repair.
//!
//! Nothing in the arena is a pointer: links are offsets from its start, and
//! every offset read from it or from a handle is bounds-checked before use.
//! A block carries a kind and a random tag, renewed at every allocation;
//! a handle names (arena id, offset, tag), so a handle from another arena,
//! to a freed block, or made of garbage fails validation.

use std::io;
use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::members::{MEMBERS, Member};
use super::word_lock::WordLock;
use crate::sys::memfd::Mapping;

#[cfg(process_backend)]
const MAGIC: u64 = 0x6672_6565_7468_7231; // "freethr1"
/// Where the table of processes starts; the header has the first page.
const MEMBERS_AT: usize = 4096;
/// Where blocks start, after the table of processes.
const FIRST_BLOCK: u64 = (MEMBERS_AT + MEMBERS * size_of::<Member>()) as u64;
/// A block's header, and the alignment of every block.
pub(crate) const BLOCK_HEADER: u64 = 64;
const SMALLEST: u64 = 128;
const CLASSES: usize = 26;

/// The arena's fixed size unless a test asks for another: sparse, so the
/// pages cost nothing until used.
pub(crate) const DEFAULT_LEN: u64 = 1 << 30;

/// A kind of block, checked when a handle is resolved.
pub(crate) mod kind {
    pub(crate) const FREE: u32 = 0;
    pub(crate) const LOCK: u32 = 1;
    pub(crate) const RLOCK: u32 = 2;
    pub(crate) const SEMAPHORE: u32 = 3;
    pub(crate) const EVENT: u32 = 4;
    pub(crate) const CONDITION: u32 = 5;
    pub(crate) const WAITER: u32 = 6;
    pub(crate) const BARRIER: u32 = 7;
    #[cfg(all(test, process_backend))]
    pub(crate) const BYTES: u32 = 8;
    pub(crate) const QUEUE: u32 = 9;
    pub(crate) const SEGMENT: u32 = 10;
    pub(crate) const PAYLOAD: u32 = 11;
}

/// A type that may live in the arena.
///
/// # Safety
///
/// The type is `#[repr(C)]`, made only of atomics (or arrays or structs of
/// them), valid when every byte is zero, and without `Drop`: another process
/// may read or write it at any time, and a fresh block is all zeros.
pub(crate) unsafe trait Object: Sync + Send + 'static {
    /// The block kind that holds this type.
    const KIND: u32;
}

#[repr(C)]
struct Header {
    magic: AtomicU64,
    id: AtomicU64,
    len: AtomicU64,
    top: AtomicU64,
    nonce: AtomicU64,
    lock: WordLock,
    /// The last process token handed out.
    tokens: AtomicU32,
    free: [AtomicU64; CLASSES],
    /// How many deaths [`Arena::record_death`] was told of.
    deaths: AtomicU64,
    /// The tokens of the last [`DEATHS`] of them, by count modulo the length.
    dead: [AtomicU32; DEATHS],
}

/// How many recent deaths the arena remembers.
pub(crate) const DEATHS: usize = 64;

/// The slot of the death numbered `count` in the ring.
fn death_slot(count: u64) -> usize {
    // The remainder is below DEATHS, so it fits any usize.
    usize::try_from(count % DEATHS as u64).unwrap_or(0)
}

#[repr(C)]
pub(crate) struct BlockHeader {
    tag: AtomicU64,
    kind: AtomicU32,
    class: AtomicU32,
    next_free: AtomicU64,
    /// Set once a handle to the block left this process: it then lives as
    /// long as the arena, since nobody can count the copies.
    exported: AtomicU32,
    /// The token of the process that allocated the block, so that blocks a
    /// dead process was passing on can be found ([`Arena::blocks_of`]).
    owner: AtomicU32,
    _pad: [AtomicU32; 8],
}

// The arena's own words: never a block of their own, so their kind is never
// looked up; `Object` is what lets `Arena::at` reach them.
// SAFETY: an atomic, valid when zero, without Drop.
unsafe impl Object for AtomicU64 {
    const KIND: u32 = kind::FREE;
}
// SAFETY: atomics only, valid when zero, without Drop.
unsafe impl Object for BlockHeader {
    const KIND: u32 = kind::FREE;
}

const _: () = assert!(size_of::<BlockHeader>() as u64 == BLOCK_HEADER);
const _: () = assert!(size_of::<Header>() <= MEMBERS_AT);
const _: () = assert!(FIRST_BLOCK % BLOCK_HEADER == 0);

/// A block handed out by [`Arena::alloc`]: where its data starts, and its tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) offset: u64,
    pub(crate) tag: u64,
}

/// This process's mapping of the arena.
pub(crate) struct Arena {
    map: Mapping,
    #[cfg(process_backend)]
    fd: crate::sys::memfd::Owned,
    id: u64,
    len: u64,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(process_backend)]
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

fn class_of(data_len: u64) -> Option<usize> {
    let total = data_len.checked_add(BLOCK_HEADER)?.max(SMALLEST);
    let class = (total.next_power_of_two() / SMALLEST).trailing_zeros() as usize;
    (class < CLASSES).then_some(class)
}

fn class_len(class: usize) -> u64 {
    SMALLEST << class
}

impl Arena {
    /// A new arena of `len` bytes, all free.
    #[cfg(process_backend)]
    pub(crate) fn create(len: u64) -> io::Result<Arena> {
        if len < FIRST_BLOCK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an arena needs room for its header and table of processes",
            ));
        }
        let fd = crate::sys::memfd::create(len)?;
        let map = Mapping::new(crate::sys::memfd::borrow(&fd), len)?;
        let arena = Arena {
            map,
            fd,
            id: splitmix(random_seed()) | 1,
            len,
        };
        let header = arena.header();
        header.id.store(arena.id, Ordering::Relaxed);
        header.len.store(len, Ordering::Relaxed);
        header.top.store(FIRST_BLOCK, Ordering::Relaxed);
        header.nonce.store(random_seed(), Ordering::Relaxed);
        header.magic.store(MAGIC, Ordering::Release);
        Ok(arena)
    }

    /// Maps an arena that another process created, from its memfd.
    #[cfg(process_backend)]
    pub(crate) fn open(fd: crate::sys::memfd::Owned) -> io::Result<Arena> {
        let len = crate::sys::memfd::len(crate::sys::memfd::borrow(&fd))?;
        if len < FIRST_BLOCK {
            return Err(invalid(
                "the inherited descriptor is too small to be an arena",
            ));
        }
        let map = Mapping::new(crate::sys::memfd::borrow(&fd), len)?;
        let mut arena = Arena {
            map,
            fd,
            id: 0,
            len,
        };
        let header = arena.header();
        if header.magic.load(Ordering::Acquire) != MAGIC
            || header.len.load(Ordering::Relaxed) != len
        {
            return Err(invalid(
                "the inherited descriptor is not a freethreading arena",
            ));
        }
        arena.id = header.id.load(Ordering::Relaxed);
        Ok(arena)
    }

    /// Without memfd there is no arena.
    #[cfg(not(process_backend))]
    pub(crate) fn create(_len: u64) -> io::Result<Arena> {
        crate::sys::memfd::unsupported()
    }

    /// The descriptor a child process must inherit.
    #[cfg(process_backend)]
    pub(crate) fn fd(&self) -> crate::sys::memfd::Borrowed<'_> {
        crate::sys::memfd::borrow(&self.fd)
    }

    /// The random id shared by every mapping of this arena.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The table of the tree's processes, and the counter of their tokens.
    #[allow(clippy::cast_ptr_alignment, reason = "the mapping is page-aligned")]
    pub(crate) fn members(&self) -> (&[Member; MEMBERS], &AtomicU32) {
        // SAFETY: the table lies between MEMBERS_AT and FIRST_BLOCK, inside
        // the mapping (at least FIRST_BLOCK long, checked at create and
        // open) and aligned (MEMBERS_AT is a page boundary of a page-aligned
        // mapping); `Member` is made of atomics valid when zero, and the
        // mapping is never unmapped while `self` lives.
        let table = unsafe {
            &*self
                .map
                .base()
                .as_ptr()
                .add(MEMBERS_AT)
                .cast::<[Member; MEMBERS]>()
        };
        (table, &self.header().tokens)
    }

    #[allow(clippy::cast_ptr_alignment, reason = "the mapping is page-aligned")]
    fn header(&self) -> &Header {
        // SAFETY: the mapping is page-aligned and at least FIRST_BLOCK long
        // (checked at create and open), `Header` is made of atomics valid
        // when zero, and the mapping is never unmapped while `self` lives.
        unsafe { &*self.map.base().as_ptr().cast::<Header>() }
    }

    /// `&T` at `offset` if `[offset, offset + size_of::<T>())` is inside the
    /// arena and aligned; never a reference out of bounds.
    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked first")]
    fn at<T: Object>(&self, offset: u64) -> Option<&T> {
        let end = offset.checked_add(size_of::<T>() as u64)?;
        if offset < FIRST_BLOCK || end > self.len || offset % align_of::<T>() as u64 != 0 {
            return None;
        }
        debug_assert!(self.map.len() as u64 == self.len);
        let offset = usize::try_from(offset).ok()?;
        // SAFETY: in bounds and aligned (checked above); `T: Object` is
        // valid for any bytes another process may have written, and shared
        // access goes through its atomics only.
        Some(unsafe { &*self.map.base().as_ptr().add(offset).cast::<T>() })
    }

    fn block(&self, block: u64) -> Option<&BlockHeader> {
        if block % BLOCK_HEADER != 0 {
            return None;
        }
        self.at::<BlockHeader>(block)
    }

    /// Allocates a block of `kind` with room for `data_len` bytes, zeroed;
    /// `None` when the arena is full.
    pub(crate) fn alloc(&self, kind: u32, data_len: u64) -> Option<Block> {
        self.alloc_as(kind, data_len, true, 0)
    }

    /// Allocates a block of `kind` for `data_len` bytes that its owner, the
    /// process of token `owner`, overwrites at once: a reused block keeps
    /// whatever it held (zeroing a big one would touch every page twice).
    pub(crate) fn alloc_dirty(&self, kind: u32, data_len: u64, owner: u32) -> Option<Block> {
        self.alloc_as(kind, data_len, false, owner)
    }

    fn alloc_as(&self, kind: u32, data_len: u64, zeroed: bool, owner: u32) -> Option<Block> {
        let class = class_of(data_len)?;
        let size = class_len(class);
        let header = self.header();
        header.lock.lock(None);
        let head = header.free[class].load(Ordering::Acquire);
        let free = (head != 0).then(|| self.block(head)).flatten();
        let block = if let Some(free) = free {
            header.free[class].store(free.next_free.load(Ordering::Relaxed), Ordering::Release);
            Some((head, true))
        } else {
            let top = header.top.load(Ordering::Relaxed);
            match top.checked_add(size) {
                Some(end) if end <= self.len => {
                    header.top.store(end, Ordering::Relaxed);
                    Some((top, false))
                }
                _ => None,
            }
        };
        // The class is written with the lock held, so that a walk of the
        // blocks under it ([`blocks_of`](Self::blocks_of)) can step over
        // every block, even one being set up.
        if let Some((offset, _)) = block {
            if let Some(fresh) = self.block(offset) {
                fresh
                    .class
                    .store(u32::try_from(class).unwrap_or(u32::MAX), Ordering::Relaxed);
            }
        }
        header.lock.unlock();
        let (offset, reused) = block?;
        if reused && zeroed {
            self.zero(offset + BLOCK_HEADER, size - BLOCK_HEADER);
        }
        let tag = self.fresh_tag();
        let block_header = self.block(offset)?;
        block_header.next_free.store(0, Ordering::Relaxed);
        block_header.exported.store(0, Ordering::Relaxed);
        block_header.owner.store(owner, Ordering::Relaxed);
        block_header.kind.store(kind, Ordering::Relaxed);
        block_header.tag.store(tag, Ordering::Release);
        Some(Block {
            offset: offset + BLOCK_HEADER,
            tag,
        })
    }

    /// A new tag, never 0.
    fn fresh_tag(&self) -> u64 {
        splitmix(self.header().nonce.fetch_add(1, Ordering::Relaxed) ^ self.id) | 1
    }

    /// Takes over the block at `data` if it still carries `tag`: it gets a
    /// fresh tag, so that whoever holds the old one can no longer free it,
    /// and `owner` as its owner, so that it is freed with that process's
    /// death rather than its allocator's. The new tag; `None` if the block
    /// was freed or taken over already. Both steps happen under the
    /// allocator's (robust) lock (a process dying between them leaves the
    /// block to its old owner, freed with that one's death), so a walk for
    /// a dead process's blocks
    /// ([`blocks_of`](Self::blocks_of)) sees the old tag with the old owner
    /// or the new tag with the new one, never the new tag with the old
    /// owner, which would free the block under its new holder.
    pub(crate) fn take_over(&self, data: u64, tag: u64, owner: u32) -> Option<u64> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        let fresh = self.fresh_tag();
        if tag == 0 {
            return None;
        }
        let header = self.header();
        header.lock.lock(None);
        let taken = block
            .tag
            .compare_exchange(tag, fresh, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
        if taken {
            block.owner.store(owner, Ordering::Relaxed);
        }
        header.lock.unlock();
        taken.then_some(fresh)
    }

    fn zero(&self, offset: u64, len: u64) {
        let words = len / 8;
        for i in 0..words {
            if let Some(word) = self.at::<AtomicU64>(offset + i * 8) {
                word.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Gives back the block at `data` if it still carries `tag`; `false` if
    /// it does not (freed already, by this or another process). Of two
    /// processes that race to free one block, exactly one does.
    pub(crate) fn free_tagged(&self, data: u64, tag: u64) -> bool {
        let Some(block) = data.checked_sub(BLOCK_HEADER).and_then(|b| self.block(b)) else {
            return false;
        };
        if tag == 0
            || block
                .tag
                .compare_exchange(tag, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        self.free(data);
        true
    }

    /// Records `owner` as the owner of the block at `data`, if it carries
    /// `tag`: under the allocator's lock, so that a receiver's
    /// [`take_over`](Self::take_over) in between is not overwritten.
    pub(crate) fn set_owner(&self, data: u64, tag: u64, owner: u32) {
        if let Some(block) = data.checked_sub(BLOCK_HEADER).and_then(|b| self.block(b)) {
            let header = self.header();
            header.lock.lock(None);
            if tag != 0 && block.tag.load(Ordering::Acquire) == tag {
                block.owner.store(owner, Ordering::Relaxed);
            }
            header.lock.unlock();
        }
    }

    /// The owner of the block at `data` ([`alloc_dirty`](Self::alloc_dirty)),
    /// if it still carries `tag`: `None` once it is freed or taken over.
    pub(crate) fn owner(&self, data: u64, tag: u64) -> Option<u32> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        let owner = block.owner.load(Ordering::Relaxed);
        (tag != 0 && block.tag.load(Ordering::Acquire) == tag).then_some(owner)
    }

    /// The shared word at `offset` (8-aligned, inside the arena): a counter
    /// kept in a block's data, such as a streamed payload's progress.
    pub(crate) fn word(&self, offset: u64) -> Option<&AtomicU64> {
        self.at(offset)
    }

    /// The blocks of `kind` that the process of `owner` allocated and that
    /// are still in use, as (data offset, tag): a walk of every block, for
    /// the rare death of a process.
    pub(crate) fn blocks_of(&self, kind: u32, owner: u32) -> Vec<(u64, u64)> {
        let header = self.header();
        let mut found = Vec::new();
        header.lock.lock(None);
        let top = header.top.load(Ordering::Relaxed);
        let mut at = FIRST_BLOCK;
        while at < top {
            let Some(block) = self.block(at) else { break };
            let class = block.class.load(Ordering::Relaxed) as usize;
            if class >= CLASSES {
                break;
            }
            if block.kind.load(Ordering::Acquire) == kind
                && block.owner.load(Ordering::Relaxed) == owner
            {
                found.push((at + BLOCK_HEADER, block.tag.load(Ordering::Acquire)));
            }
            at += class_len(class);
        }
        header.lock.unlock();
        found
    }

    /// Gives a block back; its handles go stale.
    pub(crate) fn free(&self, data: u64) {
        let Some(block_offset) = data.checked_sub(BLOCK_HEADER) else {
            return;
        };
        let Some(block) = self.block(block_offset) else {
            return;
        };
        let class = block.class.load(Ordering::Relaxed) as usize;
        if class >= CLASSES || block.kind.load(Ordering::Relaxed) == kind::FREE {
            return;
        }
        block.tag.store(0, Ordering::Release);
        block.kind.store(kind::FREE, Ordering::Relaxed);
        let header = self.header();
        header.lock.lock(None);
        // Nobody's while free, written under the lock: a walk for a dead
        // process's blocks then never pairs a later allocation's kind and
        // tag with this block's old owner (`alloc_as` sets them after
        // unlocking, with no order a weakly ordered processor keeps).
        block.owner.store(0, Ordering::Relaxed);
        block.next_free.store(
            header.free[class].load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        header.free[class].store(block_offset, Ordering::Release);
        header.lock.unlock();
    }

    /// The object of type `T` in the block whose data starts at `data`, if
    /// the block holds a `T` and carries `tag`.
    pub(crate) fn resolve<T: Object>(&self, data: u64, tag: u64) -> Option<&T> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        let class = block.class.load(Ordering::Relaxed) as usize;
        let fits = class < CLASSES && size_of::<T>() as u64 <= class_len(class) - BLOCK_HEADER;
        if tag == 0
            || block.tag.load(Ordering::Acquire) != tag
            || block.kind.load(Ordering::Relaxed) != T::KIND
            || !fits
        {
            return None;
        }
        self.at::<T>(data)
    }

    /// The object of type `T` at `data`, checking only the block's kind: for
    /// links inside the arena, which carry no tag.
    pub(crate) fn follow<T: Object>(&self, data: u64) -> Option<&T> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        if block.kind.load(Ordering::Acquire) != T::KIND {
            return None;
        }
        self.at::<T>(data)
    }

    /// Remembers that the process of `token` ([`members`](super::members))
    /// died, for waiters that watch a set of processes (a barrier's parties).
    pub(crate) fn record_death(&self, token: u32) {
        let header = self.header();
        header.lock.lock(None);
        let count = header.deaths.load(Ordering::Relaxed);
        header.dead[death_slot(count)].store(token, Ordering::Relaxed);
        header.deaths.store(count + 1, Ordering::Release);
        header.lock.unlock();
    }

    /// How many deaths were recorded so far.
    pub(crate) fn deaths(&self) -> u64 {
        self.header().deaths.load(Ordering::Acquire)
    }

    /// Whether a process for which `watched` holds is among the deaths
    /// recorded since count `since` (the last [`DEATHS`] of them at most).
    pub(crate) fn died_since(&self, since: u64, watched: impl Fn(u32) -> bool) -> bool {
        let header = self.header();
        let now = header.deaths.load(Ordering::Acquire);
        let from = since.max(now.saturating_sub(DEATHS as u64));
        (from..now).any(|i| watched(header.dead[death_slot(i)].load(Ordering::Relaxed)))
    }

    /// Marks a block as known to other processes, so it is never freed.
    pub(crate) fn export(&self, data: u64) {
        if let Some(block) = data.checked_sub(BLOCK_HEADER).and_then(|b| self.block(b)) {
            block.exported.store(1, Ordering::Relaxed);
        }
    }

    /// Whether [`export`](Self::export) was called for the block.
    pub(crate) fn is_exported(&self, data: u64) -> bool {
        data.checked_sub(BLOCK_HEADER)
            .and_then(|b| self.block(b))
            .is_none_or(|block| block.exported.load(Ordering::Relaxed) != 0)
    }

    /// As [`bytes`](Self::bytes), for a block that must also carry `tag`.
    pub(crate) fn bytes_tagged(&self, data: u64, kind: u32, tag: u64) -> Option<(*mut u8, u64)> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        if tag == 0 || block.tag.load(Ordering::Acquire) != tag {
            return None;
        }
        self.bytes(data, kind)
    }

    /// The usable bytes of the block whose data starts at `data` and is of
    /// `kind`, as a raw range checked to lie inside the arena.
    pub(crate) fn bytes(&self, data: u64, kind: u32) -> Option<(*mut u8, u64)> {
        let block = self.block(data.checked_sub(BLOCK_HEADER)?)?;
        let class = block.class.load(Ordering::Relaxed) as usize;
        if class >= CLASSES || block.kind.load(Ordering::Acquire) != kind {
            return None;
        }
        let len = class_len(class) - BLOCK_HEADER;
        if data.checked_add(len)? > self.len {
            return None;
        }
        let offset = usize::try_from(data).ok()?;
        // SAFETY: `offset + len` is inside the mapping (checked above), so
        // the pointer stays in bounds of the same allocation.
        Some((unsafe { self.map.base().as_ptr().add(offset) }, len))
    }
}

#[cfg(process_backend)]
fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(all(test, process_backend))]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Default)]
    struct Counter(AtomicU64);

    // SAFETY: one atomic, valid when zero, no Drop.
    unsafe impl Object for Counter {
        const KIND: u32 = kind::BYTES;
    }

    #[test]
    fn classes_cover_every_size_up_to_the_largest() {
        assert_eq!(class_of(0), Some(0));
        assert_eq!(class_of(64), Some(0));
        assert_eq!(class_of(65), Some(1));
        assert_eq!(class_len(class_of(1 << 20).unwrap()), 1 << 21);
        assert_eq!(class_of(u64::MAX), None);
    }

    #[test]
    fn two_mappings_see_one_object_and_stale_handles_fail() {
        let arena = Arena::create(1 << 24).unwrap();
        let other = Arena::open(arena.fd().try_clone_to_owned().unwrap()).unwrap();
        assert_eq!(arena.id(), other.id());
        let block = arena.alloc(kind::BYTES, 8).unwrap();
        let here = arena.resolve::<Counter>(block.offset, block.tag).unwrap();
        let there = other.resolve::<Counter>(block.offset, block.tag).unwrap();
        assert_ne!(std::ptr::from_ref(here), std::ptr::from_ref(there));
        here.0.store(42, Ordering::SeqCst);
        assert_eq!(there.0.load(Ordering::SeqCst), 42);
        assert!(
            other
                .resolve::<Counter>(block.offset, block.tag ^ 2)
                .is_none()
        );
        assert!(
            other
                .resolve::<Counter>(block.offset + 8, block.tag)
                .is_none()
        );
        assert!(other.resolve::<Counter>(u64::MAX - 7, block.tag).is_none());
        assert!(other.resolve::<Counter>(1 << 40, block.tag).is_none());
        arena.free(block.offset);
        assert!(other.resolve::<Counter>(block.offset, block.tag).is_none());
        let again = arena.alloc(kind::BYTES, 8).unwrap();
        assert_eq!(again.offset, block.offset, "a freed block is reused");
        assert_ne!(again.tag, block.tag);
        assert_eq!(
            arena
                .resolve::<Counter>(again.offset, again.tag)
                .unwrap()
                .0
                .load(Ordering::SeqCst),
            0,
            "a reused block is zeroed"
        );
    }

    #[test]
    fn a_full_arena_refuses_an_allocation() {
        let arena = Arena::create(FIRST_BLOCK + (1 << 16)).unwrap();
        assert!(arena.alloc(kind::BYTES, 1 << 20).is_none());
        assert!(arena.alloc(kind::BYTES, 1 << 10).is_some());
    }
}
