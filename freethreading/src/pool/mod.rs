//! [`WorkerPool`]: Python's `multiprocessing.Pool` / `ThreadPool`, on either backend.
//!
//! The scheduling here (chunks, ordering, states, errors) does not know how a
//! worker runs; it hands jobs to [`Workers`], the backend seam.

mod async_result;
mod builder;
mod chunks;
mod error;
mod imap;
mod map;
mod map_sink;

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use async_result::AsyncResult;
pub use builder::WorkerPoolBuilder;
pub use chunks::RangeItem;
pub use error::PoolError;
pub use imap::{IMap, IMapUnordered};

use crate::runner::completion::Completion;
use crate::runner::reply::OneReply;
use crate::runner::{Failure, PoolStats, Workers};
use crate::task::{Task, registry};

const RUNNING: u8 = 0;
const CLOSED: u8 = 1;
const TERMINATED: u8 = 2;

/// A pool of workers that run tasks: Python's `WorkerPool`.
///
/// Tasks are [`#[worker_fn]`](crate::worker_fn) functions; their arguments go
/// as a tuple. Every call checks first that the task is registered under a
/// unique name, on both backends, so a program that runs on threads also runs
/// on processes. A task that panics fails only its own call, with
/// [`PoolError::Task`]; the pool goes on.
///
/// The pool is `Send + Sync`: share it by reference (or in an `Arc`) between
/// threads. Dropping it [terminates](Self::terminate) it and waits for its
/// workers, like leaving Python's `with WorkerPool() as pool:` block.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPool};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = WorkerPool::new(4)?;
/// assert_eq!(pool.map(square, 0..5)?, [0, 1, 4, 9, 16]);
/// assert_eq!(pool.apply(square, (12,))?, 144);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
pub struct WorkerPool {
    workers: Workers,
    state: AtomicU8,
}

impl WorkerPool {
    /// Starts a pool of `workers` workers.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroWorkers`] for 0, and the errors of [`WorkerPoolBuilder::build`].
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
    /// assert_eq!(pool.workers(), 2);
    /// assert_eq!(pool.apply(square, (5,))?, 25);
    /// assert!(matches!(WorkerPool::new(0), Err(PoolError::ZeroWorkers)));
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn new(workers: usize) -> Result<WorkerPool, PoolError> {
        WorkerPool::builder().workers(workers).build()
    }

    /// A builder, for the default size or an initializer.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPool;
    ///
    /// let pool = WorkerPool::builder().workers(3).build()?;
    /// assert_eq!(pool.workers(), 3);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn builder() -> WorkerPoolBuilder {
        WorkerPoolBuilder::new()
    }

    pub(crate) fn from_workers(workers: Workers) -> Self {
        WorkerPool {
            workers,
            state: AtomicU8::new(RUNNING),
        }
    }

    /// How many workers the pool has.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::WorkerPool;
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.workers(), 2);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn workers(&self) -> usize {
        self.workers.size()
    }

    /// The pool's counters now: jobs submitted, finished and pending, and
    /// workers that died or were retired and were replaced. See [`PoolStats`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.stats().jobs_submitted, 0);
    /// pool.apply(square, (3,))?;
    /// pool.apply(square, (4,))?;
    /// let stats = pool.stats();
    /// assert_eq!((stats.jobs_submitted, stats.jobs_finished), (2, 2));
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.workers.stats()
    }

    /// What every call checks first.
    fn check<T: Task>(&self, task: T) -> Result<(), PoolError> {
        if self.state.load(Ordering::Acquire) != RUNNING {
            return Err(PoolError::NotRunning);
        }
        if let Some(why) = self.workers.broken() {
            return Err(why.into());
        }
        registry::check(task.name())?;
        Ok(())
    }

    /// Runs `task(args)` on a worker and waits for its result.
    ///
    /// # Errors
    ///
    /// [`PoolError::Task`] when the task panics, [`PoolError::NotRunning`]
    /// after [`close`](Self::close) or [`terminate`](Self::terminate),
    /// [`PoolError::Registry`] for a task not registered under a unique name,
    /// [`PoolError::Initializer`] when the initializer failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn add(a: u64, b: u64) -> u64 {
    ///     a + b
    /// }
    ///
    /// #[worker_fn]
    /// fn fail(message: String) -> u64 {
    ///     panic!("{message}")
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.apply(add, (2, 3))?, 5);
    /// let error = pool.apply(fail, ("no luck".to_owned(),)).unwrap_err();
    /// assert_eq!(error.panic_message(), Some("no luck"));
    /// assert_eq!(pool.apply(add, (1, 1))?, 2); // the pool goes on
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn apply<T: Task>(&self, task: T, args: T::Args) -> Result<T::Output, PoolError> {
        self.check(task)?;
        self.workers
            .apply(task, args)
            .map_err(|_| PoolError::NotRunning)?
            .map_err(PoolError::from)
    }

    /// Runs `task(args)` on a worker and waits at most `timeout` for its
    /// result. On processes a task still running then is stopped by killing
    /// its worker, which the pool replaces (Python's pool has no such thing;
    /// `pebble` and `loky` do); one still queued never starts. On threads,
    /// which cannot be stopped, the call returns at the deadline and the task
    /// runs on, its result discarded.
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Backend, PoolError, WorkerPool, worker_fn};
    ///
    /// #[worker_fn]
    /// fn nap(millis: u64) -> u64 {
    ///     std::thread::sleep(Duration::from_millis(millis));
    ///     millis
    /// }
    ///
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// let late = pool.apply_timeout(nap, (10_000,), Duration::from_millis(50));
    /// assert!(matches!(late, Err(PoolError::Timeout)));
    /// assert_eq!(pool.apply(nap, (1,))?, 1); // a fresh worker took its place
    /// # Ok::<(), PoolError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`] when the deadline passed, and as [`apply`](Self::apply).
    pub fn apply_timeout<T: Task>(
        &self,
        task: T,
        args: T::Args,
        timeout: Duration,
    ) -> Result<T::Output, PoolError> {
        self.check(task)?;
        let deadline = crate::runner::deadline(timeout);
        let completion = Arc::new(Completion::new());
        let reply = OneReply::new(Arc::clone(&completion));
        self.workers
            .run_one_by(task, args, reply, deadline)
            .map_err(|_| PoolError::NotRunning)?;
        if !completion.wait_until(deadline) {
            // Queued: it never starts; running on a process: its worker is
            // killed (the driver does so at the deadline anyway).
            completion.cancel();
            return Err(PoolError::Timeout);
        }
        AsyncResult::new(completion).get()
    }

    /// Queues `task(args)` and returns at once with a handle to its result.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply), for the checks made before queueing; the
    /// task's own failure comes from the [`AsyncResult`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let pending: Vec<_> = (1..=3)
    ///     .map(|x| pool.apply_async(square, (x,)))
    ///     .collect::<Result<_, _>>()?;
    /// let squares: Vec<u64> = pending
    ///     .into_iter()
    ///     .map(|result| result.get())
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [1, 4, 9]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn apply_async<T: Task>(
        &self,
        task: T,
        args: T::Args,
    ) -> Result<AsyncResult<T::Output>, PoolError> {
        self.check(task)?;
        let completion = Arc::new(Completion::new());
        let reply = OneReply::new(Arc::clone(&completion));
        self.workers
            .run_one(task, args, reply)
            .map_err(|_| PoolError::NotRunning)?;
        Ok(AsyncResult::new(completion))
    }

    /// Stops taking tasks; the queued ones still run. Then call [`join`](Self::join).
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
    /// let queued = pool.apply_async(square, (6,))?;
    /// pool.close();
    /// assert!(matches!(pool.apply(square, (1,)), Err(PoolError::NotRunning)));
    /// pool.join()?;
    /// assert_eq!(queued.get()?, 36); // queued before `close`: it still ran
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn close(&self) {
        if self
            .state
            .compare_exchange(RUNNING, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.workers.close();
        }
    }

    /// Stops at once: queued tasks are dropped (their results report
    /// [`PoolError::Terminated`]). On threads, running tasks finish; on
    /// processes, the workers are killed, as Python's `Pool.terminate` does,
    /// and running tasks report [`PoolError::Terminated`] too. Then call
    /// [`join`](Self::join). Dropping the pool does this and the join.
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
    /// let pool = WorkerPool::new(1)?;
    /// pool.terminate();
    /// pool.join()?;
    /// assert!(matches!(pool.apply(square, (2,)), Err(PoolError::NotRunning)));
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn terminate(&self) {
        self.state.store(TERMINATED, Ordering::Release);
        self.workers.terminate();
    }

    /// Waits for every worker to exit, after [`close`](Self::close) (once the
    /// queued tasks are done) or [`terminate`](Self::terminate).
    ///
    /// # Errors
    ///
    /// [`PoolError::StillRunning`] when the pool is neither closed nor terminated.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{PoolError, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1)?;
    /// assert!(matches!(pool.join(), Err(PoolError::StillRunning)));
    /// pool.close();
    /// pool.join()?;
    /// # Ok::<(), PoolError>(())
    /// ```
    pub fn join(&self) -> Result<(), PoolError> {
        if self.state.load(Ordering::Acquire) == RUNNING {
            return Err(PoolError::StillRunning);
        }
        self.workers.join();
        Ok(())
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.terminate();
        self.workers.join();
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Acquire) {
            RUNNING => "running",
            CLOSED => "closed",
            _ => "terminated",
        };
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers.size())
            .field("state", &state)
            .finish()
    }
}

/// The pool behind [`parallel_map!`](crate::parallel_map): started at first
/// use with one worker per core, daemon workers, never shut down.
///
/// Should its workers fail to start, every call on it returns that error.
pub fn default_pool() -> &'static WorkerPool {
    static POOL: OnceLock<WorkerPool> = OnceLock::new();
    POOL.get_or_init(|| {
        WorkerPool::builder().build().unwrap_or_else(|error| {
            WorkerPool::from_workers(Workers::unavailable(unavailable(error)))
        })
    })
}

/// The failure every call on a pool that could not start reports.
fn unavailable(error: PoolError) -> Failure {
    match error {
        PoolError::Spawn(error) => Failure::Spawn(error),
        PoolError::Backend(error) => Failure::Backend(error),
        // `build` without a size or an initializer fails in no other way.
        _ => Failure::Terminated,
    }
}
