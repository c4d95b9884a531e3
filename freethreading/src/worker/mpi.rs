//! The MPI flavor of a worker: one link on a worker rank for one task, and
//! a monitor thread of rank 0 that waits for its answer.
//!
//! `start` opens the link (the least busy worker rank greets it, so that
//! `enumerate()` lists the worker as `start` returns), then hands it to a
//! monitor thread, which sends the one job, waits for the reply, closes
//! the link and only then publishes the outcome.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use super::WorkerError;
use super::outcome::Outcome;
use crate::codec;
use crate::codec::message::Route;
use crate::mpi::{NotReady, RankLink};
use crate::process::reply::{Torn, decode_reply};
use crate::task::{TaskError, TaskValue};

/// A worker run on a worker rank.
pub(super) struct Worker<R> {
    task: &'static str,
    /// The serialized arguments, or why they could not be serialized.
    args: Result<Vec<u8>, TaskError>,
    outcome: Arc<Outcome<Result<R, WorkerError>>>,
    /// Whether it was started. Its lock also makes concurrent `start`s take turns.
    started: Mutex<bool>,
}

impl<R: TaskValue> Worker<R> {
    pub(super) fn new<A: TaskValue>(task: &'static str, args: &A) -> Self {
        let args = crate::mpi::encoding_for_rank(|| {
            codec::encode_arguments(task, args, Route::InlineOnly).map(|m| m.wire)
        });
        Worker {
            task,
            args,
            outcome: Arc::new(Outcome::new()),
            started: Mutex::new(false),
        }
    }

    pub(super) fn start(&self, name: &str, daemon: bool) -> Result<(), WorkerError> {
        let mut started = self.started.lock();
        if *started {
            return Err(WorkerError::AlreadyStarted);
        }
        let args = self
            .args
            .as_ref()
            .map_err(|e| WorkerError::Task(e.clone()))?
            .clone();
        if !crate::mpi::fits(args.len()) {
            return Err(WorkerError::Task(TaskError::arguments(
                self.task,
                format!("{} bytes, over what one MPI message may carry", args.len()),
            )));
        }
        // Welcomed and sent its job at once: the rank takes them in turn,
        // after any task of another link it is running.
        let mut link = RankLink::open_many(&[name.to_owned()], daemon, None)
            .map_err(WorkerError::Spawn)?
            .pop()
            .ok_or_else(|| {
                WorkerError::Spawn(std::io::Error::other("no worker rank was opened"))
            })?;
        link.send_job(self.task, false, &args)
            .map_err(WorkerError::Spawn)?;
        let outcome = Arc::clone(&self.outcome);
        let task = self.task;
        thread::Builder::new()
            .name("freethreading-mpi-monitor".to_owned())
            .spawn(move || {
                let result = match link.ready() {
                    Ok(()) => match link.reply(|frame| decode_reply(frame, task)) {
                        // A rank's results are inline, never torn.
                        Ok(decoded) => decoded
                            .unwrap_or_else(|Torn| Err(Torn::error(task)))
                            .map_err(WorkerError::Task),
                        Err(error) => Err(WorkerError::Spawn(error)),
                    },
                    Err(why) => {
                        // A rank that refused the link answers its job with
                        // an error all the same: read before closing.
                        if link.is_ready() {
                            let _ = link.reply(|_| ());
                        }
                        Err(match why {
                            NotReady::Lost(error) => WorkerError::Spawn(error),
                            NotReady::Initializer(error) => WorkerError::Task(error),
                        })
                    }
                };
                // Closed, and gone from `enumerate()`, before `join` returns.
                drop(link);
                outcome.publish(result);
            })
            .map_err(WorkerError::Spawn)?;
        *started = true;
        Ok(())
    }

    pub(super) fn join(self) -> Result<R, WorkerError> {
        if !self.is_started() {
            return Err(WorkerError::NotStarted);
        }
        self.outcome.wait_take()
    }

    pub(super) fn join_timeout(&self, timeout: Duration) -> Result<bool, WorkerError> {
        if !self.is_started() {
            return Err(WorkerError::NotStarted);
        }
        Ok(self.outcome.wait_for(timeout))
    }
}

impl<R> Worker<R> {
    pub(super) fn is_started(&self) -> bool {
        *self.started.lock()
    }

    pub(super) fn is_alive(&self) -> bool {
        self.is_started() && !self.outcome.is_published()
    }
}
