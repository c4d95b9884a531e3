//! Shared memory from `shm_open` for systems without an anonymous memory
//! file: a fresh name, created exclusively and unlinked at once, so that the
//! memory has no name for longer than those two calls and is freed with the
//! last descriptor or mapping, as a memfd is. Nothing seals its size: a
//! process of the tree that shrank it would make the others fault.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::shm;

/// Names made by this process so far, so that each is new.
static MADE: AtomicU32 = AtomicU32::new(0);

/// A shared memory object of `len` bytes, all zero, with no name left in
/// the system; close-on-exec, as `shm_open` makes every descriptor.
pub(crate) fn create(len: u64) -> io::Result<OwnedFd> {
    let pid = super::pid::current();
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        // Short: macOS allows 31 bytes in a name.
        let name = format!(
            "/ft.{pid:x}.{:x}.{nanos:x}",
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let flags = shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR;
        match shm::open(name.as_str(), flags, Mode::RUSR | Mode::WUSR) {
            Ok(fd) => {
                shm::unlink(name.as_str())?;
                rustix::fs::ftruncate(&fd, len)?;
                return Ok(fd);
            }
            // A stale object of a dead process with the same pid: try another name.
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::other("no unused name for shared memory"))
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;
    use crate::sys::posix::mapping::{Mapping, len};

    #[test]
    fn the_memory_has_its_size_and_no_name() {
        let fd = create(1 << 20).unwrap();
        assert_eq!(len(fd.as_fd()).unwrap(), 1 << 20);
        let map = Mapping::new(fd.as_fd(), 1 << 20).unwrap();
        assert_eq!(map.len(), 1 << 20);
        let again = create(4096).unwrap();
        assert_eq!(len(again.as_fd()).unwrap(), 4096);
    }
}
