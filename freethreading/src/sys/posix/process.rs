//! Starting a worker by re-executing this binary, and what a parent reads of
//! its children: exits, the signals that ended them, the build they run.

use std::ffi::OsString;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::channel::Channel;
use crate::sys::os::process::this_executable;

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
            (meta.dev(), meta.ino(), meta.size()).hash(&mut hasher);
            (meta.mtime(), meta.mtime_nsec()).hash(&mut hasher);
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

/// Starts the worker `command` describes.
pub(crate) fn spawn(command: &mut Command) -> io::Result<std::process::Child> {
    command.spawn()
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

/// An exit code is the program's own choice here; a signal says what killed it.
pub(crate) fn exit_code_name(_code: i32) -> Option<&'static str> {
    None
}

/// Nothing to do: a worker arranges its own death with its parent's
/// (`die_with_parent`), as soon as it starts.
#[allow(clippy::unnecessary_wraps, reason = "Windows' can fail")]
pub(crate) fn kill_with_this_process(_child: &std::process::Child) -> std::io::Result<()> {
    Ok(())
}
