//! What a crew counts about itself, for [`WorkerPool::stats`](crate::WorkerPool::stats)
//! and [`WorkerPoolExecutor::stats`](crate::WorkerPoolExecutor::stats): jobs
//! submitted and finished (counted by the replies, whichever way a job ends),
//! and workers replaced after dying or retired after their quota of jobs.

use std::sync::atomic::{AtomicU64, Ordering};

/// A crew's counters, shared by its workers and the replies of its jobs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    submitted: AtomicU64,
    finished: AtomicU64,
    died: AtomicU64,
    killed: AtomicU64,
    retired: AtomicU64,
}

impl Counters {
    pub(crate) fn submitted(&self) {
        self.submitted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// A worker died under a job (or while idle) and was replaced.
    pub(crate) fn died(&self) {
        self.died.fetch_add(1, Ordering::Relaxed);
    }

    /// A worker process was killed for a job past its deadline, or cancelled
    /// while it ran, and replaced.
    pub(crate) fn killed(&self) {
        self.killed.fetch_add(1, Ordering::Relaxed);
    }

    /// A worker was replaced after its quota of jobs.
    pub(crate) fn retired(&self) {
        self.retired.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back a [`retired`](Self::retired) whose successor could not start.
    pub(crate) fn not_retired(&self) {
        self.retired.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, workers: usize) -> PoolStats {
        // Finished is read first: a job finishing in between then shows as
        // still pending, never as a negative count.
        let finished = self.finished.load(Ordering::Relaxed);
        let submitted = self.submitted.load(Ordering::Relaxed).max(finished);
        PoolStats {
            workers,
            jobs_submitted: submitted,
            jobs_finished: finished,
            workers_died: self.died.load(Ordering::Relaxed),
            workers_killed: self.killed.load(Ordering::Relaxed),
            workers_retired: self.retired.load(Ordering::Relaxed),
        }
    }
}

/// A pool's or executor's counters at one moment, from
/// [`WorkerPool::stats`](crate::WorkerPool::stats) or
/// [`WorkerPoolExecutor::stats`](crate::WorkerPoolExecutor::stats).
///
/// A *job* is one call (`apply`, `submit`) or one chunk of a map; it is
/// finished once its outcome is known, a success or an error.
///
/// ```
/// use freethreading::{WorkerPool, worker_fn};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = WorkerPool::new(2)?;
/// pool.map_chunked(square, 0..10, 5)?;
/// let stats = pool.stats();
/// assert_eq!((stats.jobs_submitted, stats.jobs_finished, stats.jobs_pending()), (2, 2, 0));
/// assert_eq!(stats.workers, 2);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// The workers the crew keeps.
    pub workers: usize,
    /// Jobs handed to the crew so far.
    pub jobs_submitted: u64,
    /// Jobs whose outcome is known.
    pub jobs_finished: u64,
    /// Workers that died (a crash, a kill, on processes) and were replaced.
    pub workers_died: u64,
    /// Worker processes killed for a task past its deadline, or cancelled
    /// while it ran, and replaced.
    pub workers_killed: u64,
    /// Workers replaced after `max_tasks_per_worker` jobs.
    pub workers_retired: u64,
}

impl PoolStats {
    /// Jobs queued or running: submitted and not yet finished.
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
    /// let pool = WorkerPool::new(1)?;
    /// let pending = pool.apply_async(square, (2,))?;
    /// assert!(pool.stats().jobs_pending() <= 1);
    /// pending.get()?;
    /// assert_eq!(pool.stats().jobs_pending(), 0);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn jobs_pending(&self) -> u64 {
        self.jobs_submitted - self.jobs_finished
    }
}
