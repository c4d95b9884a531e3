//! Linux: futexes without the private flag, memfd shared memory, huge pages
//! for big buffers, pid liveness, and starting worker processes.

pub(crate) mod futex;
pub(crate) mod memfd;
pub(crate) mod memory;
pub(crate) mod pid;
pub(crate) mod process;
