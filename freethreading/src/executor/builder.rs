//! Configuring a [`WorkerPoolExecutor`]: Python's `max_workers`, `initializer` and `initargs`.

use std::fmt;
use std::sync::atomic::AtomicUsize;

use super::{ExecutorError, WorkerPoolExecutor};
use crate::runner::{Initializer, Workers, default_size, next_serial};
use crate::task::Task;
use crate::task::registry;

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
    max_workers: Option<usize>,
    initializer: Option<Initializer>,
}

impl WorkerPoolExecutorBuilder {
    pub(crate) fn new() -> Self {
        WorkerPoolExecutorBuilder {
            max_workers: None,
            initializer: None,
        }
    }

    /// The number of worker threads (or processes); by default the number of
    /// cores this program may use, [`std::thread::available_parallelism`].
    pub fn max_workers(mut self, max_workers: usize) -> Self {
        self.max_workers = Some(max_workers);
        self
    }

    /// A task each worker runs once, with its own clone of `args`, before its
    /// first task: Python's `initializer` and `initargs`.
    ///
    /// If it panics in a worker, the executor is broken, as Python's
    /// `BrokenThreadPool`: every task that runs afterwards fails with
    /// [`ExecutorError::Initializer`], and new submissions return that error.
    pub fn initializer<I>(mut self, task: I, args: I::Args) -> Self
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        self.initializer = Some(Initializer::new(task, args));
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
    pub fn build(self) -> Result<WorkerPoolExecutor, ExecutorError> {
        static EXECUTORS: AtomicUsize = AtomicUsize::new(0);
        let size = self.max_workers.unwrap_or_else(default_size);
        if size == 0 {
            return Err(ExecutorError::ZeroWorkers);
        }
        if let Some(initializer) = &self.initializer {
            registry::check(initializer.name())?;
        }
        let prefix = format!("WorkerPoolExecutor-{}", next_serial(&EXECUTORS));
        let workers = Workers::start(&prefix, size, self.initializer.as_ref())?;
        Ok(WorkerPoolExecutor::from_workers(workers))
    }
}

impl fmt::Debug for WorkerPoolExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPoolExecutorBuilder")
            .field("max_workers", &self.max_workers)
            .field(
                "initializer",
                &self.initializer.as_ref().map(Initializer::name),
            )
            .finish()
    }
}
