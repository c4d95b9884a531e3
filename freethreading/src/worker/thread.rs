//! The thread flavor of a worker: one OS thread per worker, and one shared
//! slot for the task and its outcome.
//!
//! The slot holds the task until the thread takes it, so that a spawn the OS
//! refuses leaves the task in place and `start` can be tried again. The thread
//! runs the task catching any panic, leaves the live-worker list, and only then
//! publishes the outcome and wakes joiners: once `join_timeout` says the worker
//! finished, `enumerate()` no longer lists it, as in Python. `join` then reaps
//! the OS thread, so the cost of a start and a join is that of
//! `std::thread::spawn` and `JoinHandle::join` plus a few small allocations.
//! The OS thread carries the worker's name, so that a panic report names it.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::current::register_worker;
use crate::task::TaskError;
use crate::task::unwind::payload_message;

use super::WorkerError;
use super::outcome::Outcome;

/// The task with its arguments, ready to run on whatever thread takes it.
/// The task and its arguments, run once; a panic comes back as the error.
pub(super) type Job<R> = Box<dyn FnOnce() -> Result<R, TaskError> + Send>;

/// A worker run by a thread of this process.
pub(super) struct Worker<R> {
    shared: Arc<Shared<R>>,
    /// Why `start` refuses, for arguments strict mode found unsendable.
    refused: Option<TaskError>,
    /// The thread, once started. Its lock also makes concurrent `start`s take turns.
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What the starting side and the worker's thread share.
struct Shared<R> {
    /// The task, until the thread takes it.
    job: Mutex<Option<Job<R>>>,
    /// The task's outcome, once it has finished.
    outcome: Outcome<Result<R, TaskError>>,
}

impl<R: Send + 'static> Worker<R> {
    pub(super) fn new(job: Job<R>) -> Self {
        Worker {
            shared: Arc::new(Shared {
                job: Mutex::new(Some(job)),
                outcome: Outcome::new(),
            }),
            thread: Mutex::new(None),
            refused: None,
        }
    }

    /// A worker whose `start` fails with `error`, as a process worker's does
    /// for arguments it could not serialize.
    pub(super) fn refusing(error: TaskError) -> Self {
        Worker {
            refused: Some(error),
            ..Worker::new(Box::new(|| unreachable!("a refusing worker never starts")))
        }
    }

    pub(super) fn start(&self, name: &str, daemon: bool) -> Result<(), WorkerError> {
        let mut thread = self.thread.lock();
        if thread.is_some() {
            return Err(WorkerError::AlreadyStarted);
        }
        if let Some(error) = &self.refused {
            return Err(WorkerError::Task(error.clone()));
        }
        // Registered before the thread exists, so that `is_alive()` and
        // `enumerate()` are right as soon as `start` returns. A failed spawn
        // drops the closure, and with it this registration.
        let live = register_worker(name.to_owned(), daemon);
        let shared = Arc::clone(&self.shared);
        let mut builder = std::thread::Builder::new();
        // std rejects (by panicking) a thread name with a NUL byte; such a
        // worker keeps its name everywhere but in the OS's view of the thread.
        if !name.contains('\0') {
            builder = builder.name(name.to_owned());
        }
        let handle = builder
            .spawn(move || {
                live.enter();
                let job = shared.job.lock().take();
                let outcome = match job {
                    Some(job) => job(),
                    // `start` spawns once, after which the thread alone takes the job.
                    None => Err(TaskError::panicked(
                        "the worker's task was already taken".to_owned(),
                        None,
                    )),
                };
                drop(live);
                shared.outcome.publish(outcome);
            })
            .map_err(WorkerError::Spawn)?;
        *thread = Some(handle);
        Ok(())
    }

    pub(super) fn join(self) -> Result<R, WorkerError> {
        let handle = self.thread.into_inner().ok_or(WorkerError::NotStarted)?;
        // The thread's closure catches the task's panic, so an error here is a
        // bug of ours; it still reaches the caller as an error, not a panic.
        if let Err(payload) = handle.join() {
            let message = payload_message(payload.as_ref());
            return Err(WorkerError::Task(TaskError::panicked(message, None)));
        }
        match self.shared.outcome.take() {
            Some(outcome) => outcome.map_err(WorkerError::Task),
            None => Err(WorkerError::Task(TaskError::panicked(
                "the worker thread ended without a result".to_owned(),
                None,
            ))),
        }
    }

    pub(super) fn join_timeout(&self, timeout: Duration) -> Result<bool, WorkerError> {
        if self.thread.lock().is_none() {
            return Err(WorkerError::NotStarted);
        }
        Ok(self.shared.outcome.wait_for(timeout))
    }
}

impl<R> Worker<R> {
    pub(super) fn is_started(&self) -> bool {
        self.thread.lock().is_some()
    }

    pub(super) fn is_alive(&self) -> bool {
        self.is_started() && !self.shared.outcome.is_published()
    }
}
