//! macOS: what POSIX leaves out. Waiting on a word shared between processes
//! (`os_sync_wait_on_address` with the shared flag on macOS 14.4 and later,
//! else `__ulock_wait`, found at run time), `shm_open` memory (POSIX's),
//! process start times from `proc_pidinfo`, the `LOCAL_PEERPID` peer check,
//! and the POSIX parent watch for dying with the parent. Built, linted and
//! linked in CI; the POSIX pieces run the whole suite on Linux
//! (`--cfg freethreading_posix`); not yet run on macOS hardware
//! (`docs/macos.md`).

pub(crate) mod futex;
pub(crate) use super::posix::shm as memfd;
pub(crate) mod memory;
pub(crate) mod proc;
pub(crate) mod process;
