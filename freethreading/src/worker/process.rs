//! The process flavor of a worker: one child process per worker, and a
//! monitor thread in the parent that waits for its answer.
//!
//! `start` hands the worker to a monitor thread (`process/monitors.rs`), which spawns
//! the child (a worker dies with the thread that started it) and writes the
//! handshake and the one job at once, so they wait in the channel while the
//! child starts. The monitor reads the child's hello and its reply, after
//! which the child exits. The monitor closes the channel, leaves the
//! live-worker list and only then publishes the outcome, so that once
//! `join_timeout` says the worker finished, `enumerate()` no longer lists it;
//! then it reaps the child. A child that dies first is an end of file on the
//! channel, reported with the exit status or signal the monitor reaped.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::WorkerError;
use super::outcome::Outcome;
use crate::codec;
use crate::codec::message::{Lent, Route};
use crate::current::{LiveWorker, register_process};
use crate::process::monitors;
use crate::process::reply::decode_reply;
use crate::process::spawn::{self, NotReady, WorkerProcess};
use crate::process::wire::{FrameReader, FrameWriter, JobHeader};
use crate::task::{TaskError, TaskValue};

/// A worker run by a child process.
pub(super) struct Worker<R> {
    task: &'static str,
    /// The serialized arguments, or why they could not be serialized.
    args: Result<bytes::Bytes, TaskError>,
    /// The shared-memory block the arguments lend, if any: the monitor
    /// keeps it until the child has answered or died, then frees it.
    lent: Mutex<Lent>,
    shared: Arc<Shared<R>>,
    /// Whether it was started. Its lock also makes concurrent `start`s take turns.
    started: Mutex<bool>,
}

struct Shared<R> {
    outcome: Outcome<Result<R, WorkerError>>,
}

impl<R: TaskValue> Worker<R> {
    pub(super) fn new<A: TaskValue>(task: &'static str, args: &A) -> Self {
        let (args, lent) = match codec::encode_arguments(task, args, Route::MayShare) {
            Ok(encoded) => (Ok(encoded.wire.into()), encoded.lent),
            Err(error) => (Err(error), Lent::default()),
        };
        Worker {
            task,
            args,
            lent: Mutex::new(lent),
            shared: Arc::new(Shared {
                outcome: Outcome::new(),
            }),
            started: Mutex::new(false),
        }
    }

    pub(super) fn start(&self, name: &str, daemon: bool) -> Result<(), WorkerError> {
        let mut started_once = self.started.lock();
        if *started_once {
            return Err(WorkerError::AlreadyStarted);
        }
        let args = self
            .args
            .as_ref()
            .map_err(|e| WorkerError::Task(e.clone()))?;
        let mut job = FrameWriter::default();
        let header = JobHeader {
            id: 0,
            task: self.task,
            chunk: false,
        };
        job.push_shared(&header, args)
            .map_err(|too_big| WorkerError::Task(TaskError::arguments(self.task, too_big.0)))?;
        let identity = Identity {
            name: name.to_owned(),
            daemon,
            job,
        };
        let shared = Arc::clone(&self.shared);
        let task = self.task;
        let lent = std::mem::take(&mut *self.lent.lock());
        // The monitor starts the child itself: a worker dies with the thread
        // that started it, and the monitor outlives its worker.
        let (started_tx, started) = std::sync::mpsc::sync_channel(1);
        monitors::run(Box::new(move || match identity.spawn() {
            Ok((process, live)) => {
                let _ = started_tx.send(Ok(()));
                monitor_worker(process, live, &shared, task);
                drop(lent);
            }
            Err(error) => {
                let _ = started_tx.send(Err(error));
            }
        }))
        .map_err(WorkerError::Spawn)?;
        match started.recv() {
            Ok(Ok(())) => {
                *started_once = true;
                Ok(())
            }
            Ok(Err(error)) => Err(WorkerError::Spawn(error)),
            Err(_) => Err(WorkerError::Spawn(std::io::Error::other(
                "the worker's monitor ended before starting it",
            ))),
        }
    }

    pub(super) fn join(self) -> Result<R, WorkerError> {
        if !self.is_started() {
            return Err(WorkerError::NotStarted);
        }
        self.shared.outcome.wait_take()
    }

    pub(super) fn join_timeout(&self, timeout: Duration) -> Result<bool, WorkerError> {
        if !self.is_started() {
            return Err(WorkerError::NotStarted);
        }
        Ok(self.shared.outcome.wait_for(timeout))
    }
}

impl<R> Worker<R> {
    pub(super) fn is_started(&self) -> bool {
        *self.started.lock()
    }

    pub(super) fn is_alive(&self) -> bool {
        self.is_started() && !self.shared.outcome.is_published()
    }
}

/// What the monitor needs to start the child.
struct Identity {
    name: String,
    daemon: bool,
    job: FrameWriter,
}

impl Identity {
    /// Starts the child, writes its one job, and counts it as alive.
    fn spawn(mut self) -> std::io::Result<(WorkerProcess, LiveWorker)> {
        let identity = spawn::Identity {
            name: &self.name,
            daemon: self.daemon,
            initializer: None,
            one_shot: true,
        };
        let mut process = WorkerProcess::spawn(&identity)?;
        if let Err((error, _)) = self.job.send_to(&process.channel) {
            process.kill_and_reap();
            return Err(error);
        }
        let live = register_process(self.name, process.pid(), self.daemon);
        Ok((process, live))
    }
}

/// The monitor thread: hello, reply, end of the child, then the outcome.
fn monitor_worker<R: TaskValue>(
    mut process: WorkerProcess,
    live: LiveWorker,
    shared: &Shared<R>,
    task: &str,
) {
    let mut reader = FrameReader::new();
    let outcome = match process.await_hello(&mut reader) {
        Ok(()) => read_reply(&mut process, &mut reader, task),
        Err(NotReady::Lost(error) | NotReady::Killed(error)) => Err(WorkerError::Spawn(error)),
        Err(NotReady::Initializer(error)) => Err(WorkerError::Task(error)),
    };
    // The task is done: the one-shot child exits after its reply (closing
    // our end makes sure), so the worker has finished now, and `join`
    // returns without waiting for the kernel to tear the process down. The
    // monitor reaps it right after, before it takes another worker.
    let (pid, start) = (process.pid(), process.start_time());
    let WorkerProcess {
        mut child, channel, ..
    } = process;
    drop(channel);
    drop(live);
    shared.outcome.publish(outcome);
    let _ = child.wait();
    // Its reply is read: what it still held (a `Bytes` it kept) is freed.
    crate::shared::process_exited(pid, start);
}

fn read_reply<R: TaskValue>(
    process: &mut WorkerProcess,
    reader: &mut FrameReader,
    task: &str,
) -> Result<R, WorkerError> {
    if let Ok(Some(frame)) = process.read_frame(reader) {
        // Torn: the child died while it streamed its result, reported as
        // a death before the reply.
        if let Ok(outcome) = decode_reply(frame, task) {
            return outcome.map_err(WorkerError::Task);
        }
    }
    let status = process.reap();
    // Barriers it took part in must not wait for it any more.
    process.report_death();
    Err(WorkerError::Task(TaskError::worker_died(
        process.pid(),
        status.as_ref(),
    )))
}
