//! Raw access to one segment of a queue: a block of the arena holding
//! records, read and written as plain bytes.
//!
//! Every access is bounds-checked against the block. Plain (non-atomic)
//! accesses are race-free because of who may touch which bytes: a `put`
//! writes only past the queue's tail, with the producers' lock held, and
//! publishes them with a release store of the count of items; a `get`
//! reads only records that count covers, with the consumers' lock held,
//! after an acquire load of it. A garbage value read from a segment that
//! another process overwrote is caught by the record checks of the ring,
//! never trusted as a length or an offset unchecked.

use crate::shared::Arena;
use crate::shared::arena::kind;

/// A segment's bytes in this process's mapping.
pub(super) struct Segment {
    base: *mut u8,
    len: u64,
}

impl Segment {
    /// The segment whose data starts at `offset`, if a segment block is
    /// there.
    pub(super) fn open(arena: &Arena, offset: u64) -> Option<Segment> {
        let (base, len) = arena.bytes(offset, kind::SEGMENT)?;
        Some(Segment { base, len })
    }

    /// The segment's length in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// A pointer to `len` bytes at `at`, if they lie inside the segment.
    fn at(&self, at: u64, len: u64) -> Option<*mut u8> {
        if at.checked_add(len)? > self.len {
            return None;
        }
        // SAFETY: `at + len <= self.len`, so the pointer stays inside the
        // block, which is mapped for the arena's lifetime.
        Some(unsafe { self.base.add(usize::try_from(at).ok()?) })
    }

    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked first")]
    pub(super) fn read_u64(&self, at: u64) -> Option<u64> {
        if at % 8 != 0 {
            return None;
        }
        let word = self.at(at, 8)?.cast::<u64>();
        // SAFETY: in bounds (checked by `at`) and 8-aligned, because the
        // segment is; the word belongs to a published record or to the
        // caller's own side of the queue (see the module comment).
        Some(unsafe { word.read() })
    }

    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked first")]
    pub(super) fn write_u64(&self, at: u64, value: u64) -> Option<()> {
        if at % 8 != 0 {
            return None;
        }
        let word = self.at(at, 8)?.cast::<u64>();
        // SAFETY: as in `read_u64`; the word lies past the tail, where only
        // the producers' lock holder touches it.
        unsafe { word.write(value) };
        Some(())
    }

    pub(super) fn write_bytes(&self, at: u64, bytes: &[u8]) -> Option<()> {
        let to = self.at(at, bytes.len() as u64)?;
        // SAFETY: the range is inside the segment (checked by `at`) and past
        // the tail, where nobody reads; `bytes` is private memory, so the
        // ranges do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), to, bytes.len()) };
        Some(())
    }

    pub(super) fn read_bytes(&self, at: u64, len: u64, out: &mut Vec<u8>) -> Option<()> {
        let from = self.at(at, len)?;
        let len = usize::try_from(len).ok()?;
        out.clear();
        out.reserve(len);
        // SAFETY: the range is inside the segment (checked by `at`) and
        // holds a published record, which nobody writes while the
        // consumers' lock is held; `out` has room for `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(from, out.as_mut_ptr(), len);
            out.set_len(len);
        }
        Some(())
    }
}
