//! Platforms without a process backend yet: every call is an `Unsupported`
//! error, so the crate builds and the thread backend runs.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::process::Command;

/// Whether this platform can run process workers.
pub(crate) const PROCESSES_SUPPORTED: bool = false;

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the process backend of freethreading runs on Linux only, for now",
    )
}

/// No channel can be made here; the type exists so that callers compile.
#[derive(Debug)]
pub(crate) struct Channel;

impl Channel {
    pub(crate) fn pair() -> io::Result<(Channel, Channel)> {
        Err(unsupported())
    }

    pub(crate) fn try_clone(&self) -> io::Result<Channel> {
        Err(unsupported())
    }

    pub(crate) fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        Err(unsupported())
    }
}

impl Read for &Channel {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(unsupported())
    }
}

impl Write for &Channel {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(unsupported())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) fn build_id() -> u64 {
    0
}

pub(crate) fn command_for_worker(_arg0: Option<OsString>, _channel: Channel) -> Command {
    Command::new("freethreading-process-backend-unsupported")
}

pub(crate) fn take_inherited_channel() -> io::Result<Channel> {
    Err(unsupported())
}

pub(crate) fn die_with_parent(_parent: u32) -> io::Result<()> {
    Err(unsupported())
}
