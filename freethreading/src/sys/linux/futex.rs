//! Futex wait and wake on a word of memory shared between processes.
//!
//! The calls leave out `FUTEX_PRIVATE_FLAG`, so the kernel keys a waiter by
//! the page and offset of the word rather than by this process's address
//! space: a waker in another process that maps the same memory finds it.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `word` holds `expected`, at most `timeout` (forever for
/// `None`). Returns early on a wake, a signal, or a changed word; callers
/// re-check their condition in a loop, as with any futex.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let spec = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(t.subsec_nanos()),
    });
    let spec_ptr = spec.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call and
    // `spec_ptr` is null or points at `spec`, alive on this frame. FUTEX_WAIT
    // only reads both; its result (woken, timed out, interrupted, or the word
    // already changed) needs no handling because every caller loops.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            spec_ptr,
            std::ptr::null::<u32>(),
            0_u32,
        );
    }
}

/// Wakes at most `n` processes or threads sleeping in [`wait`] on `word`.
pub(crate) fn wake(word: &AtomicU32, n: u32) {
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not
    // touch the memory, it only looks up sleepers keyed by its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            n,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0_u32,
        );
    }
}
