//! Anonymous shared memory: a memfd (no name in any file system) of a fixed
//! size, and its mapping.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// A memfd of `len` bytes, all zero. The pages cost nothing until touched.
/// It is close-on-exec: a child gets it only by an explicit `dup2`.
pub(crate) fn create(len: u64) -> io::Result<OwnedFd> {
    let size = libc::off_t::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: the name is a NUL-terminated literal; the call reads it only.
    let raw = unsafe { libc::memfd_create(c"freethreading-arena".as_ptr(), libc::MFD_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: `fd` is a valid descriptor; ftruncate only resizes the file.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// The size in bytes of the file behind `fd`.
pub(crate) fn len(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let file = std::fs::File::from(fd.try_clone_to_owned()?);
    Ok(file.metadata()?.len())
}

/// A shared, read-write mapping of a whole memfd. Never unmapped: shared
/// objects hand out `&'static` references into it.
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
        // SAFETY: a fresh mapping chosen by the kernel overlaps nothing of
        // ours; `fd` is valid for the call and the mapping keeps its own
        // reference to the file.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
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
