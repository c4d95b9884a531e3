//! The handle to one task submitted to a [`WorkerPoolExecutor`](crate::WorkerPoolExecutor).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::ExecutorError;
use crate::runner::completion::Completion;
use crate::runner::deadline;

/// The result of a submitted task, to come: Python's `concurrent.futures.Future`.
///
/// [`result`](Self::result) waits for it and hands it over, so it consumes
/// the future; [`wait_timeout`](Self::wait_timeout) waits with a limit and
/// keeps it. It is also a [`std::future::Future`], for use from async code:
/// awaiting it gives the same `Result` as `result()`, without blocking.
///
/// Dropping a `TaskFuture` does not cancel the task; call
/// [`cancel`](Self::cancel) for that.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPoolExecutor};
///
/// #[worker_fn]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// let executor = WorkerPoolExecutor::new(2)?;
/// let future = executor.submit(add, (2, 3))?;
/// assert_eq!(future.result()?, 5);
/// # Ok::<(), freethreading::ExecutorError>(())
/// ```
#[must_use = "the task runs on, but its result and any error are lost unless `result()` is called or it is awaited"]
pub struct TaskFuture<R: Send> {
    completion: Arc<Completion<R>>,
}

impl<R: Send + 'static> TaskFuture<R> {
    pub(crate) fn new(completion: Arc<Completion<R>>) -> Self {
        TaskFuture { completion }
    }

    /// Waits for the task and returns its result.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Task`] when the task panicked,
    /// [`ExecutorError::Cancelled`] when it was cancelled,
    /// [`ExecutorError::Initializer`] when the executor's initializer failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn divide(a: u64, b: u64) -> u64 {
    ///     a / b
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// assert_eq!(executor.submit(divide, (12, 4))?.result()?, 3);
    /// let error = executor.submit(divide, (1, 0))?.result().unwrap_err();
    /// assert!(error.is_panic());
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn result(self) -> Result<R, ExecutorError> {
        self.take(None)
    }

    /// Like [`result`](Self::result), but gives up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Timeout`] when it is not done in time, and the errors
    /// of [`result`](Self::result).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// let future = executor.submit(square, (8,))?;
    /// assert_eq!(future.result_timeout(Duration::from_secs(60))?, 64);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn result_timeout(self, timeout: Duration) -> Result<R, ExecutorError> {
        self.take(deadline(timeout))
    }

    pub(crate) fn take(self, deadline: Option<Instant>) -> Result<R, ExecutorError> {
        match self.completion.take_until(deadline) {
            Some(outcome) => outcome.map_err(ExecutorError::from),
            None => Err(ExecutorError::Timeout),
        }
    }

    /// Waits until the task is done or `timeout` passes; `true` if it is done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// let future = executor.submit(square, (5,))?;
    /// assert!(future.wait_timeout(Duration::from_secs(60)));
    /// assert!(future.done());
    /// assert_eq!(future.result()?, 25); // the future was kept
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.completion.wait_until(deadline(timeout))
    }

    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        self.completion.wait_until(deadline)
    }

    /// Whether the task finished or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// let future = executor.submit(square, (3,))?;
    /// assert!(future.wait_timeout(Duration::from_secs(60)));
    /// assert!(future.done());
    /// assert!(!future.running());
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn done(&self) -> bool {
        self.completion.is_ready()
    }

    /// Whether a worker is running the task now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Event, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn wait_for(started: Event, gate: Event) -> bool {
    ///     started.set();
    ///     gate.wait_timeout(Duration::from_secs(60))
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// let (started, gate) = (Event::new(), Event::new());
    /// let future = executor.submit(wait_for, (started.clone(), gate.clone()))?;
    /// assert!(started.wait_timeout(Duration::from_secs(60)));
    /// assert!(future.running()); // in the task's body, until the gate opens
    /// gate.set();
    /// assert!(future.wait_timeout(Duration::from_secs(60)));
    /// assert!(!future.running());
    /// assert!(future.result()?);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn running(&self) -> bool {
        self.completion.is_running()
    }

    /// Cancels the task; `true` if it is (or will be) cancelled, `false` if
    /// it cannot be. A task that has not started never will. A task running
    /// in a worker process is stopped by killing that process, which the
    /// executor replaces; its future then fails with
    /// [`ExecutorError::Cancelled`] within a few tens of milliseconds (Python
    /// cannot do this). A task running on a thread cannot be stopped:
    /// `false`, as in Python, and so is a task that is done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Backend, Event, ExecutorError, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn wait_for(gate: Event) -> bool {
    ///     gate.wait_timeout(Duration::from_secs(60))
    /// }
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// // One worker thread, busy until the gate opens: the second task waits in the queue.
    /// let executor = WorkerPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .backend(Backend::Threading)
    ///     .build()?;
    /// let gate = Event::new();
    /// let busy = executor.submit(wait_for, (gate.clone(),))?;
    /// let queued = executor.submit(square, (3,))?;
    /// assert!(queued.cancel());
    /// gate.set();
    /// assert!(busy.result()?);
    /// assert!(matches!(queued.result(), Err(ExecutorError::Cancelled)));
    /// # Ok::<(), ExecutorError>(())
    /// ```
    pub fn cancel(&self) -> bool {
        self.completion.cancel()
    }

    /// Cancels the task if it has not started; a running one runs on (what
    /// an executor's `map` does with the tasks after a failure).
    pub(crate) fn cancel_queued(&self) -> bool {
        self.completion.cancel_queued()
    }

    /// Whether the task was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Backend, Event, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn wait_for(gate: Event) -> bool {
    ///     gate.wait_timeout(Duration::from_secs(60))
    /// }
    ///
    /// let executor = WorkerPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .backend(Backend::Threading)
    ///     .build()?;
    /// let gate = Event::new();
    /// let busy = executor.submit(wait_for, (gate.clone(),))?;
    /// let queued = executor.submit(wait_for, (gate.clone(),))?;
    /// assert!(!queued.cancelled());
    /// queued.cancel();
    /// assert!(queued.cancelled());
    /// assert!(queued.done());
    /// gate.set();
    /// assert!(!busy.cancelled());
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn cancelled(&self) -> bool {
        self.completion.is_cancelled()
    }
}

/// # Panics
///
/// When polled again after it returned `Ready`, as futures may.
impl<R: Send + 'static> std::future::Future for TaskFuture<R> {
    type Output = Result<R, ExecutorError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.completion
            .poll_take(cx, "TaskFuture")
            .map(|outcome| outcome.map_err(ExecutorError::from))
    }
}

impl<R: Send> fmt::Debug for TaskFuture<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFuture")
            .field("done", &self.completion.is_ready())
            .finish_non_exhaustive()
    }
}
