//! What the Windows failure tests do to processes that the runtime's API
//! does not offer, and should not: terminate a worker from outside, watch a
//! process that is not our child end, count this process's handles, and
//! fault on purpose. Windows only; the runtime's own Windows calls stay
//! under its `sys/windows/`.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Memory::{MEM_RESERVE, PAGE_NOACCESS, VirtualAlloc};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetExitCodeProcess, GetProcessHandleCount, OpenProcess,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE, TerminateProcess,
    WaitForSingleObject,
};

/// A handle to a process (any, not only a child), held so that its id is
/// not reused while a test looks at it.
#[derive(Debug)]
pub struct Process {
    handle: OwnedHandle,
    pid: u32,
}

impl Process {
    /// Opens process `pid` to wait for it, read its exit code and end it.
    ///
    /// # Errors
    ///
    /// When there is no such process, or we may not open it.
    pub fn open(pid: u32) -> io::Result<Self> {
        let access = PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE;
        // SAFETY: plain call; a null handle is checked.
        let raw: HANDLE = unsafe { OpenProcess(access, 0, pid) };
        if raw.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh handle that nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw) };
        Ok(Process { handle, pid })
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Ends the process at once with exit code `code`, as Task Manager
    /// does, and waits until it has ended.
    ///
    /// # Errors
    ///
    /// When `TerminateProcess` fails, or the process outlives ten seconds.
    pub fn terminate(&self, code: u32) -> io::Result<()> {
        // SAFETY: a live process handle opened with PROCESS_TERMINATE.
        if unsafe { TerminateProcess(self.handle.as_raw_handle(), code) } == 0 {
            return Err(io::Error::last_os_error());
        }
        self.wait(Duration::from_secs(10))
            .map(drop)
            .ok_or_else(|| io::Error::other(format!("process {} survived", self.pid)))
    }

    /// Waits up to `timeout` for the process to end: its exit code, or
    /// `None` while it runs.
    ///
    /// # Panics
    ///
    /// When the wait or the exit code cannot be had.
    pub fn wait(&self, timeout: Duration) -> Option<u32> {
        let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX - 1);
        // SAFETY: a live process handle opened with SYNCHRONIZE.
        match unsafe { WaitForSingleObject(self.handle.as_raw_handle(), millis) } {
            WAIT_OBJECT_0 => {}
            WAIT_TIMEOUT => return None,
            other => panic!("waiting for process {}: {other:#x}", self.pid),
        }
        let mut code = 0;
        // SAFETY: a live process handle and a writable u32.
        let ok = unsafe { GetExitCodeProcess(self.handle.as_raw_handle(), &raw mut code) };
        assert_ne!(ok, 0, "{}", io::Error::last_os_error());
        Some(code)
    }
}

/// How many handles this process holds open.
///
/// # Panics
///
/// When `GetProcessHandleCount` fails.
pub fn handle_count() -> u32 {
    let mut count = 0;
    // SAFETY: the pseudo-handle of this process and a writable u32.
    let ok = unsafe { GetProcessHandleCount(GetCurrentProcess(), &raw mut count) };
    assert_ne!(ok, 0, "{}", io::Error::last_os_error());
    count
}

/// Writes to a page that is reserved but never committed: the processor
/// faults, and with no handler the process ends with the exception
/// `EXCEPTION_ACCESS_VIOLATION` (0xC0000005).
///
/// # Panics
///
/// When the page cannot be reserved.
pub fn access_violation() -> ! {
    // SAFETY: plain call reserving one page of address space, no access.
    let page = unsafe { VirtualAlloc(std::ptr::null(), 4096, MEM_RESERVE, PAGE_NOACCESS) };
    assert!(!page.is_null(), "{}", io::Error::last_os_error());
    // SAFETY: the page is this process's own reserved address space, which
    // nothing else uses; the write faults and never returns.
    unsafe { page.cast::<u32>().write_volatile(1) };
    unreachable!("a write to an uncommitted page returned")
}
