//! Linux: futexes without the private flag, memfd shared memory, pid liveness.

pub(crate) mod futex;
pub(crate) mod memfd;
pub(crate) mod pid;
