//! What every POSIX system offers the process backend: the socket-pair
//! channel, descriptors passed over it, shared mappings, re-executing this
//! binary and reading its children's exits. The per-system layers
//! (`sys/linux/`) add what POSIX leaves out.

pub(crate) mod channel;
pub(crate) mod descriptors;
pub(crate) mod mapping;
pub(crate) mod pid;
pub(crate) mod process;
