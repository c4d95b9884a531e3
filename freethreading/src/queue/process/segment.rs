//! Access to one segment of a queue: a block of the arena holding records,
//! read and written as whole 8-byte words, each a relaxed atomic access.
//!
//! Another process may write a segment while this one reads it: a `get`
//! through a stale handle reads a segment that was freed and reused, and a
//! process may die half-way through a `put`. Plain reads and writes of such
//! memory would be a data race, undefined behaviour whatever the values; a
//! relaxed atomic access never is, and compiles to the same `mov` on x86-64
//! and aarch64. The ordering comes from elsewhere: a `put` writes only past
//! the queue's tail, with the producers' lock held, and publishes with a
//! release store of the count of items; a `get` reads only records that
//! count covers, after an acquire load of it. A garbage value read from a
//! segment that another process overwrote is caught by the record checks of
//! the ring, never trusted as a length or an offset unchecked.
//!
//! Every access is a whole word: records start on a word and fill theirs
//! ([`padded`](super::ring) lengths), so a record's last, partial word is
//! its own and is written whole, zero past the record. So no byte of a
//! segment is ever reached by accesses of two sizes.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::shared::Arena;
use crate::shared::arena::kind;

const WORD: u64 = 8;

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
        // Blocks start on 64 bytes of a page-aligned mapping.
        if base.align_offset(align_of::<AtomicU64>()) != 0 {
            return None;
        }
        Some(Segment { base, len })
    }

    /// The segment's length in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The words that hold `len` bytes from `at`, if `at` is on a word and
    /// they lie inside the segment.
    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is checked")]
    fn words(&self, at: u64, len: u64) -> Option<&[AtomicU64]> {
        let count = len.div_ceil(WORD);
        if at % WORD != 0 || at.checked_add(count.checked_mul(WORD)?)? > self.len {
            return None;
        }
        let count = usize::try_from(count).ok()?;
        // SAFETY: `at` is on a word of an 8-aligned segment (checked at
        // `open`), and `at + 8 * count <= self.len`, so the words lie inside
        // the block, which is mapped for the arena's lifetime (the arena
        // outlives `self`, made from a `&Arena` that a `Shared` holds for
        // good). `AtomicU64` is valid for any bits and shared access to it
        // is through atomic operations only, whoever else maps the block.
        Some(unsafe {
            std::slice::from_raw_parts(
                self.base.add(usize::try_from(at).ok()?).cast::<AtomicU64>(),
                count,
            )
        })
    }

    pub(super) fn read_u64(&self, at: u64) -> Option<u64> {
        Some(self.words(at, WORD)?[0].load(Ordering::Relaxed))
    }

    pub(super) fn write_u64(&self, at: u64, value: u64) -> Option<()> {
        self.words(at, WORD)?[0].store(value, Ordering::Relaxed);
        Some(())
    }

    /// Writes `bytes` from the word at `at`, and zeros up to the next word.
    pub(super) fn write_bytes(&self, at: u64, bytes: &[u8]) -> Option<()> {
        let words = self.words(at, bytes.len() as u64)?;
        let chunks = bytes.chunks_exact(8);
        let rest = chunks.remainder();
        for (word, chunk) in words.iter().zip(chunks) {
            word.store(
                chunk.try_into().map_or(0, u64::from_ne_bytes),
                Ordering::Relaxed,
            );
        }
        if let Some(last) = words.get(bytes.len() / 8) {
            let mut tail = [0; 8];
            tail[..rest.len()].copy_from_slice(rest);
            last.store(u64::from_ne_bytes(tail), Ordering::Relaxed);
        }
        Some(())
    }

    /// Reads `len` bytes from the word at `at` into `out`, replacing what
    /// it held.
    pub(super) fn read_bytes(&self, at: u64, len: u64, out: &mut Vec<u8>) -> Option<()> {
        let words = self.words(at, len)?;
        let len = usize::try_from(len).ok()?;
        out.clear();
        // Room for whole words, the last one's padding too: one store each.
        out.reserve(words.len() * 8);
        let room = out.spare_capacity_mut();
        for (to, word) in room.chunks_exact_mut(8).zip(words) {
            let bytes = word.load(Ordering::Relaxed).to_ne_bytes();
            for (to, byte) in to.iter_mut().zip(bytes) {
                to.write(byte);
            }
        }
        // SAFETY: the loop wrote `words.len() * 8 >= len` bytes from the
        // start of the spare capacity, which `reserve` made that long.
        unsafe { out.set_len(len) };
        Some(())
    }
}

#[cfg(all(test, process_backend))]
mod tests {
    use super::*;

    #[test]
    fn records_are_whole_words_and_round_trip() {
        let arena = Arena::create(1 << 20).unwrap();
        let block = arena.alloc(kind::SEGMENT, 256).unwrap();
        let segment = Segment::open(&arena, block.offset).unwrap();
        let mut out = Vec::new();
        for len in 0..=40u8 {
            let bytes: Vec<u8> = (1..=len).collect();
            // A longer record there first: the new one's last word is whole.
            segment.write_bytes(64, &[0xFF; 48]).unwrap();
            segment.write_bytes(64, &bytes).unwrap();
            segment.read_bytes(64, u64::from(len), &mut out).unwrap();
            assert_eq!(out, bytes);
            let padded = u64::from(len).div_ceil(8) * 8;
            segment.read_bytes(64, padded, &mut out).unwrap();
            assert!(
                out[bytes.len()..].iter().all(|&b| b == 0),
                "padding of {len}"
            );
        }
        assert_eq!(
            segment.read_u64(64 + 40),
            Some(u64::MAX),
            "nothing past the words"
        );
        // Off a word, or past the end, is refused.
        assert!(segment.write_bytes(3, b"x").is_none());
        assert!(segment.read_bytes(4, 1, &mut out).is_none());
        assert!(segment.read_u64(segment.len()).is_none());
        assert!(segment.write_bytes(segment.len() - 8, &[1; 9]).is_none());
        assert!(segment.write_bytes(segment.len() - 8, &[1; 8]).is_some());
    }
}
