//! Who this process is, and whether another process still lives.
//!
//! A process is named by its id and its creation time (a `FILETIME`, 100 ns
//! ticks since 1601): Windows reuses ids soon after the last handle to a
//! process closes, and a later process never shares the creation time.

use std::os::windows::io::AsRawHandle;
use std::sync::atomic::{AtomicU32, Ordering};

use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, FILETIME, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessTimes, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE, WaitForSingleObject,
};

static ME: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached.
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

/// What a handle to a process says of it.
enum State {
    /// Not ended; created at this time.
    Running { start: u64 },
    /// Ended (its id may still be held by an open handle), created then.
    Ended { start: u64 },
    /// No such process.
    Gone,
    /// It exists, but we may not look at it.
    Unknown,
}

fn creation_time(process: HANDLE) -> Option<u64> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: a live process handle and four writable FILETIMEs.
    let ok = unsafe {
        GetProcessTimes(
            process,
            &raw mut created,
            &raw mut exited,
            &raw mut kernel,
            &raw mut user,
        )
    };
    (ok != 0).then(|| u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime))
}

fn state(pid: u32) -> State {
    if pid == 0 {
        return State::Gone;
    }
    // SAFETY: plain call; a null handle is checked below.
    let handle = unsafe {
        OpenProcess(
            PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE,
            0,
            pid,
        )
    };
    let handle = match super::owned(handle) {
        Ok(handle) => handle,
        Err(e) if super::is(&e, ERROR_ACCESS_DENIED) => {
            return State::Unknown;
        }
        Err(_) => return State::Gone,
    };
    let raw = handle.as_raw_handle();
    let Some(start) = creation_time(raw) else {
        return State::Unknown;
    };
    // SAFETY: a live process handle opened with SYNCHRONIZE.
    if unsafe { WaitForSingleObject(raw, 0) } == WAIT_OBJECT_0 {
        State::Ended { start }
    } else {
        State::Running { start }
    }
}

/// When process `pid` was created; `None` if it has ended or is unknown.
#[cfg(test)]
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    match state(pid) {
        State::Running { start } => Some(start),
        State::Ended { .. } | State::Gone | State::Unknown => None,
    }
}

/// When child `pid` was created, ended or not: its parent holds its handle
/// until it is reaped, so the id is still its own.
pub(crate) fn start_time_unreaped(pid: u32) -> Option<u64> {
    match state(pid) {
        State::Running { start } | State::Ended { start } => Some(start),
        State::Gone | State::Unknown => None,
    }
}

/// Whether every thread of `pid` sleeps: Windows offers no cheap way to
/// tell, so never (callers then rely on their timeouts alone).
pub(crate) fn is_asleep(_pid: u32) -> bool {
    false
}

/// When this process was created.
pub(crate) fn own_start_time() -> Option<u64> {
    // SAFETY: the pseudo-handle of this process needs no closing.
    creation_time(unsafe { GetCurrentProcess() })
}

/// Whether the process `pid` created at `start` (0 if unknown) still runs.
/// When we may not look, the answer is yes: taking a live owner's lock would
/// be far worse than noticing a death later.
pub(crate) fn is_running(pid: u32, start: u64) -> bool {
    match state(pid) {
        State::Running { start: now } => start == 0 || now == start,
        State::Ended { .. } | State::Gone => false,
        State::Unknown => true,
    }
}

/// Whether process `pid` still runs, whenever it started.
pub(crate) fn is_alive(pid: u32) -> bool {
    is_running(pid, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_since_its_start_and_not_since_another() {
        let me = current();
        let start = start_time(me).expect("this process's creation time");
        assert_eq!(own_start_time(), Some(start));
        assert!(is_running(me, start));
        assert!(is_running(me, 0));
        assert!(!is_running(me, start + 1), "a reused id was created later");
    }

    #[test]
    fn an_ended_child_is_dead_but_keeps_its_id_until_reaped() {
        let exe = std::env::current_exe().unwrap();
        let mut child = std::process::Command::new(exe)
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = start_time_unreaped(pid).expect("a live child");
        while is_alive(pid) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            start_time_unreaped(pid),
            Some(start),
            "the handle keeps the id"
        );
        assert!(!is_running(pid, start));
        child.wait().unwrap();
    }
}
