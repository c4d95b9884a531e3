//! A worker process against a parent that breaks off: it must end quietly.

use std::time::{Duration, Instant};

use super::spawn::{Identity, WorkerProcess};
use super::wire::{FrameReader, FrameWriter, JobHeader};
use crate::sys::process as sys;

/// A parent that hangs up with a reply of the worker unread resets the
/// channel: the worker's next read is `ECONNRESET`, not an end of file. That
/// is a parent gone all the same, and the worker exits with status 0, not
/// with a protocol error (status 70, after a line on standard error).
#[test]
fn a_worker_whose_parent_hangs_up_with_replies_unread_exits_quietly() {
    let identity = Identity {
        name: "hung-up-on",
        daemon: true,
        initializer: None,
        one_shot: false,
    };
    let mut process = WorkerProcess::spawn(&identity).expect("a worker");
    let mut reader = FrameReader::new();
    assert!(process.await_hello(&mut reader).is_ok(), "no hello");
    // A job for no task: its reply is an error, but a reply all the same.
    let mut job = FrameWriter::default();
    let header = JobHeader {
        id: 0,
        task: "no::such::task",
        chunk: false,
    };
    job.push(&header, &[]).expect("a job frame");
    assert!(
        job.send_to(&process.channel).is_ok(),
        "the job was not sent"
    );
    // Takes one byte of the reply, so that the rest is surely there, unread.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut byte = Vec::with_capacity(1);
    while sys::read_now_into(&process.channel, &mut byte).is_err() {
        assert!(Instant::now() < deadline, "no reply came");
        std::thread::sleep(Duration::from_millis(1));
    }
    let WorkerProcess {
        mut child, channel, ..
    } = process;
    drop(channel);
    let status = child.wait().expect("the worker's status");
    assert_eq!(status.code(), Some(0), "the worker ended with {status}");
}
