//! Anonymous shared memory on Linux: a memfd (no name in any file system)
//! of a fixed size, sealed at that size; `sys/posix/mapping.rs` maps it.

use std::io;
use std::os::fd::OwnedFd;

use rustix::fs::{MemfdFlags, SealFlags};

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

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;
    use crate::sys::posix::mapping::{Mapping, len};

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
