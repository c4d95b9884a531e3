//! Futex wait and wake on a word of memory shared between processes.
//!
//! The calls leave out `FUTEX_PRIVATE_FLAG` (`Flags::empty()` rather than
//! `Flags::PRIVATE`), so the kernel keys a waiter by the page and offset of
//! the word rather than by this process's address space: a waker in another
//! process that maps the same memory finds it.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

use rustix::thread::futex::{self, Flags, Timespec};

/// Sleeps while `word` holds `expected`, at most `timeout` (forever for
/// `None`). Returns early on a wake, a signal, or a changed word; callers
/// re-check their condition in a loop, as with any futex.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let spec = timeout.map(|t| Timespec {
        tv_sec: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: t.subsec_nanos().into(),
    });
    // Woken, timed out, interrupted, or the word already changed: every
    // caller loops, so the result needs no handling.
    let _ = futex::wait(word, Flags::empty(), expected, spec.as_ref());
}

/// Wakes at most `n` processes or threads sleeping in [`wait`] on `word`.
pub(crate) fn wake(word: &AtomicU32, n: u32) {
    // The kernel reads the count as an `int`.
    let n = n.min(i32::MAX.unsigned_abs());
    let _ = futex::wake(word, Flags::empty(), n);
}
