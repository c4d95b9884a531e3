//! macOS: a process's start time and state from `proc_pidinfo`
//! (`PROC_PIDTBSDINFO`), so that a recycled pid is not taken for a process
//! that died.

use crate::sys::posix::pid::{current, exists};

/// `SSLEEP` and `SZOMB` of `pbi_status`.
const SSLEEP: u32 = 3;
const SZOMB: u32 = 5;

/// The BSD info of `pid`, if it can be read.
fn info(pid: u32) -> Option<libc::proc_bsdinfo> {
    let pid = i32::try_from(pid).ok().filter(|&pid| pid > 0)?;
    let mut info = std::mem::MaybeUninit::<libc::proc_bsdinfo>::zeroed();
    let size = i32::try_from(std::mem::size_of::<libc::proc_bsdinfo>()).ok()?;
    // SAFETY: `info` is a writable buffer of `size` bytes for this flavor.
    let read = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            info.as_mut_ptr().cast(),
            size,
        )
    };
    // SAFETY: a read of the whole size filled the (plain-data) struct.
    (read == size).then(|| unsafe { info.assume_init() })
}

/// Microseconds since the epoch at which the process started.
fn start(info: &libc::proc_bsdinfo) -> u64 {
    info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec
}

#[cfg(test)]
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    info(pid)
        .filter(|i| i.pbi_status != SZOMB)
        .map(|i| start(&i))
}

/// The start time of child `pid`, zombie or not, while it is unreaped.
pub(crate) fn start_time_unreaped(pid: u32) -> Option<u64> {
    info(pid).map(|i| start(&i))
}

/// Whether process `pid` sleeps. `proc_pidinfo` tells the process's state,
/// not each thread's; a sleeping process is one with no thread running.
pub(crate) fn is_asleep(pid: u32) -> bool {
    info(pid).is_some_and(|i| i.pbi_status == SSLEEP)
}

/// This process's start time.
pub(crate) fn own_start_time() -> Option<u64> {
    info(current()).map(|i| start(&i))
}

/// Whether `pid` is alive and started at `start` (any start for 0).
pub(crate) fn is_running(pid: u32, start_time: u64) -> bool {
    match info(pid) {
        Some(i) if i.pbi_status == SZOMB => false,
        Some(i) => start_time == 0 || start(&i) == start_time,
        None => exists(pid),
    }
}

/// Whether `pid` is alive.
pub(crate) fn is_alive(pid: u32) -> bool {
    is_running(pid, 0)
}
