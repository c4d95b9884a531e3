//! Linux: what POSIX leaves out. Futexes without the private flag, a sealed
//! memfd, huge pages for big buffers, liveness from `/proc`, the
//! `SO_PEERCRED` peer check and `PR_SET_PDEATHSIG`. `sys/mod.rs` puts these together with `sys/posix/`.
//!
//! Built with `--cfg freethreading_posix`, Linux takes the POSIX pieces
//! where a macOS has nothing else: `shm_open` memory and the parent watch
//! (the peer check stays `SO_PEERCRED`'s pid, the counterpart of macOS's
//! `LOCAL_PEERPID`). That is how the POSIX code runs the whole suite here.

#[cfg(feature = "mpi")]
pub(crate) mod cpus;
pub(crate) mod futex;
#[cfg(not(freethreading_posix))]
pub(crate) mod memfd;
#[cfg(freethreading_posix)]
pub(crate) use super::posix::shm as memfd;
pub(crate) mod memory;
pub(crate) mod proc;
pub(crate) mod process;

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    /// The arena's memory is the memfd natively and a `shm_open` object
    /// (already unlinked) in POSIX mode: proof that the mode switch took.
    #[test]
    fn the_arena_memory_is_the_one_this_mode_names() {
        let fd = crate::sys::memfd::create(4096).unwrap();
        let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        let target = target.to_string_lossy();
        if cfg!(freethreading_posix) {
            assert!(target.starts_with("/dev/shm/ft."), "{target}");
            assert!(target.ends_with(" (deleted)"), "unlinked at once: {target}");
        } else {
            assert!(target.starts_with("/memfd:freethreading-arena"), "{target}");
        }
    }
}
