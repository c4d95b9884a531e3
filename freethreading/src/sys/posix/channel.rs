//! The byte stream between a parent and one worker: a Unix socket pair,
//! read without waiting, waited on with a deadline, written without
//! `SIGPIPE`.

use std::io;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use rustix::net::RecvFlags;

use crate::sys::os::process as os;

/// The byte stream between a parent and one worker: a Unix socket pair.
pub(crate) type Channel = UnixStream;

/// Reads what `channel` holds now, without waiting (`WouldBlock` if
/// nothing), appending to `buffer`'s spare capacity, which is never
/// zero-filled first (rustix's `spare_capacity` reads into the
/// uninitialized room and sets the length to what arrived).
pub(crate) fn read_now_into(channel: &Channel, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let (read, _) = rustix::net::recv(
        channel,
        rustix::buffer::spare_capacity(buffer),
        RecvFlags::DONTWAIT,
    )?;
    Ok(read)
}

/// As [`read_now_into`], blocking until something arrives (or the stream
/// ends: `Ok(0)`).
pub(crate) fn read_into(channel: &Channel, buffer: &mut Vec<u8>) -> io::Result<usize> {
    let (read, _) = rustix::net::recv(
        channel,
        rustix::buffer::spare_capacity(buffer),
        RecvFlags::empty(),
    )?;
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
    os::no_sigpipe(channel)?;
    Ok(rustix::net::send(channel, buf, os::SEND_FLAGS)?)
}

/// As [`send`], gathering `parts` in one system call (`sendmsg`): a frame's
/// header and its payload leave together without being copied together.
pub(crate) fn send_vectored(channel: &Channel, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    os::no_sigpipe(channel)?;
    let mut control = rustix::net::SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(
        channel,
        parts,
        &mut control,
        os::SEND_FLAGS,
    )?)
}
