//! [`WorkerPoolExecutor`]: Python's `ThreadPoolExecutor` / `ProcessPoolExecutor`.
//!
//! It shares its workers and result cells with [`WorkerPool`](crate::WorkerPool)
//! (see `runner`); what is its own is the future-per-task interface, cancel,
//! and `shutdown(wait, cancel_futures)`.

mod builder;
mod error;
mod future;
mod map;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use builder::WorkerPoolExecutorBuilder;
pub use error::ExecutorError;
pub use future::TaskFuture;
pub use map::ExecutorMap;

use crate::runner::completion::Completion;
use crate::runner::reply::OneReply;
use crate::runner::{Failure, Workers, deadline};
use crate::task::{Task, registry};

/// Runs tasks on a pool of workers, one [`TaskFuture`] per task: Python's
/// `WorkerPoolExecutor`.
///
/// Its workers start with it (Python's thread executor starts them on
/// demand; starting them at once keeps the initializer's runs predictable).
/// Every call checks first that the task is registered under a unique name,
/// on both backends. Dropping the executor shuts it down and waits for the
/// tasks already submitted, like leaving Python's `with` block.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPoolExecutor};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let executor = WorkerPoolExecutor::new(4)?;
/// let squares: Result<Vec<u64>, _> = executor.map(square, 0..5)?.collect();
/// assert_eq!(squares?, [0, 1, 4, 9, 16]);
/// # Ok::<(), freethreading::ExecutorError>(())
/// ```
pub struct WorkerPoolExecutor {
    workers: Workers,
    shut_down: AtomicBool,
}

impl WorkerPoolExecutor {
    /// Starts an executor of `max_workers` workers.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::ZeroWorkers`] for 0, and the errors of
    /// [`WorkerPoolExecutorBuilder::build`].
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
    /// assert_eq!(executor.max_workers(), 2);
    /// assert_eq!(executor.submit(square, (6,))?.result()?, 36);
    /// assert!(matches!(WorkerPoolExecutor::new(0), Err(ExecutorError::ZeroWorkers)));
    /// # Ok::<(), ExecutorError>(())
    /// ```
    pub fn new(max_workers: usize) -> Result<WorkerPoolExecutor, ExecutorError> {
        WorkerPoolExecutor::builder()
            .max_workers(max_workers)
            .build()
    }

    /// A builder, for the default size or an initializer.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPoolExecutor;
    ///
    /// let executor = WorkerPoolExecutor::builder().max_workers(3).build()?;
    /// assert_eq!(executor.max_workers(), 3);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn builder() -> WorkerPoolExecutorBuilder {
        WorkerPoolExecutorBuilder::new()
    }

    pub(crate) fn from_workers(workers: Workers) -> Self {
        WorkerPoolExecutor {
            workers,
            shut_down: AtomicBool::new(false),
        }
    }

    /// How many workers the executor has.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPoolExecutor;
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// assert_eq!(executor.max_workers(), 2);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.size()
    }

    /// The executor's counters now, as [`WorkerPool::stats`](crate::WorkerPool::stats).
    ///
    /// ```
    /// use freethreading::WorkerPoolExecutor;
    ///
    /// let executor = WorkerPoolExecutor::new(1)?;
    /// assert_eq!(executor.stats().jobs_submitted, 0);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn stats(&self) -> crate::PoolStats {
        self.workers.stats()
    }

    /// What every call checks first.
    fn check<T: Task>(&self, task: T) -> Result<(), ExecutorError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ExecutorError::Shutdown);
        }
        if let Some(why) = self.workers.broken() {
            return Err(why.into());
        }
        registry::check(task.name())?;
        Ok(())
    }

    fn enqueue<T: Task>(
        &self,
        task: T,
        args: T::Args,
    ) -> Result<TaskFuture<T::Output>, ExecutorError> {
        self.enqueue_by(task, args, None)
    }

    fn enqueue_by<T: Task>(
        &self,
        task: T,
        args: T::Args,
        deadline: Option<Instant>,
    ) -> Result<TaskFuture<T::Output>, ExecutorError> {
        let completion = Arc::new(Completion::new());
        let reply = OneReply::new(Arc::clone(&completion)).cancellable();
        self.workers
            .run_one_by(task, args, reply, deadline)
            .map_err(|_| ExecutorError::Shutdown)?;
        Ok(TaskFuture::new(completion))
    }

    /// Submits `task(args)` and returns its future at once.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Shutdown`] after [`shutdown`](Self::shutdown),
    /// [`ExecutorError::Registry`] for a task not registered under a unique
    /// name, [`ExecutorError::Initializer`] when the initializer failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn greet(name: String) -> String {
    ///     format!("hello, {name}")
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// let future = executor.submit(greet, ("Ada".to_owned(),))?;
    /// assert_eq!(future.result()?, "hello, Ada");
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn submit<T: Task>(
        &self,
        task: T,
        args: T::Args,
    ) -> Result<TaskFuture<T::Output>, ExecutorError> {
        self.check(task)?;
        self.enqueue(task, args)
    }

    /// Submits `task(args)` with a deadline `timeout` from now. On processes
    /// a task still running then is stopped by killing its worker, which the
    /// executor replaces; the future fails with [`ExecutorError::Timeout`], a
    /// task still queued then never starts. On threads, which cannot be
    /// stopped, a task past its deadline runs on and its future completes as
    /// usual: wait with [`TaskFuture::result_timeout`] to stop waiting there.
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Backend, ExecutorError, WorkerPoolExecutor, worker_fn};
    ///
    /// #[worker_fn]
    /// fn nap(millis: u64) -> u64 {
    ///     std::thread::sleep(Duration::from_millis(millis));
    ///     millis
    /// }
    ///
    /// let executor = WorkerPoolExecutor::builder().backend(Backend::Multiprocessing).build()?;
    /// let late = executor.submit_timeout(nap, (10_000,), Duration::from_millis(50))?;
    /// assert!(matches!(late.result(), Err(ExecutorError::Timeout)));
    /// assert_eq!(executor.submit(nap, (1,))?.result()?, 1); // a fresh worker took its place
    /// # Ok::<(), ExecutorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    pub fn submit_timeout<T: Task>(
        &self,
        task: T,
        args: T::Args,
        timeout: Duration,
    ) -> Result<TaskFuture<T::Output>, ExecutorError> {
        self.check(task)?;
        self.enqueue_by(task, args, deadline(timeout))
    }

    /// Submits `task(item)` for every item, and returns their results in order.
    ///
    /// Every task is submitted by this call, as in Python; the iterator waits
    /// for each result in turn (see [`ExecutorMap`]).
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit); a task's failure is an item of the iterator.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// let doubled = executor.map(double, [1, 2, 3])?.collect::<Result<Vec<_>, _>>()?;
    /// assert_eq!(doubled, [2, 4, 6]);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn map<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
    ) -> Result<ExecutorMap<T::Output>, ExecutorError>
    where
        T: Task<Args = (A,)>,
    {
        self.starmap_until(task, items.into_iter().map(|item| (item,)), None)
    }

    /// [`map`](Self::map) with a deadline `timeout` from this call: a result
    /// not ready by then is [`ExecutorError::Timeout`], which ends the iteration.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// let doubled = executor.map_timeout(double, 0..3, Duration::from_secs(60))?;
    /// assert_eq!(doubled.collect::<Result<Vec<_>, _>>()?, [0, 2, 4]);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn map_timeout<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        timeout: Duration,
    ) -> Result<ExecutorMap<T::Output>, ExecutorError>
    where
        T: Task<Args = (A,)>,
    {
        let deadline = deadline(timeout);
        self.starmap_until(task, items.into_iter().map(|item| (item,)), deadline)
    }

    /// Like [`map`](Self::map), for tasks of several arguments: each item is
    /// the tuple of one call's arguments (Python's `map(fn, xs, ys)`).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// #[worker_fn]
    /// fn power(base: u64, exponent: u32) -> u64 {
    ///     base.pow(exponent)
    /// }
    ///
    /// let executor = WorkerPoolExecutor::new(2)?;
    /// let powers = executor.starmap(power, [(2, 10), (5, 3)])?;
    /// assert_eq!(powers.collect::<Result<Vec<_>, _>>()?, [1024, 125]);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn starmap<T: Task>(
        &self,
        task: T,
        items: impl IntoIterator<Item = T::Args>,
    ) -> Result<ExecutorMap<T::Output>, ExecutorError> {
        self.starmap_until(task, items.into_iter(), None)
    }

    fn starmap_until<T: Task>(
        &self,
        task: T,
        items: impl Iterator<Item = T::Args>,
        deadline: Option<Instant>,
    ) -> Result<ExecutorMap<T::Output>, ExecutorError> {
        self.check(task)?;
        let mut futures = VecDeque::new();
        for args in items {
            match self.enqueue(task, args) {
                Ok(future) => futures.push_back(future),
                Err(error) => {
                    // Shut down meanwhile: take back what was submitted.
                    for future in futures {
                        future.cancel();
                    }
                    return Err(error);
                }
            }
        }
        Ok(ExecutorMap::new(futures, deadline))
    }

    /// Stops taking tasks. With `cancel_futures`, the tasks not yet started
    /// are cancelled; the others run. With `wait`, returns once every worker
    /// is done. Calling it again is harmless.
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
    /// let submitted = executor.submit(square, (7,))?;
    /// executor.shutdown(true, false);
    /// assert!(submitted.done()); // `wait`: it ran before `shutdown` returned
    /// assert_eq!(submitted.result()?, 49);
    /// assert!(matches!(executor.submit(square, (1,)), Err(ExecutorError::Shutdown)));
    /// # Ok::<(), ExecutorError>(())
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        self.shut_down.store(true, Ordering::Release);
        self.workers.close();
        if cancel_futures {
            self.workers.discard_pending(&Failure::Cancelled);
        }
        if wait {
            self.workers.join();
        }
    }
}

impl Drop for WorkerPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for WorkerPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPoolExecutor")
            .field("max_workers", &self.workers.size())
            .field("shut_down", &self.shut_down.load(Ordering::Acquire))
            .finish()
    }
}
