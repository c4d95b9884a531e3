//! A worker that dies with its parent, on any POSIX system: the parent makes
//! one socket pair for its whole life and keeps one end to itself (it is
//! close-on-exec and never sent), and every worker it starts receives the
//! other end. A thread of the worker blocks reading it; nothing is ever
//! written, so the read returns only when the parent's end closes, which
//! happens when the parent process ends, however it ends. The worker then
//! kills itself as `PR_SET_PDEATHSIG` with `SIGKILL` would.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;

/// The parent's two ends: `.0` stays here until the process ends, `.1` is
/// what each worker receives.
static PAIR: OnceLock<(UnixStream, UnixStream)> = OnceLock::new();

/// In a parent: the end to send to a worker, made on first use.
pub(crate) fn end_for_worker() -> io::Result<BorrowedFd<'static>> {
    if PAIR.get().is_none() {
        let pair = UnixStream::pair()?;
        // A racing thread may have set it first; its pair is as good.
        let _ = PAIR.set(pair);
    }
    let (_, theirs) = PAIR.get().ok_or(io::ErrorKind::Other)?;
    Ok(theirs.as_fd())
}

/// In a worker: watches `end` (received from the parent) on a thread of its
/// own, and kills this process when the parent's end closes.
pub(crate) fn watch(end: OwnedFd) -> io::Result<()> {
    let mut end = UnixStream::from(end);
    std::thread::Builder::new()
        .name("freethreading-parent-watch".into())
        .spawn(move || {
            let mut byte = [0_u8; 1];
            // Only the parent's end closing (EOF) or a broken socket ends
            // the loop; a stray byte is ignored.
            while let Ok(1) = end.read(&mut byte) {}
            let _ = rustix::process::kill_process(
                rustix::process::getpid(),
                rustix::process::Signal::KILL,
            );
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_for_workers_stays_open_while_the_parent_lives() {
        let end = end_for_worker().unwrap();
        let copy = UnixStream::from(end.try_clone_to_owned().unwrap());
        copy.set_nonblocking(true).unwrap();
        let mut byte = [0_u8; 1];
        let read = (&copy).read(&mut byte);
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock),
            "no EOF while this process holds its end"
        );
    }
}
