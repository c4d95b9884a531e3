//! Configuring a [`WorkerPool`]: Python's `workers`, `initializer` and `initargs`.

use std::fmt;
use std::sync::atomic::AtomicUsize;

use super::{PoolError, WorkerPool};
use crate::Backend;
use crate::runner::CrewOptions;
use crate::task::Task;

/// Builds a [`WorkerPool`] with a chosen size or an initializer.
///
/// # Examples
///
/// ```
/// use freethreading::{current_worker, worker_fn, WorkerPool};
///
/// #[worker_fn]
/// fn announce(greeting: String) {
///     println!("{greeting} from {}", current_worker().name());
/// }
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = WorkerPool::builder()
///     .workers(2)
///     .initializer(announce, ("hello".to_owned(),))
///     .build()?;
/// assert_eq!(pool.map(square, 0..4)?, [0, 1, 4, 9]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
#[must_use = "a builder does nothing until `build()` is called"]
pub struct WorkerPoolBuilder {
    options: CrewOptions,
}

impl WorkerPoolBuilder {
    pub(crate) fn new() -> Self {
        WorkerPoolBuilder {
            options: CrewOptions::default(),
        }
    }

    /// The number of worker threads (or processes); by default the number of
    /// cores this program may use, [`std::thread::available_parallelism`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPool;
    ///
    /// let pool = WorkerPool::builder().workers(2).build()?;
    /// assert_eq!(pool.workers(), 2);
    /// let default = WorkerPool::builder().build()?;
    /// let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(default.workers(), cores);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn workers(mut self, workers: usize) -> Self {
        self.options.set_workers(workers);
        self
    }

    /// Replaces each worker after it has run `max_tasks` jobs (a job is one
    /// call, or one chunk of a map): Python's `maxtasksperchild`. On
    /// processes the child is ended once it has answered and a fresh one
    /// takes its place, which bounds what a leaking native library can hold;
    /// on threads a fresh thread takes over (with fresh thread-locals). The
    /// initializer runs again in each new worker. [`WorkerPool::stats`] counts
    /// the replacements: a thread is replaced as soon as it has run its
    /// quota, a process when the next job comes for it (its successor starts
    /// while it answers its last jobs, and may show in `active_children()`
    /// beside it for that moment).
    ///
    /// ```
    /// use freethreading::{WorkerPool, worker_fn};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::builder().workers(1).max_tasks_per_worker(2).build()?;
    /// for x in 0..5 {
    ///     assert_eq!(pool.apply(square, (x,))?, x * x);
    /// }
    /// assert_eq!(pool.stats().workers_retired, 2);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) fails with [`PoolError::ZeroMaxTasks`] for 0.
    #[doc(alias = "maxtasksperchild")]
    pub fn max_tasks_per_worker(mut self, max_tasks: usize) -> Self {
        self.options.set_max_jobs(max_tasks);
        self
    }

    /// Runs this pool's workers on `backend` rather than the program's (the
    /// one [`get_backend`](crate::get_backend) names), so that one program can
    /// keep a thread pool and a process pool side by side: threads for quick
    /// work, processes for code that may crash or is not thread-safe. Without
    /// it, the pool follows `FREETHREADING_BACKEND` as before.
    ///
    /// Primitives and queues handed to a process pool's tasks must be of the
    /// process flavor: make them on the process backend, or inside
    /// [`Backend::install`].
    ///
    /// ```
    /// use freethreading::{Backend, WorkerPool, worker_fn};
    ///
    /// #[worker_fn]
    /// fn process_id() -> u32 {
    ///     std::process::id()
    /// }
    ///
    /// let threads = WorkerPool::builder().workers(1).backend(Backend::Threading).build()?;
    /// assert_eq!(threads.apply(process_id, ())?, std::process::id());
    /// # if Backend::Multiprocessing.is_available() {
    /// let processes = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// assert_ne!(processes.apply(process_id, ())?, std::process::id());
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn backend(mut self, backend: Backend) -> Self {
        self.options.set_backend(backend);
        self
    }

    /// A task each worker runs once, with its own clone of `args`, before its
    /// first job: Python's `initializer` and `initargs`.
    ///
    /// If it panics in a worker, the pool is broken, as Python's executors
    /// are: every task that runs afterwards fails with
    /// [`PoolError::Initializer`], on every worker, and new calls return that
    /// error at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// thread_local! {
    ///     static OFFSET: Cell<u64> = const { Cell::new(0) };
    /// }
    ///
    /// #[worker_fn]
    /// fn set_offset(offset: u64) {
    ///     OFFSET.with(|cell| cell.set(offset));
    /// }
    ///
    /// #[worker_fn]
    /// fn add_offset(x: u64) -> u64 {
    ///     x + OFFSET.with(Cell::get)
    /// }
    ///
    /// let pool = WorkerPool::builder()
    ///     .workers(2)
    ///     .initializer(set_offset, (100,))
    ///     .build()?;
    /// assert_eq!(pool.map(add_offset, 0..3)?, [100, 101, 102]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn initializer<I>(mut self, task: I, args: I::Args) -> Self
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        self.options.set_initializer(task, args);
        self
    }

    /// Starts the pool's workers.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroWorkers`] for `workers(0)`, [`PoolError::Registry`]
    /// when the initializer is not registered under a unique name,
    /// [`PoolError::Spawn`] when a thread could not be started, and
    /// [`PoolError::Backend`] when the backend cannot run.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{PoolError, WorkerPool};
    ///
    /// let pool = WorkerPool::builder().workers(1).build()?;
    /// assert_eq!(pool.workers(), 1);
    /// let error = WorkerPool::builder().workers(0).build().unwrap_err();
    /// assert!(matches!(error, PoolError::ZeroWorkers));
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn build(self) -> Result<WorkerPool, PoolError> {
        static POOLS: AtomicUsize = AtomicUsize::new(0);
        let workers = self.options.start("WorkerPool", &POOLS)?;
        Ok(WorkerPool::from_workers(workers))
    }
}

impl fmt::Debug for WorkerPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.options.debug(f, "WorkerPoolBuilder", "workers")
    }
}
