//! Linux: asking for transparent huge pages under a big buffer about to be
//! written, so that it faults in 2 MiB at a time rather than 4 KiB: a fresh
//! 64 MiB `Vec` filled from shared memory costs about 8 ms this way against
//! 35 ms in 16,384 small faults (the machine's THP setting is `madvise`).
//! And keeping a worker process's freed memory for its next task.

use rustix::mm::{Advice, madvise};

/// Below this, the buffer cannot hold a whole huge page often enough to matter.
const WORTH_IT: usize = 4 << 20;

/// Advises huge pages for the allocation of `buffer` (its whole capacity),
/// when it is big enough; a hint that changes nothing else.
pub(crate) fn prefer_huge_pages(buffer: &mut Vec<u8>) {
    let capacity = buffer.capacity();
    if capacity < WORTH_IT {
        return;
    }
    let page = rustix::param::page_size();
    let start = buffer.as_mut_ptr() as usize;
    // The pages wholly inside the allocation.
    let first = start.next_multiple_of(page);
    let end = (start + capacity) / page * page;
    if end <= first {
        return;
    }
    // SAFETY: [first, end) lies inside `buffer`'s allocation, which this
    // function borrows mutably; MADV_HUGEPAGE only changes how the kernel
    // backs those pages, never their contents.
    let _ = unsafe {
        madvise(
            first as *mut std::ffi::c_void,
            end - first,
            Advice::LinuxHugepage,
        )
    };
}

/// How much freed memory at the top of the heap a worker keeps for its next task.
#[cfg(target_env = "gnu")]
const KEEP_FREED: i32 = 64 << 20;

/// Below this size, glibc serves an allocation from its heap rather than from
/// a mapping of its own (glibc's own ceiling for the threshold it picks).
#[cfg(target_env = "gnu")]
const MAP_ABOVE: i32 = 32 << 20;

/// Tunes glibc's allocator for a worker process, which allocates the same
/// buffers task after task (a chunk's items, its results, their encoding)
/// and frees them in between. Left alone, glibc hands the freed top of its
/// heap back to the kernel after each task and faults the pages in again for
/// the next: a third of a map's time over tiny items went to `brk` and page
/// faults. A worker now keeps up to 64 MiB of freed memory; blocks of 32 MiB
/// and more still get mappings of their own, returned as soon as they are
/// freed. A program with its own global allocator is not affected.
#[cfg(target_env = "gnu")]
pub(crate) fn keep_freed_memory_for_reuse() {
    // SAFETY: `mallopt` only sets two of glibc's allocator parameters, to
    // values in their range; the allocator takes its own lock to do it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_ABOVE);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP_FREED);
    }
}

/// Other C libraries (musl) have no such parameters.
#[cfg(not(target_env = "gnu"))]
pub(crate) fn keep_freed_memory_for_reuse() {}
