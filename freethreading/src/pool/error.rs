//! The error of every [`WorkerPool`](crate::WorkerPool) operation.

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::backend::BackendError;
use crate::error::Timeout;
use crate::runner::{Failure, task_error_accessors};
use crate::task::{RegistryError, TaskError};

/// Why a [`WorkerPool`](crate::WorkerPool) call, or one of its results, failed.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, PoolError, WorkerPool};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = WorkerPool::new(2)?;
/// pool.close();
/// let error = pool.apply(square, (3,)).unwrap_err();
/// assert!(matches!(error, PoolError::NotRunning));
/// assert_eq!(error.to_string(), "pool not running");
/// # Ok::<(), PoolError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PoolError {
    /// The task panicked; for a `map`, the first chunk in order that did.
    Task(TaskError),
    /// The pool was used after [`close`](crate::WorkerPool::close) or
    /// [`terminate`](crate::WorkerPool::terminate).
    NotRunning,
    /// [`join`](crate::WorkerPool::join) was called while the pool still runs.
    StillRunning,
    /// The pool was terminated (or dropped) before the task ran; on
    /// processes, also while it ran, since its worker was killed.
    Terminated,
    /// A `_timeout` wait ended before the result was ready.
    Timeout,
    /// [`successful`](crate::AsyncResult::successful) was asked before the result was ready.
    NotReady,
    /// A pool of zero workers was asked for.
    ZeroWorkers,
    /// A limit of zero tasks per worker was given.
    ZeroMaxTasks,
    /// A chunk size of zero was given.
    ZeroChunksize,
    /// The initializer panicked in a worker: the pool fails every task from then on.
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
    /// use freethreading::{worker_fn, PoolError, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("out of cheese");
    /// }
    ///
    /// let pool = WorkerPool::new(1)?;
    /// let error = pool.apply(fail, ()).unwrap_err();
    /// assert_eq!(error.task_error().and_then(|e| e.panic_message()), Some("out of cheese"));
    /// assert!(error.is_panic());
    /// assert_eq!(error.panic_message(), Some("out of cheese"));
    /// assert!(PoolError::Timeout.task_error().is_none());
    /// # Ok::<(), PoolError>(())
    /// ```
    PoolError
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Task(error) => error.fmt(f),
            PoolError::NotRunning => f.write_str("pool not running"),
            PoolError::StillRunning => f.write_str(
                "pool is still running: call `close()` or `terminate()` before `join()`",
            ),
            PoolError::Terminated => f.write_str("the pool was terminated before the task ran"),
            PoolError::Timeout => f.write_str("timed out"),
            PoolError::NotReady => f.write_str("result is not ready"),
            PoolError::ZeroWorkers => f.write_str("number of workers must be at least 1"),
            PoolError::ZeroMaxTasks => f.write_str("max_tasks_per_worker must be at least 1"),
            PoolError::ZeroChunksize => f.write_str("chunksize must be at least 1"),
            PoolError::Initializer(error) => write!(f, "the pool's initializer failed: {error}"),
            PoolError::Registry(error) => error.fmt(f),
            PoolError::Spawn(error) => write!(f, "could not start a pool worker: {error}"),
            PoolError::Backend(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PoolError::Task(error) | PoolError::Initializer(error) => Some(error),
            PoolError::Registry(error) => Some(error),
            PoolError::Spawn(error) => Some(&**error),
            PoolError::Backend(error) => Some(error),
            _ => None,
        }
    }
}

impl From<Timeout> for PoolError {
    fn from(Timeout: Timeout) -> Self {
        PoolError::Timeout
    }
}

impl From<Failure> for PoolError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Task(error) => PoolError::Task(error),
            Failure::Initializer(error) => PoolError::Initializer(error),
            // A pool has no cancel; its pending jobs are only ever discarded.
            Failure::Terminated | Failure::Cancelled => PoolError::Terminated,
            Failure::Spawn(error) => PoolError::Spawn(error),
            Failure::Backend(error) => PoolError::Backend(error),
            Failure::DeadlineExceeded => PoolError::Timeout,
            Failure::ZeroWorkers => PoolError::ZeroWorkers,
            Failure::ZeroMaxTasks => PoolError::ZeroMaxTasks,
            Failure::Registry(error) => PoolError::Registry(error),
        }
    }
}
