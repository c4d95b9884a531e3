//! [`WorkerPool`]: Python's `multiprocessing.Pool` / `ThreadPool`, on either backend.
//!
//! The scheduling here (chunks, ordering, states, errors) does not know how a
//! worker runs; it hands jobs to [`Workers`], the backend seam.

mod async_result;
mod builder;
mod chunks;
mod error;
mod imap;

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

pub use async_result::AsyncResult;
pub use builder::WorkerPoolBuilder;
pub use error::PoolError;
pub use imap::{IMap, IMapUnordered};

use crate::runner::completion::Completion;
use crate::runner::reply::OneReply;
use crate::runner::{Failure, Workers};
use crate::task::{Task, registry};
use chunks::{MapSink, default_chunksize, dispatch, exact_len};

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
    pub fn new(workers: usize) -> Result<WorkerPool, PoolError> {
        WorkerPool::builder().workers(workers).build()
    }

    /// A builder, for the default size or an initializer.
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
    pub fn workers(&self) -> usize {
        self.workers.size()
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
    pub fn apply<T: Task>(&self, task: T, args: T::Args) -> Result<T::Output, PoolError> {
        self.apply_async(task, args)?.get()
    }

    /// Queues `task(args)` and returns at once with a handle to its result.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply), for the checks made before queueing; the
    /// task's own failure comes from the [`AsyncResult`].
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

    /// Applies `task` to every item, in parallel, and returns the results in order.
    ///
    /// The items are cut into chunks as Python does: four per worker, sized
    /// `ceil(len / (4 * workers))` (an input without an exact length is read
    /// into a vector first to count it). When tasks panic, the error is the
    /// first failure in input order.
    ///
    /// # Errors
    ///
    /// As [`apply`](Self::apply).
    pub fn map<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.map_async(task, items)?.get()
    }

    /// [`map`](Self::map) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroChunksize`] for 0, and those of [`map`](Self::map).
    pub fn map_chunked<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Vec<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.map_async_chunked(task, items, chunksize)?.get()
    }

    /// [`map`](Self::map) without waiting: the result is the vector of results.
    ///
    /// # Errors
    ///
    /// As [`apply_async`](Self::apply_async).
    pub fn map_async<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
    ) -> Result<AsyncResult<Vec<T::Output>>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.map_in_chunks(task, items.into_iter().map(|item| (item,)), None)
    }

    /// [`map_async`](Self::map_async) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroChunksize`] for 0, and those of [`map_async`](Self::map_async).
    pub fn map_async_chunked<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<AsyncResult<Vec<T::Output>>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.map_in_chunks(task, items.into_iter().map(|item| (item,)), Some(chunksize))
    }

    /// Like [`map`](Self::map), for tasks of several arguments: each item is
    /// the tuple of one call's arguments.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    pub fn starmap<T: Task>(
        &self,
        task: T,
        items: impl IntoIterator<Item = T::Args>,
    ) -> Result<Vec<T::Output>, PoolError> {
        self.starmap_async(task, items)?.get()
    }

    /// [`starmap`](Self::starmap) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroChunksize`] for 0, and those of [`map`](Self::map).
    pub fn starmap_chunked<T: Task>(
        &self,
        task: T,
        items: impl IntoIterator<Item = T::Args>,
        chunksize: usize,
    ) -> Result<Vec<T::Output>, PoolError> {
        self.map_in_chunks(task, items.into_iter(), Some(chunksize))?
            .get()
    }

    /// [`starmap`](Self::starmap) without waiting.
    ///
    /// # Errors
    ///
    /// As [`apply_async`](Self::apply_async).
    pub fn starmap_async<T: Task>(
        &self,
        task: T,
        items: impl IntoIterator<Item = T::Args>,
    ) -> Result<AsyncResult<Vec<T::Output>>, PoolError> {
        self.map_in_chunks(task, items.into_iter(), None)
    }

    /// The `map` family: chunks of `chunksize`, or Python's default size.
    fn map_in_chunks<T: Task>(
        &self,
        task: T,
        items: impl Iterator<Item = T::Args>,
        chunksize: Option<usize>,
    ) -> Result<AsyncResult<Vec<T::Output>>, PoolError> {
        if chunksize == Some(0) {
            return Err(PoolError::ZeroChunksize);
        }
        self.check(task)?;
        if let Some(chunksize) = chunksize {
            return Ok(self.map_chunks(task, items, chunksize));
        }
        // The default size needs the length: count it without reading the
        // input when the iterator knows it, as ranges and vectors do.
        if let Some(len) = exact_len(&items) {
            let chunksize = default_chunksize(len, self.workers.size());
            return Ok(self.map_chunks(task, items, chunksize.max(1)));
        }
        let items: Vec<T::Args> = items.collect();
        let chunksize = default_chunksize(items.len(), self.workers.size());
        Ok(self.map_chunks(task, items.into_iter(), chunksize.max(1)))
    }

    fn map_chunks<T: Task>(
        &self,
        task: T,
        items: impl Iterator<Item = T::Args>,
        chunksize: usize,
    ) -> AsyncResult<Vec<T::Output>> {
        let completion = Arc::new(Completion::new());
        let sink = Arc::new(MapSink::new(Arc::clone(&completion), items.size_hint().0));
        let chunks = dispatch(&self.workers, task, items, chunksize, &sink);
        sink.dispatched(chunks);
        AsyncResult::new(completion)
    }

    /// Applies `task` to every item, giving the results lazily and in order;
    /// one item per chunk.
    ///
    /// The whole input is read and queued by this call; the iterator yields
    /// each result as it is ready, in input order.
    ///
    /// # Errors
    ///
    /// As [`apply_async`](Self::apply_async); a task's failure is an item of the iterator.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let doubled: Result<Vec<i32>, _> = pool.imap(double, [1, 2, 3])?.collect();
    /// assert_eq!(doubled?, [2, 4, 6]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn imap<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
    ) -> Result<IMap<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.imap_chunked(task, items, 1)
    }

    /// [`imap`](Self::imap) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroChunksize`] for 0, and those of [`imap`](Self::imap).
    pub fn imap_chunked<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<IMap<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        let (receiver, chunks) = self.stream(task, items, chunksize)?;
        Ok(IMap::new(receiver, chunks))
    }

    /// Like [`imap`](Self::imap), but yields results as they complete.
    ///
    /// # Errors
    ///
    /// As [`imap`](Self::imap).
    pub fn imap_unordered<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
    ) -> Result<IMapUnordered<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        self.imap_unordered_chunked(task, items, 1)
    }

    /// [`imap_unordered`](Self::imap_unordered) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`PoolError::ZeroChunksize`] for 0, and those of [`imap`](Self::imap).
    pub fn imap_unordered_chunked<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<IMapUnordered<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
    {
        let (receiver, chunks) = self.stream(task, items, chunksize)?;
        Ok(IMapUnordered::new(receiver, chunks))
    }

    /// The `imap` family: queues every chunk, to deliver to a channel.
    fn stream<T, A>(
        &self,
        task: T,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<(crossbeam_channel::Receiver<imap::Delivery<T::Output>>, usize), PoolError>
    where
        T: Task<Args = (A,)>,
    {
        if chunksize == 0 {
            return Err(PoolError::ZeroChunksize);
        }
        self.check(task)?;
        let (receiver, sink) = imap::channel();
        let sink = Arc::new(sink);
        let items = items.into_iter().map(|item| (item,));
        let chunks = dispatch(&self.workers, task, items, chunksize, &sink);
        Ok((receiver, chunks))
    }

    /// Stops taking tasks; the queued ones still run. Then call [`join`](Self::join).
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
    /// [`PoolError::Terminated`]) and running ones finish. Then call
    /// [`join`](Self::join). Dropping the pool does this and the join.
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
        WorkerPool::builder()
            .build()
            .unwrap_or_else(|error| WorkerPool::from_workers(Workers::unavailable(unavailable(error))))
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
