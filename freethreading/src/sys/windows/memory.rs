//! Windows: no hint for big buffers. Large pages need the "lock pages in
//! memory" privilege, which ordinary accounts lack, so a buffer keeps the
//! pages it gets.

/// Changes nothing: see the module's note.
pub(crate) fn prefer_huge_pages(_buffer: &mut Vec<u8>) {}

/// The Windows heap keeps freed memory for reuse by itself.
pub(crate) fn keep_freed_memory_for_reuse() {}
