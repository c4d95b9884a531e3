//! Linux: what POSIX leaves out. Futexes without the private flag, a sealed
//! memfd, liveness from `/proc`, the `SO_PEERCRED` peer check and
//! `PR_SET_PDEATHSIG`. `sys/mod.rs` puts these together with `sys/posix/`.

pub(crate) mod futex;
pub(crate) mod memfd;
pub(crate) mod proc;
pub(crate) mod process;
