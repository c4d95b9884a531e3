//! Linux: what POSIX leaves out. Futexes without the private flag, a sealed
//! memfd, huge pages for big buffers, liveness from `/proc`, the `SO_PEERCRED` peer check and
//! `PR_SET_PDEATHSIG`. `sys/mod.rs` puts these together with `sys/posix/`.
//!
//! Built with `--cfg freethreading_posix`, Linux takes the POSIX pieces
//! where a macOS has nothing else: `shm_open` memory, the parent watch, and
//! a peer check by user and parent (see `process.rs`). That is how the POSIX
//! code runs the whole suite here.

pub(crate) mod futex;
#[cfg(not(freethreading_posix))]
pub(crate) mod memfd;
pub(crate) mod memory;
#[cfg(freethreading_posix)]
pub(crate) use super::posix::shm as memfd;
pub(crate) mod proc;
pub(crate) mod process;
