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
/// variable, even when the parent has died already (such a worker then ends
/// at once, rather than run `main` as a program of its own would). POSIX
/// mode keeps this check: it is Linux's counterpart of macOS's
/// `LOCAL_PEERPID` (`sys/macos/process.rs`), and a peer check by user and
/// parent alone took a worker orphaned as it started for a stray program,
/// which then ran `main`.
pub(crate) fn stdin_is_channel_from(parent: u32) -> bool {
    rustix::net::sockopt::socket_peercred(io::stdin().as_fd())
        .is_ok_and(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()) == Ok(parent))
}

/// How the channel is written: never with a `SIGPIPE`.
pub(crate) const SEND_FLAGS: rustix::net::SendFlags = rustix::net::SendFlags::NOSIGNAL;
/// How descriptors are received: close-on-exec from the start.
pub(crate) const RECV_FLAGS: rustix::net::RecvFlags = rustix::net::RecvFlags::CMSG_CLOEXEC;

/// Nothing to do on Linux, where [`SEND_FLAGS`] does it per call.
#[allow(clippy::unnecessary_wraps, reason = "macOS's needs a system call")]
pub(crate) fn no_sigpipe(_channel: &impl AsFd) -> io::Result<()> {
    Ok(())
}

/// Nothing to do on Linux, where [`RECV_FLAGS`] did it as they arrived.
#[allow(clippy::unnecessary_wraps, reason = "macOS's needs a system call")]
pub(crate) fn close_on_exec(_fd: &impl AsFd) -> io::Result<()> {
    Ok(())
}

/// Whether a worker must watch its parent itself (`sys/posix/parent_watch.rs`)
/// rather than have the kernel kill it with its parent.
pub(crate) const WATCH_PARENT: bool = cfg!(freethreading_posix);

/// In a worker: asks the kernel to kill this process when the parent's
/// thread that started it ends (that thread outlives the worker by design,
/// so this fires when the parent process dies), then checks that the parent
/// is still `parent`, in case it died before the request was made.
/// (POSIX mode: only the check; the parent watch comes with the descriptors.)
pub(crate) fn die_with_parent(parent: u32) -> io::Result<()> {
    #[cfg(not(freethreading_posix))]
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    if std::os::unix::process::parent_id() == parent {
        Ok(())
    } else {
        Err(io::Error::other("the parent process is gone"))
    }
}
