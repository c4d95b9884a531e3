//! Who this process is, and whether another process still lives.

use std::sync::atomic::{AtomicU32, Ordering};

static ME: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached: `getpid` is a system call, and the id goes into
/// every uncontended lock word. Worker processes are started by exec, never
/// by a bare fork, so the cache cannot outlive its process.
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

/// Whether process `pid` still runs: it exists and is not a zombie waiting to
/// be reaped (a process killed by a signal keeps its pid until its parent
/// waits for it, and it holds nothing by then).
pub(crate) fn is_alive(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; `kill` only checks that the process
    // exists and may be signalled.
    let exists = unsafe { libc::kill(raw, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    // `/proc/<pid>/stat` is `pid (comm) state ...`; comm may hold spaces and
    // parentheses, so the state is the first field after the last `)`.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X')
        ),
        // Without `/proc` (or if it just went away), trust `kill`: taking a
        // live owner's lock would be far worse than noticing a death later.
        Err(_) => true,
    }
}
