//! A shared, read-write mapping of a whole file of shared memory (`mmap`),
//! and the size of that file: how every process of a tree sees the arena,
//! whichever system made the memory.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::ptr::NonNull;

use rustix::mm::{MapFlags, ProtFlags};

/// The size in bytes of the file behind `fd`.
pub(crate) fn len(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let size = rustix::fs::fstat(fd)?.st_size;
    u64::try_from(size).map_err(|_| io::ErrorKind::InvalidData.into())
}

/// A shared, read-write mapping of a whole memfd. The arena of a process
/// tree is never dropped (shared objects hand out `&'static` references
/// into it); any other mapping is unmapped when dropped.
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory, accessed only through atomics
// or under the locks kept inside it; the pointer itself never changes.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps all `len` bytes of `fd`, shared with every other mapping of it.
    pub(crate) fn new(fd: BorrowedFd<'_>, len: u64) -> io::Result<Mapping> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh mapping chosen by the kernel (no address asked
        // for) overlaps nothing of ours; `fd` is valid for the call and the
        // mapping keeps its own reference to the file.
        let base = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd.as_fd(),
                0,
            )?
        };
        let base = NonNull::new(base.cast::<u8>()).ok_or(io::ErrorKind::OutOfMemory)?;
        Ok(Mapping { base, len })
    }

    /// The first byte; the mapping is page-aligned.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` are the mapping `new` made, unmapped only
        // here; every reference into it borrows the `Arena` that owns this
        // `Mapping` (the process's own arena is leaked, never dropped).
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}
