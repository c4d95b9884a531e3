//! Platform code, and only here: one module per capability, each backend
//! exporting the same names. `mod.rs` only picks the backend; elsewhere the
//! answer is an `io::ErrorKind::Unsupported` error rather than a failed build,
//! and [`Backend::Multiprocessing`](crate::Backend::Multiprocessing) says it
//! is not available, so the crate still runs on threads.
//!
//! On Linux and macOS a capability is the POSIX part (`posix/`) and the
//! system's own part (`linux/` or `macos/`, reached as `os`), put together
//! below; Windows has all of its own (`windows/`).

#[cfg(all(process_backend, unix))]
mod posix;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as os;

/// The CPUs this process may run on, where the system says (Linux): what
/// an MPI rank tells the others of its host.
#[cfg(all(target_os = "linux", feature = "mpi"))]
pub(crate) use os::cpus;

/// Elsewhere the CPUs a process may use are not known.
#[cfg(all(not(target_os = "linux"), feature = "mpi"))]
pub(crate) mod cpus {
    /// Unknown here: `None`.
    pub(crate) fn allowed() -> Option<Vec<usize>> {
        None
    }
}

/// Futex wait and wake on a word shared between processes.
#[cfg(all(process_backend, unix))]
pub(crate) use os::futex;

/// Hints for big buffers (huge pages).
#[cfg(all(process_backend, unix))]
pub(crate) use os::memory;

/// Shared memory for the arena: made by the system's layer, mapped the POSIX way.
#[cfg(all(process_backend, unix))]
pub(crate) mod memfd {
    pub(crate) use super::os::memfd::*;
    pub(crate) use super::posix::mapping::*;
    /// The arena's handle, in the platform's terms (`memfd::Owned` names it
    /// above `sys/`).
    pub(crate) use std::os::fd::{BorrowedFd as Borrowed, OwnedFd as Owned};

    pub(crate) fn borrow(fd: &Owned) -> Borrowed<'_> {
        std::os::fd::AsFd::as_fd(fd)
    }
}

/// Who this process is, and whether another one still lives.
#[cfg(all(process_backend, unix))]
pub(crate) mod pid {
    pub(crate) use super::os::proc::*;
    pub(crate) use super::posix::pid::current;
}

/// Starting worker processes and talking to them.
#[cfg(all(process_backend, unix))]
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

/// Windows: every capability from `windows/`.
#[cfg(all(process_backend, windows))]
mod windows;
#[cfg(all(process_backend, windows))]
pub(crate) use windows::{futex, memfd, memory, pid, process};
