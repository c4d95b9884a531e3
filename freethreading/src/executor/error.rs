//! The error of every [`WorkerPoolExecutor`](crate::WorkerPoolExecutor) operation.

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::backend::BackendError;
use crate::error::Timeout;
use crate::runner::{Failure, task_error_accessors};
use crate::task::{RegistryError, TaskError};

/// Why a [`WorkerPoolExecutor`](crate::WorkerPoolExecutor) call, or one of its
/// [`TaskFuture`](crate::TaskFuture)s, failed.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, ExecutorError, WorkerPoolExecutor};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let executor = WorkerPoolExecutor::new(2)?;
/// executor.shutdown(true, false);
/// let error = executor.submit(square, (3,)).unwrap_err();
/// assert!(matches!(error, ExecutorError::Shutdown));
/// # Ok::<(), ExecutorError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The task panicked.
    Task(TaskError),
    /// A task was submitted after [`shutdown`](crate::WorkerPoolExecutor::shutdown).
    Shutdown,
    /// The future was cancelled: before its task started, or on processes
    /// while it ran, by killing its worker.
    Cancelled,
    /// A `_timeout` wait ended before the result was ready.
    Timeout,
    /// An executor of zero workers was asked for.
    ZeroWorkers,
    /// A limit of zero tasks per worker was given.
    ZeroMaxTasks,
    /// The initializer panicked in a worker: the executor is broken, as
    /// Python's `BrokenThreadPool`, and fails every task from then on.
    Initializer(TaskError),
    /// The task (or initializer) is not registered under a unique name, so a
    /// process worker could not find it.
    Registry(RegistryError),
    /// The operating system refused to start a worker.
    Spawn(Arc<io::Error>),
    /// The backend could not be chosen, or this build cannot run it.
    Backend(BackendError),
}

task_error_accessors! {
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, ExecutorError, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("out of cheese");
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// let error = executor.submit(fail, ())?.result().unwrap_err();
    /// assert_eq!(error.task_error().and_then(|e| e.panic_message()), Some("out of cheese"));
    /// assert!(error.is_panic());
    /// assert_eq!(error.panic_message(), Some("out of cheese"));
    /// assert!(!ExecutorError::Cancelled.is_panic());
    /// # Ok::<(), ExecutorError>(())
    /// ```
    ExecutorError
}

impl fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecutorError::Task(error) => error.fmt(f),
            ExecutorError::Shutdown => f.write_str("cannot schedule new tasks after shutdown"),
            ExecutorError::Cancelled => f.write_str("the task was cancelled"),
            ExecutorError::Timeout => f.write_str("timed out"),
            ExecutorError::ZeroWorkers => f.write_str("max_workers must be at least 1"),
            ExecutorError::ZeroMaxTasks => f.write_str("max_tasks_per_child must be at least 1"),
            ExecutorError::Initializer(error) => {
                write!(f, "the executor's initializer failed: {error}")
            }
            ExecutorError::Registry(error) => error.fmt(f),
            ExecutorError::Spawn(error) => write!(f, "could not start an executor worker: {error}"),
            ExecutorError::Backend(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ExecutorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExecutorError::Task(error) | ExecutorError::Initializer(error) => Some(error),
            ExecutorError::Registry(error) => Some(error),
            ExecutorError::Spawn(error) => Some(&**error),
            ExecutorError::Backend(error) => Some(error),
            _ => None,
        }
    }
}

impl From<Timeout> for ExecutorError {
    fn from(Timeout: Timeout) -> Self {
        ExecutorError::Timeout
    }
}

impl From<Failure> for ExecutorError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Task(error) => ExecutorError::Task(error),
            Failure::Initializer(error) => ExecutorError::Initializer(error),
            Failure::Cancelled => ExecutorError::Cancelled,
            // An executor waits for its queue when shut down, so a job is
            // only discarded when its workers are gone.
            Failure::Terminated => ExecutorError::Shutdown,
            Failure::Spawn(error) => ExecutorError::Spawn(error),
            Failure::Backend(error) => ExecutorError::Backend(error),
            Failure::DeadlineExceeded => ExecutorError::Timeout,
            Failure::ZeroWorkers => ExecutorError::ZeroWorkers,
            Failure::ZeroMaxTasks => ExecutorError::ZeroMaxTasks,
            Failure::Registry(error) => ExecutorError::Registry(error),
        }
    }
}
