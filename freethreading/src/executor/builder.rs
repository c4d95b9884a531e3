//! Configuring a [`WorkerPoolExecutor`]: Python's `max_workers`, `initializer` and `initargs`.

use std::fmt;
use std::sync::atomic::AtomicUsize;

use super::{ExecutorError, WorkerPoolExecutor};
use crate::Backend;
use crate::runner::CrewOptions;
use crate::task::Task;

/// Builds a [`WorkerPoolExecutor`] with a chosen size or an initializer.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPoolExecutor};
///
/// #[worker_fn]
/// fn setup() {}
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let executor = WorkerPoolExecutor::builder()
///     .max_workers(2)
///     .initializer(setup, ())
///     .build()?;
/// assert_eq!(executor.submit(square, (9,))?.result()?, 81);
/// # Ok::<(), freethreading::ExecutorError>(())
/// ```
#[must_use = "a builder does nothing until `build()` is called"]
pub struct WorkerPoolExecutorBuilder {
    options: CrewOptions,
}

impl WorkerPoolExecutorBuilder {
    pub(crate) fn new() -> Self {
        WorkerPoolExecutorBuilder {
            options: CrewOptions::default(),
        }
    }

    /// The number of worker threads (or processes); by default the number of
    /// cores this program may use, [`std::thread::available_parallelism`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPoolExecutor;
    ///
    /// let executor = WorkerPoolExecutor::builder().max_workers(2).build()?;
    /// assert_eq!(executor.max_workers(), 2);
    /// let default = WorkerPoolExecutor::builder().build()?;
    /// let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(default.max_workers(), cores);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn max_workers(mut self, max_workers: usize) -> Self {
        self.options.set_workers(max_workers);
        self
    }

    /// Replaces each worker after it has run `max_tasks` tasks, as
    /// [`WorkerPoolBuilder::max_tasks_per_worker`](crate::WorkerPoolBuilder::max_tasks_per_worker)
    /// does for a pool: Python's `ProcessPoolExecutor(max_tasks_per_child=..)`.
    ///
    /// ```
    /// use freethreading::{WorkerPoolExecutor, worker_fn};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let executor = WorkerPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .max_tasks_per_child(2)
    ///     .build()?;
    /// for x in 0..5 {
    ///     assert_eq!(executor.submit(square, (x,))?.result()?, x * x);
    /// }
    /// assert_eq!(executor.stats().workers_retired, 2);
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails with [`ExecutorError::ZeroMaxTasks`] for 0.
    pub fn max_tasks_per_child(mut self, max_tasks: usize) -> Self {
        self.options.set_max_jobs(max_tasks);
        self
    }

    /// Runs this executor's workers on `backend` rather than the program's,
    /// as [`WorkerPoolBuilder::backend`](crate::WorkerPoolBuilder::backend) does for a pool.
    ///
    /// ```
    /// use freethreading::{Backend, WorkerPoolExecutor, worker_fn};
    ///
    /// #[worker_fn]
    /// fn process_id() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let executor = WorkerPoolExecutor::builder().backend(Backend::Threading).build()?;
    /// assert_eq!(executor.submit(process_id, ())?.result()?, std::process::id());
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn backend(mut self, backend: Backend) -> Self {
        self.options.set_backend(backend);
        self
    }

    /// A task each worker runs once, with its own clone of `args`, before its
    /// first task: Python's `initializer` and `initargs`.
    ///
    /// If it panics in a worker, the executor is broken, as Python's
    /// `BrokenThreadPool`: every task that runs afterwards fails with
    /// [`ExecutorError::Initializer`], and new submissions return that error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use freethreading::{worker_fn, WorkerPoolExecutor};
    ///
    /// thread_local! {
    ///     static GREETING: RefCell<String> = const { RefCell::new(String::new()) };
    /// }
    ///
    /// #[worker_fn]
    /// fn set_greeting(greeting: String) {
    ///     GREETING.with(|cell| *cell.borrow_mut() = greeting);
    /// }
    ///
    /// #[worker_fn]
    /// fn greet(name: String) -> String {
    ///     GREETING.with(|cell| format!("{}, {name}", cell.borrow()))
    /// }
    ///
    /// let executor = WorkerPoolExecutor::builder()
    ///     .max_workers(2)
    ///     .initializer(set_greeting, ("hello".to_owned(),))
    ///     .build()?;
    /// assert_eq!(executor.submit(greet, ("Ada".to_owned(),))?.result()?, "hello, Ada");
    /// # Ok::<(), freethreading::ExecutorError>(())
    /// ```
    pub fn initializer<I>(mut self, task: I, args: I::Args) -> Self
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        self.options.set_initializer(task, args);
        self
    }

    /// Starts the executor's workers.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::ZeroWorkers`] for `max_workers(0)`,
    /// [`ExecutorError::Registry`] when the initializer is not registered
    /// under a unique name, [`ExecutorError::Spawn`] when a thread could not
    /// be started, and [`ExecutorError::Backend`] when the backend cannot run.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{ExecutorError, WorkerPoolExecutor};
    ///
    /// let executor = WorkerPoolExecutor::builder().max_workers(1).build()?;
    /// assert_eq!(executor.max_workers(), 1);
    /// let error = WorkerPoolExecutor::builder().max_workers(0).build().unwrap_err();
    /// assert!(matches!(error, ExecutorError::ZeroWorkers));
    /// # Ok::<(), ExecutorError>(())
    /// ```
    pub fn build(self) -> Result<WorkerPoolExecutor, ExecutorError> {
        static EXECUTORS: AtomicUsize = AtomicUsize::new(0);
        let workers = self.options.start("WorkerPoolExecutor", &EXECUTORS)?;
        Ok(WorkerPoolExecutor::from_workers(workers))
    }
}

impl fmt::Debug for WorkerPoolExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.options
            .debug(f, "WorkerPoolExecutorBuilder", "max_workers")
    }
}
