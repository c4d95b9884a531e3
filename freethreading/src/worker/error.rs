//! What can go wrong with a [`Worker`](crate::Worker): misuse of its life cycle,
//! a worker that could not be started, and a task that did not return.

use std::fmt;
use std::io;

use crate::runner::task_error_accessors;
use crate::task::{RegistryError, TaskError};

/// Why a [`Worker`](crate::Worker) operation failed.
///
/// The same cases arise on both backends: a program that handles them on
/// threads handles them on processes. A worker process that died before its
/// task returned is a [`WorkerError::Task`] whose
/// [`TaskError::is_worker_death`](crate::TaskError::is_worker_death) says so,
/// with the exit status or signal. More cases may come, so a `match` needs a
/// wildcard arm.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, Worker, WorkerError};
///
/// #[worker_fn]
/// fn nothing() {}
///
/// let worker = Worker::new(nothing, ());
/// assert!(matches!(worker.join_timeout(std::time::Duration::ZERO), Err(WorkerError::NotStarted)));
/// worker.start()?;
/// assert!(matches!(worker.start(), Err(WorkerError::AlreadyStarted)));
/// worker.join()?;
/// # Ok::<(), WorkerError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WorkerError {
    /// The worker was joined before it was started (Python's "cannot join
    /// thread before it is started").
    NotStarted,
    /// The worker was started a second time, or its daemon flag or name
    /// was changed after it started (Python's "threads can only be started
    /// once" and "cannot set daemon status of active thread").
    AlreadyStarted,
    /// The task cannot be found by its name, which a process worker needs:
    /// checked on every backend so that a program that runs on threads also
    /// runs on processes.
    Registry(RegistryError),
    /// The operating system could not start the worker; it stays unstarted,
    /// so [`start`](crate::Worker::start) may be tried again. On processes
    /// this is also a worker process that could not take over (another build
    /// of the program, or a binary whose `main` never reaches
    /// [`init`](crate::init)), reported by `join`.
    Spawn(io::Error),
    /// The task panicked, or its arguments or result could not cross to or
    /// from the worker.
    Task(TaskError),
}

task_error_accessors! {
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("out of cheese");
    /// }
    ///
    /// let worker = Worker::new(fail, ());
    /// worker.start()?;
    /// let error = worker.join().unwrap_err();
    /// assert_eq!(error.task_error().and_then(|e| e.panic_message()), Some("out of cheese"));
    /// assert!(error.is_panic());
    /// assert_eq!(error.panic_message(), Some("out of cheese"));
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    WorkerError
}

impl fmt::Display for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::NotStarted => f.write_str("cannot join a worker before it is started"),
            WorkerError::AlreadyStarted => f.write_str(
                "the worker was already started: a worker starts once, \
                 and its name and daemon flag are fixed from then on",
            ),
            WorkerError::Registry(error) => write!(f, "cannot start the worker: {error}"),
            WorkerError::Spawn(error) => write!(f, "could not start a worker: {error}"),
            WorkerError::Task(error) => write!(f, "the worker's task failed: {error}"),
        }
    }
}

impl std::error::Error for WorkerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkerError::NotStarted | WorkerError::AlreadyStarted => None,
            WorkerError::Registry(error) => Some(error),
            WorkerError::Spawn(error) => Some(error),
            WorkerError::Task(error) => Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn messages_are_lowercase_and_sources_are_kept() {
        let spawn = WorkerError::Spawn(io::Error::new(io::ErrorKind::WouldBlock, "no threads"));
        assert_eq!(spawn.to_string(), "could not start a worker: no threads");
        assert!(spawn.source().is_some());
        let task = WorkerError::from(TaskError::panicked("boom".to_owned(), None));
        assert_eq!(
            task.to_string(),
            "the worker's task failed: task panicked: boom"
        );
        assert_eq!(
            task.task_error().and_then(TaskError::panic_message),
            Some("boom")
        );
        for error in [
            WorkerError::NotStarted,
            WorkerError::AlreadyStarted,
            spawn,
            task,
        ] {
            let text = error.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
        assert!(WorkerError::NotStarted.source().is_none());
    }
}
