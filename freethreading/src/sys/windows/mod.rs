//! Windows: pagefile-backed sections for the arena, waiting on its words
//! across processes with named events, process liveness by handle and
//! creation time, and workers that inherit a duplex pipe as standard input
//! and die with their parent's job object.

pub(crate) mod channel;
pub(crate) mod futex;
pub(crate) mod memfd;
pub(crate) mod memory;
pub(crate) mod pid;
pub(crate) mod process;

use std::ffi::OsStr;
use std::os::windows::ffi::OsStrExt;

/// `text` as a NUL-terminated UTF-16 string, for the `W` calls.
fn wide(text: impl AsRef<OsStr>) -> Vec<u16> {
    text.as_ref().encode_wide().chain([0]).collect()
}

/// `Ok(())` for a call that returned a nonzero `BOOL`, else the thread's
/// last error.
fn check(ok: windows_sys::core::BOOL) -> std::io::Result<()> {
    if ok == 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A handle returned by a `Create*`/`Open*` call that fails with null, owned.
fn owned(
    handle: windows_sys::Win32::Foundation::HANDLE,
) -> std::io::Result<std::os::windows::io::OwnedHandle> {
    if handle.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh, valid handle that nothing else owns.
    Ok(unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(handle) })
}

/// Whether `error` is the Windows error `code`.
fn is(error: &std::io::Error, code: u32) -> bool {
    error.raw_os_error().and_then(|raw| u32::try_from(raw).ok()) == Some(code)
}
