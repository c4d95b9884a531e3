//! Anonymous shared memory: a memfd (no name in any file system) of a fixed
//! size, sealed at that size, and its mapping.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};

/// A memfd of `len` bytes, all zero. The pages cost nothing until touched.
/// It is close-on-exec: a child gets it only by an explicit `dup2`.
///
/// Its size is sealed: a process that shrank it would make every mapping
/// fault (SIGBUS) on the pages cut off, in every process of the tree, and
/// no process may add seals later (one forbidding writable mappings would
/// keep the next child from mapping it).
pub(crate) fn create(len: u64) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(
        "freethreading-arena",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    rustix::fs::ftruncate(&fd, len)?;
    rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)?;
    Ok(fd)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_sealed() {
        let fd = create(1 << 20).unwrap();
        assert_eq!(len(fd.as_fd()).unwrap(), 1 << 20);
        // A peer that shrank the file would make every other mapping fault
        // (SIGBUS) on the pages cut off; growing it is refused alike.
        for size in [0, 4096, 2 << 20] {
            assert_eq!(
                rustix::fs::ftruncate(&fd, size),
                Err(rustix::io::Errno::PERM),
                "resizing to {size} bytes"
            );
        }
        assert_eq!(len(fd.as_fd()).unwrap(), 1 << 20);
        let map = Mapping::new(fd.as_fd(), 1 << 20).unwrap();
        assert_eq!(map.len(), 1 << 20);
    }
}
