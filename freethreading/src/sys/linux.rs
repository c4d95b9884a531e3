//! Linux: re-executing this binary, the channel a worker inherits as its
//! standard input, and a worker that dies with its parent.

use std::ffi::OsString;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::os::fd::AsFd;
use std::os::linux::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Whether this platform can run process workers.
pub(crate) const PROCESSES_SUPPORTED: bool = true;

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
    command.stdin(Stdio::from(std::os::fd::OwnedFd::from(channel)));
    command
}

/// In a worker: takes the channel inherited as standard input, and puts
/// `/dev/null` there instead, so that a task reading standard input reads
/// nothing rather than the protocol (as Python's worker processes do).
pub(crate) fn take_inherited_channel() -> io::Result<Channel> {
    let channel = io::stdin().as_fd().try_clone_to_owned()?;
    let null = File::open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    let channel = UnixStream::from(channel);
    // A stream that is not a socket was not made by a parent of ours.
    channel.peer_addr()?;
    Ok(channel)
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
