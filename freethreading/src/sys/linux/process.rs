//! Linux's part in starting workers: the executable path that survives a
//! rebuild, the peer check of the inherited channel (`SO_PEERCRED`), and a
//! worker the kernel kills with its parent (`PR_SET_PDEATHSIG`).

use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;

/// The running executable, as a path that stays valid if the file is
/// replaced: the kernel keeps the old inode alive behind `/proc/self/exe`, so
/// a worker is always this very build, even while `cargo` rebuilds it.
pub(crate) fn this_executable() -> PathBuf {
    PathBuf::from("/proc/self/exe")
}

/// Whether standard input is a socket made by process `parent`: what tells a
/// real worker from a program that merely inherited the environment
/// variable, even when the parent has died already.
pub(crate) fn stdin_is_channel_from(parent: u32) -> bool {
    rustix::net::sockopt::socket_peercred(io::stdin().as_fd())
        .is_ok_and(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()) == Ok(parent))
}

/// In a worker: asks the kernel to kill this process when the parent's
/// thread that started it ends (that thread outlives the worker by design,
/// so this fires when the parent process dies), then checks that the parent
/// is still `parent`, in case it died before the request was made.
pub(crate) fn die_with_parent(parent: u32) -> io::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    if std::os::unix::process::parent_id() == parent {
        Ok(())
    } else {
        Err(io::Error::other("the parent process is gone"))
    }
}
