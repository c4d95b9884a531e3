//! macOS has no transparent huge pages to ask for: big buffers fault in as
//! they are written.

/// A hint macOS has no use for.
pub(crate) fn prefer_huge_pages(_buffer: &mut Vec<u8>) {}
