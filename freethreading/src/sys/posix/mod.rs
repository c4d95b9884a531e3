//! What every POSIX system offers the process backend: the socket-pair
//! channel, descriptors passed over it, shared mappings, re-executing this
//! binary and reading its children's exits. The per-system layers
//! (`sys/linux/`) add what POSIX leaves out.

pub(crate) mod channel;
pub(crate) mod descriptors;
pub(crate) mod mapping;
pub(crate) mod parent_watch;
pub(crate) mod pid;
pub(crate) mod process;
// Linux has its sealed memfd, unless built to use only the POSIX pieces;
// the tests try this memory on Linux all the same.
#[cfg(any(freethreading_posix, test, not(target_os = "linux")))]
pub(crate) mod shm;
