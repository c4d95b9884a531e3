//! Who this process is, and whether a process exists at all (`kill` with
//! signal 0): the POSIX half of liveness. When a process started, which
//! tells a reused pid from its first owner, is each system's own.

use std::sync::atomic::{AtomicU32, Ordering};

use rustix::io::Errno;
use rustix::process::{Pid, test_kill_process};

static ME: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached: `getpid` is a system call. Worker processes
/// are started by exec, never by a bare fork, so the cache cannot outlive
/// its process.
pub(crate) fn current() -> u32 {
    match ME.load(Ordering::Relaxed) {
        0 => {
            let id = std::process::id();
            ME.store(id, Ordering::Relaxed);
            id
        }
        id => id,
    }
}

/// Whether a process `pid` exists (a zombie included).
pub(crate) fn exists(pid: u32) -> bool {
    let Some(raw) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    // Signal 0 sends nothing: `kill` only checks that the process exists
    // and may be signalled; one we may not signal exists all the same.
    match test_kill_process(raw) {
        Ok(()) => true,
        Err(error) => error == Errno::PERM,
    }
}
