//! Linux: re-executing this binary, the channel a worker inherits as its
//! standard input (and the descriptors sent over it: the arena, and in a
//! test binary the parent's standard output), and a worker that dies with
//! its parent.

use std::ffi::OsString;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::linux::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, recvmsg, sendmsg,
};

/// Whether this platform can run process workers.
pub(crate) const PROCESSES_SUPPORTED: bool = true;

/// The signal that ended a process, if one did.
pub(crate) fn exit_signal(status: std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

/// The name of `signal` ("SIGKILL"), for the signals that end processes.
pub(crate) fn signal_name(signal: i32) -> Option<&'static str> {
    use rustix::process::Signal;
    let names = [
        (Signal::ABORT, "SIGABRT"),
        (Signal::KILL, "SIGKILL"),
        (Signal::SEGV, "SIGSEGV"),
        (Signal::TERM, "SIGTERM"),
        (Signal::BUS, "SIGBUS"),
        (Signal::ILL, "SIGILL"),
        (Signal::FPE, "SIGFPE"),
    ];
    names
        .into_iter()
        .find(|(known, _)| known.as_raw() == signal)
        .map(|(_, name)| name)
}

/// Whether child `pid` has exited, leaving it unreaped (`WNOWAIT`): until
/// it is reaped its pid cannot go to another process.
pub(crate) fn has_exited(pid: u32) -> bool {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(waitid(WaitId::Pid(pid), options), Ok(Some(_)))
}

/// The byte stream between a parent and one worker: a Unix socket pair.
pub(crate) type Channel = UnixStream;

/// The running executable, as a path that stays valid if the file is
/// replaced: the kernel keeps the old inode alive behind `/proc/self/exe`, so
/// a worker is always this very build, even while `cargo` rebuilds it.
fn this_executable() -> PathBuf {
    PathBuf::from("/proc/self/exe")
}

/// A fingerprint of the running executable (device, inode, size, change time),
/// the same in every process started from the same file. A worker compares it
/// with its parent's before it runs anything, so a different build is a clear
/// error rather than a call into the wrong code.
pub(crate) fn build_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut hasher = DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        if let Ok(meta) = std::fs::metadata(this_executable()) {
            (meta.st_dev(), meta.st_ino(), meta.st_size()).hash(&mut hasher);
            (meta.st_mtime(), meta.st_mtime_nsec()).hash(&mut hasher);
        }
        hasher.finish()
    })
}

/// A command that starts this binary again, with `channel` as its standard
/// input: `std` then starts it with `posix_spawn`, the cheapest way there is,
/// and the channel reaches the worker and no other process (it is
/// close-on-exec everywhere else).
pub(crate) fn command_for_worker(arg0: Option<OsString>, channel: Channel) -> Command {
    let mut command = Command::new(this_executable());
    if let Some(arg0) = arg0 {
        std::os::unix::process::CommandExt::arg0(&mut command, arg0);
    }
    command.stdin(Stdio::from(OwnedFd::from(channel)));
    command
}

/// Whether standard input is a socket made by process `parent`: what tells a
/// real worker from a program that merely inherited the environment
/// variable, even when the parent has died already.
pub(crate) fn stdin_is_channel_from(parent: u32) -> bool {
    rustix::net::sockopt::socket_peercred(io::stdin().as_fd())
        .is_ok_and(|cred| u32::try_from(cred.pid.as_raw_nonzero().get()) == Ok(parent))
}

/// In a worker: takes the channel inherited as standard input, and puts
/// `/dev/null` there instead, so that a task reading standard input reads
/// nothing rather than the protocol (as Python's worker processes do).
pub(crate) fn take_inherited_channel() -> io::Result<Channel> {
    let channel = io::stdin().as_fd().try_clone_to_owned()?;
    let null = File::open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    Ok(UnixStream::from(channel))
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

/// Sends one byte on `channel` with descriptors attached (an `SCM_RIGHTS`
/// message): how a worker receives the shared-memory arena, if there is one,
/// and, if `stdout`, this process's standard output, while `std` still starts
/// it with `posix_spawn`. The byte says which came: bit 0 the arena, bit 1
/// standard output, in that order.
pub(crate) fn send_descriptors(
    channel: &Channel,
    arena: Option<BorrowedFd<'_>>,
    stdout: bool,
) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut ancillary = SendAncillaryBuffer::new(&mut space);
    let stdout = stdout.then(rustix::stdio::stdout);
    let fds: Vec<BorrowedFd<'_>> = arena.into_iter().chain(stdout).collect();
    if !fds.is_empty() && !ancillary.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other("no room for descriptors in the message"));
    }
    let marker = [u8::from(arena.is_some()) | (u8::from(stdout.is_some()) << 1)];
    sendmsg(
        channel,
        &[IoSlice::new(&marker)],
        &mut ancillary,
        SendFlags::NOSIGNAL,
    )?;
    Ok(())
}

/// Receives what [`send_descriptors`] sent: the arena and the parent's
/// standard output, each if it came.
pub(crate) fn receive_descriptors(
    channel: &Channel,
) -> io::Result<(Option<OwnedFd>, Option<OwnedFd>)> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let mut marker = [0_u8; 1];
    let received = recvmsg(
        channel,
        &mut [IoSliceMut::new(&mut marker)],
        &mut ancillary,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    if received.bytes != 1 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut fds = Vec::new();
    for message in ancillary.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    let garbled = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the parent's descriptor message is garbled",
        )
    };
    let expected = (marker[0] & 1) + (marker[0] >> 1 & 1);
    if marker[0] > 3 || fds.len() != usize::from(expected) {
        return Err(garbled());
    }
    let mut fds = fds.into_iter();
    let arena = if marker[0] & 1 == 1 { fds.next() } else { None };
    let stdout = if marker[0] & 2 == 2 { fds.next() } else { None };
    Ok((arena, stdout))
}

/// In a worker: makes `fd` (the parent's standard output, received with
/// [`receive_descriptors`]) this process's standard output, and closes it.
pub(crate) fn adopt_stdout(fd: OwnedFd) -> io::Result<()> {
    rustix::stdio::dup2_stdout(fd)?;
    Ok(())
}

/// Reads what `channel` holds now, without waiting: `WouldBlock` if nothing.
pub(crate) fn read_now(channel: &Channel, buf: &mut [u8]) -> io::Result<usize> {
    let (read, _) = rustix::net::recv(channel, buf, RecvFlags::DONTWAIT)?;
    Ok(read)
}

/// Waits until `channel` has something to read (or has ended), for
/// `timeout` at most: `false` if it has not.
pub(crate) fn wait_readable(channel: &Channel, timeout: Duration) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = Timespec::try_from(timeout).map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut fds = [PollFd::new(channel, PollFlags::IN)];
    loop {
        match poll(&mut fds, Some(&timeout)) {
            Ok(ready) => return Ok(ready > 0),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes what it can of `buf` to `channel`, blocking until some is written;
/// a peer that has gone is an `EPIPE` error, never a `SIGPIPE`.
pub(crate) fn send(channel: &Channel, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(channel, buf, SendFlags::NOSIGNAL)?)
}
