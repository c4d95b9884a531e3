//! Anonymous shared memory: a pagefile-backed section (no name, no file) of
//! a fixed size, and its views.
//!
//! The section starts with a 64 KiB parking region that is not part of the
//! arena (64 KiB: a view's offset must be a multiple of the allocation
//! granularity): its header records the arena's size and an id that names
//! the events of [`futex`](super::futex), and its buckets count the waiters.
//! [`Mapping::base`] is the first byte after it, so the arena's layout is
//! the same as on Linux.

use std::io;
use std::os::windows::io::{AsRawHandle, BorrowedHandle, OwnedHandle};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FILE_MAP_ALL_ACCESS, MEMORY_MAPPED_VIEW_ADDRESS, MapViewOfFile,
    PAGE_READWRITE, UnmapViewOfFile,
};

/// The arena's handle, in the platform's terms (`memfd::Owned` above `sys/`).
pub(crate) use std::os::windows::io::{BorrowedHandle as Borrowed, OwnedHandle as Owned};

pub(crate) fn borrow(section: &Owned) -> Borrowed<'_> {
    std::os::windows::io::AsHandle::as_handle(section)
}

/// Bytes before the arena: the header and the parking buckets.
pub(crate) const PARKING: usize = 64 * 1024;

/// The header at the start of the parking region.
#[repr(C)]
pub(crate) struct Header {
    /// The arena's size in bytes (the section is `PARKING` more).
    pub(crate) len: AtomicU64,
    /// Nonzero, unique to this section: the prefix of its event names.
    pub(crate) id: AtomicU64,
}

/// A section of `PARKING + len` bytes, all zero; the pages cost nothing
/// until touched. The handle is not inheritable: a child gets it only by
/// `DuplicateHandle`. A section's size is fixed at creation, so no process
/// can shrink it under another's view.
pub(crate) fn create(len: u64) -> io::Result<OwnedHandle> {
    let total = len
        .checked_add(PARKING as u64)
        .ok_or(io::ErrorKind::InvalidInput)?;
    #[allow(clippy::cast_possible_truncation, reason = "the two halves of a u64")]
    let (high, low) = ((total >> 32) as u32, total as u32);
    // SAFETY: plain call; a null name and attributes ask for an anonymous,
    // non-inheritable section backed by the pagefile.
    let section = super::owned(unsafe {
        CreateFileMappingW(
            INVALID_HANDLE_VALUE,
            std::ptr::null(),
            PAGE_READWRITE,
            high,
            low,
            std::ptr::null(),
        )
    })?;
    let view = View::new(section.as_raw_handle(), PARKING)?;
    let header = view.header();
    header.len.store(len, Ordering::Relaxed);
    header.id.store(fresh_id(), Ordering::Release);
    Ok(section)
}

/// An id no other section of this machine has now: this process's id and
/// creation time, and a counter.
fn fresh_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(
        &(std::process::id(), super::pid::own_start_time()),
        &mut hasher,
    );
    let salt = std::hash::Hasher::finish(&hasher);
    (salt ^ NEXT.fetch_add(1, Ordering::Relaxed).rotate_right(16)) | 1
}

/// The arena's size in bytes, as its creator recorded it.
pub(crate) fn len(section: BorrowedHandle<'_>) -> io::Result<u64> {
    let view = View::new(section.as_raw_handle(), PARKING)?;
    match view.header().len.load(Ordering::Relaxed) {
        0 => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not an arena section",
        )),
        len => Ok(len),
    }
}

/// A view of the first `len` bytes of a section, unmapped when dropped.
struct View(NonNull<u8>);

impl View {
    fn new(section: *mut std::ffi::c_void, len: usize) -> io::Result<View> {
        // SAFETY: `section` is a live section handle for the call; the view
        // keeps its own reference to the section.
        let view = unsafe { MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, len) };
        NonNull::new(view.Value.cast::<u8>())
            .map(View)
            .ok_or_else(io::Error::last_os_error)
    }

    fn header(&self) -> &Header {
        // SAFETY: the view is at least `PARKING` bytes, page-aligned, and
        // the header holds atomics only, valid at any bit pattern.
        unsafe { self.0.cast::<Header>().as_ref() }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        // SAFETY: the view `new` made, unmapped only here.
        unsafe {
            UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS {
                Value: self.0.as_ptr().cast(),
            })
        };
    }
}

/// A shared, read-write view of a whole section; the arena is its part
/// after the parking region. Registered with [`futex`](super::futex) while
/// it lives, so that waits on its words reach other processes.
pub(crate) struct Mapping {
    view: View,
    len: usize,
}

// SAFETY: the mapping is plain shared memory, accessed only through atomics
// or under the locks kept inside it; the pointer itself never changes.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the parking region and all `len` bytes of the arena of `section`.
    pub(crate) fn new(section: BorrowedHandle<'_>, len: u64) -> io::Result<Mapping> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        let total = len
            .checked_add(PARKING)
            .ok_or(io::ErrorKind::InvalidInput)?;
        let view = View::new(section.as_raw_handle(), total)?;
        let id = view.header().id.load(Ordering::Acquire);
        if id == 0 || view.header().len.load(Ordering::Relaxed) != len as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an arena section of that size",
            ));
        }
        super::futex::register(view.0, total, id);
        Ok(Mapping { view, len })
    }

    /// The first byte of the arena; 64 KiB-aligned.
    pub(crate) fn base(&self) -> NonNull<u8> {
        // SAFETY: the view is `PARKING + len` bytes long.
        unsafe { self.view.0.add(PARKING) }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        super::futex::unregister(self.view.0);
    }
}

#[cfg(test)]
mod tests {
    use std::os::windows::io::AsHandle;

    use super::*;

    #[test]
    fn two_views_share_the_arena_and_know_its_size() {
        let section = create(1 << 20).unwrap();
        assert_eq!(len(section.as_handle()).unwrap(), 1 << 20);
        let a = Mapping::new(section.as_handle(), 1 << 20).unwrap();
        let b = Mapping::new(section.as_handle(), 1 << 20).unwrap();
        assert_ne!(a.base(), b.base());
        assert_eq!(a.len(), 1 << 20);
        // SAFETY: both views hold 1 MiB; the last byte of each is the same.
        unsafe {
            a.base().add((1 << 20) - 1).write_volatile(7);
            assert_eq!(b.base().add((1 << 20) - 1).read_volatile(), 7);
        }
        assert!(
            Mapping::new(section.as_handle(), 4096).is_err(),
            "a wrong size is refused"
        );
    }
}
