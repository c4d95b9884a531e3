//! Descriptors sent over the channel (`SCM_RIGHTS`): the shared-memory
//! arena and, in a test binary, the parent's standard output. `std` starts
//! a worker with `posix_spawn`, which passes only standard input, so
//! everything else a worker needs arrives this way.

use std::io;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, SendAncillaryBuffer, SendAncillaryMessage, recvmsg,
    sendmsg,
};

use super::channel::Channel;
use super::parent_watch;
use crate::sys::os::process as os;

/// Sends one byte on `channel` with descriptors attached (an `SCM_RIGHTS`
/// message): how a worker receives the shared-memory arena, if there is one,
/// and, if `stdout`, this process's standard output, while `std` still starts
/// it with `posix_spawn`, and, where the system cannot kill a worker with
/// its parent, the worker's end of the parent watch (`parent_watch.rs`). The
/// byte says which came: bit 0 the arena, bit 1 standard output, bit 2 the
/// watch, in that order.
pub(crate) fn send_descriptors(
    channel: &Channel,
    _child: u32,
    arena: Option<BorrowedFd<'_>>,
    stdout: bool,
) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut ancillary = SendAncillaryBuffer::new(&mut space);
    let stdout = stdout.then(rustix::stdio::stdout);
    let watch = if os::WATCH_PARENT {
        Some(parent_watch::end_for_worker()?)
    } else {
        None
    };
    let fds: Vec<BorrowedFd<'_>> = arena.into_iter().chain(stdout).chain(watch).collect();
    if !fds.is_empty() && !ancillary.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other("no room for descriptors in the message"));
    }
    let marker = [u8::from(arena.is_some())
        | (u8::from(stdout.is_some()) << 1)
        | (u8::from(watch.is_some()) << 2)];
    os::no_sigpipe(channel)?;
    sendmsg(
        channel,
        &[IoSlice::new(&marker)],
        &mut ancillary,
        os::SEND_FLAGS,
    )?;
    Ok(())
}

/// Receives what [`send_descriptors`] sent: the arena and the parent's
/// standard output, each if it came. A parent watch that came is watched
/// from here on.
pub(crate) fn receive_descriptors(
    channel: &Channel,
) -> io::Result<(Option<OwnedFd>, Option<OwnedFd>)> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let mut marker = [0_u8; 1];
    let received = recvmsg(
        channel,
        &mut [IoSliceMut::new(&mut marker)],
        &mut ancillary,
        os::RECV_FLAGS,
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
    for fd in &fds {
        os::close_on_exec(fd)?;
    }
    let garbled = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the parent's descriptor message is garbled",
        )
    };
    let expected = (marker[0] & 1) + (marker[0] >> 1 & 1) + (marker[0] >> 2 & 1);
    if marker[0] > 7 || fds.len() != usize::from(expected) {
        return Err(garbled());
    }
    let mut fds = fds.into_iter();
    let arena = if marker[0] & 1 == 1 { fds.next() } else { None };
    let stdout = if marker[0] & 2 == 2 { fds.next() } else { None };
    if let Some(watch) = fds.next() {
        parent_watch::watch(watch)?;
    }
    Ok((arena, stdout))
}

/// In a worker: makes `fd` (the parent's standard output, received with
/// [`receive_descriptors`]) this process's standard output, and closes it.
pub(crate) fn adopt_stdout(fd: OwnedFd) -> io::Result<()> {
    rustix::stdio::dup2_stdout(fd)?;
    Ok(())
}
