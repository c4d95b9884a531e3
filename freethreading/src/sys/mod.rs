//! Platform code, and only platform code: what the process backend needs from
//! the operating system. This file only picks the platform; each one exports
//! the same names.
//!
//! Linux is the one platform with a process backend today. Elsewhere every
//! function reports [`std::io::ErrorKind::Unsupported`] and
//! [`Backend::Multiprocessing`](crate::Backend::Multiprocessing) says it is
//! not available, so the crate still builds and runs on threads.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
mod unsupported;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::*;
