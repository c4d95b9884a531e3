//! Platform code, and only here: one module per capability, each backend
//! exporting the same names. `mod.rs` only picks the backend; elsewhere the
//! answer is an `io::ErrorKind::Unsupported` error rather than a failed build,
//! and [`Backend::Multiprocessing`](crate::Backend::Multiprocessing) says it
//! is not available, so the crate still runs on threads.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::{futex, memfd, memory, pid, process};

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(target_os = "linux"))]
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
