//! Deserializing handles that are not valid: each is an error, and none
//! leaves a mark on the block it names (an exported block is never freed).

use std::sync::atomic::AtomicU64;

use super::arena::{Arena, kind};
use super::test_support::MAPPING;
use super::{RawHandle, Shared};
use crate::codec::{decode, encode};
use crate::shared::Object;

#[repr(C)]
struct Word(AtomicU64);

// SAFETY: one atomic, valid when zero, without Drop.
unsafe impl Object for Word {
    const KIND: u32 = kind::BYTES;
}

#[repr(C)]
struct OtherKind(AtomicU64);

// SAFETY: one atomic, valid when zero, without Drop.
unsafe impl Object for OtherKind {
    const KIND: u32 = kind::EVENT;
}

/// Decodes `raw` as a `Shared<T>` against `arena`.
fn decode_in<T: Object>(arena: &'static Arena, raw: &RawHandle) -> Result<Shared<T>, String> {
    let bytes = encode(raw).expect("encode");
    MAPPING.with(|m| m.set(Some(arena)));
    let shared = decode::<Shared<T>>(&bytes);
    MAPPING.with(|m| m.set(None));
    shared.map_err(|error| error.to_string())
}

#[test]
fn garbage_handles_are_refused_and_pin_nothing() {
    // An arena of its own, so that no other test allocates from it.
    let arena: &'static Arena = Box::leak(Box::new(Arena::create(1 << 24).unwrap()));
    let shared = Shared::<Word>::new_in(arena).unwrap();
    let (offset, tag) = shared.raw();
    let id = arena.id();
    let garbage = [
        (
            "wrong tag",
            RawHandle {
                arena: id,
                offset,
                tag: tag ^ 2,
            },
        ),
        (
            "zero tag",
            RawHandle {
                arena: id,
                offset,
                tag: 0,
            },
        ),
        (
            "offset inside the block",
            RawHandle {
                arena: id,
                offset: offset + 8,
                tag,
            },
        ),
        (
            "offset out of range",
            RawHandle {
                arena: id,
                offset: 1 << 40,
                tag,
            },
        ),
        (
            "offset at the end",
            RawHandle {
                arena: id,
                offset: u64::MAX - 7,
                tag,
            },
        ),
        (
            "another arena",
            RawHandle {
                arena: id ^ 2,
                offset,
                tag,
            },
        ),
    ];
    for (what, raw) in &garbage {
        assert!(decode_in::<Word>(arena, raw).is_err(), "{what} accepted");
        assert!(!arena.is_exported(offset), "{what} pinned the block");
    }
    let wrong_kind = RawHandle {
        arena: id,
        offset,
        tag,
    };
    assert!(
        decode_in::<OtherKind>(arena, &wrong_kind).is_err(),
        "wrong kind accepted"
    );
    assert!(!arena.is_exported(offset), "a wrong kind pinned the block");

    // Unpinned, the block is freed with its last handle and reused.
    drop(shared);
    let again = Shared::<Word>::new_in(arena).unwrap();
    assert_eq!(again.raw().0, offset, "the block was freed");

    // A valid handle still decodes, and pins the block as it must.
    let (offset, tag) = again.raw();
    let copy = decode_in::<Word>(
        arena,
        &RawHandle {
            arena: id,
            offset,
            tag,
        },
    )
    .unwrap();
    assert_eq!(copy.raw(), again.raw());
    assert!(arena.is_exported(offset));
}
