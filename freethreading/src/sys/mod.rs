//! Platform code, and only here: one module per capability, each backend
//! exporting the same names. `mod.rs` only picks the backend; elsewhere the
//! answer is an `io::ErrorKind::Unsupported` error rather than a failed build,
//! and [`Backend::Multiprocessing`](crate::Backend::Multiprocessing) says it
//! is not available, so the crate still runs on threads.
//!
//! On Linux a capability is the POSIX part (`posix/`) and the system's own
//! part (`linux/`, reached as `os`), put together below.

#[cfg(process_backend)]
mod posix;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;

/// Hints about how big buffers are backed.
#[cfg(process_backend)]
pub(crate) use os::memory;

/// Futex wait and wake on a word shared between processes.
#[cfg(process_backend)]
pub(crate) use os::futex;

/// Shared memory for the arena: made by the system's layer, mapped the POSIX way.
#[cfg(process_backend)]
pub(crate) mod memfd {
    pub(crate) use super::os::memfd::*;
    pub(crate) use super::posix::mapping::*;
}

/// Who this process is, and whether another one still lives.
#[cfg(process_backend)]
pub(crate) mod pid {
    pub(crate) use super::os::proc::*;
    pub(crate) use super::posix::pid::current;
}

/// Starting worker processes and talking to them.
#[cfg(process_backend)]
pub(crate) mod process {
    pub(crate) use super::os::process::*;
    pub(crate) use super::posix::channel::*;
    pub(crate) use super::posix::descriptors::*;
    pub(crate) use super::posix::process::*;
}

#[cfg(not(process_backend))]
mod unsupported;
#[cfg(not(process_backend))]
pub(crate) use unsupported::{futex, memfd, memory, pid, process};

// Phase 1 of the Windows backend: built and unit-tested on Windows, wired in
// once `sys/` is split per platform.
#[cfg(windows)]
#[allow(
    dead_code,
    unused_imports,
    reason = "wired into the process backend next"
)]
mod windows;
