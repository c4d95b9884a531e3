//! Linux: futexes without the private flag, memfd shared memory, pid
//! liveness, and starting worker processes.

pub(crate) mod futex;
pub(crate) mod memfd;
pub(crate) mod pid;
pub(crate) mod process;
