//! macOS's part in starting workers: the executable path, the peer check of
//! the inherited channel (`LOCAL_PEERPID`), and dying with the parent by the
//! POSIX parent watch (macOS has no `PR_SET_PDEATHSIG`).

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;

/// The running executable. macOS has no `/proc/self/exe`: a worker started
/// while the file is being replaced may be another build, which the build-id
/// check then refuses.
pub(crate) fn this_executable() -> PathBuf {
    std::env::current_exe()
        .unwrap_or_else(|_| PathBuf::from(std::env::args_os().next().unwrap_or_default()))
}

/// Whether standard input is a socket whose peer is process `parent`.
pub(crate) fn stdin_is_channel_from(parent: u32) -> bool {
    let mut pid: libc::pid_t = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::pid_t>()).unwrap_or(4);
    // SAFETY: `pid` and `len` are valid for writes of the sizes given.
    let got = unsafe {
        libc::getsockopt(
            io::stdin().as_raw_fd(),
            libc::SOL_LOCAL,
            libc::LOCAL_PEERPID,
            (&raw mut pid).cast(),
            &raw mut len,
        )
    };
    got == 0 && u32::try_from(pid) == Ok(parent)
}

/// macOS has no `MSG_NOSIGNAL`: see [`no_sigpipe`].
pub(crate) const SEND_FLAGS: rustix::net::SendFlags = rustix::net::SendFlags::empty();
/// macOS has no `MSG_CMSG_CLOEXEC`: see [`close_on_exec`].
pub(crate) const RECV_FLAGS: rustix::net::RecvFlags = rustix::net::RecvFlags::empty();

/// Makes writes to `channel` fail with `EPIPE` rather than raise `SIGPIPE`
/// once the peer is gone (`SO_NOSIGPIPE`, set before each write since the
/// channel's two ends are made in several places; one cheap system call).
pub(crate) fn no_sigpipe(channel: &impl AsFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4);
    // SAFETY: `on` is a readable int of `len` bytes for the whole call.
    let set = unsafe {
        libc::setsockopt(
            channel.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            (&raw const on).cast(),
            len,
        )
    };
    if set == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Marks a received descriptor close-on-exec, just after it arrived (not
/// atomic with the receipt, as `MSG_CMSG_CLOEXEC` is on Linux: a worker
/// spawning at that instant could inherit it).
pub(crate) fn close_on_exec(fd: &impl AsFd) -> io::Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    Ok(())
}

/// A worker watches its parent itself (`sys/posix/parent_watch.rs`).
pub(crate) const WATCH_PARENT: bool = true;

/// In a worker: checks that the parent is still `parent`; the watch comes
/// with the descriptors.
pub(crate) fn die_with_parent(parent: u32) -> io::Result<()> {
    if std::os::unix::process::parent_id() == parent {
        Ok(())
    } else {
        Err(io::Error::other("the parent process is gone"))
    }
}
