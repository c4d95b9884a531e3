//! macOS has no transparent huge pages to ask for: big buffers fault in as
//! they are written.

/// A hint macOS has no use for.
pub(crate) fn prefer_huge_pages(_buffer: &mut Vec<u8>) {}

/// macOS's allocator keeps freed memory for reuse by itself.
pub(crate) fn keep_freed_memory_for_reuse() {}
