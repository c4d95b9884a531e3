//! `WorkerPool`'s `map` family: `map`, `starmap`, `imap`, `imap_unordered`,
//! each with `_async` or `_chunked` forms.
//!
//! Every form cuts its input into chunks ([`chunks`](super::chunks)); `map` and
//! `starmap` collect the results into one vector ([`MapSink`]), the `imap`s
//! stream them through a channel ([`imap`](super::imap)).

use std::ops::Range;
use std::sync::Arc;

use super::chunks::{RangeItem, default_chunksize, dispatch, dispatch_range, exact_len};
use super::imap::{self, IMap, IMapUnordered};
use super::map_sink::MapSink;
use super::{AsyncResult, PoolError, WorkerPool};
use crate::runner::completion::Completion;
use crate::task::Task;

impl WorkerPool {
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
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn length(word: String) -> usize {
    ///     word.len()
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let words = ["one", "three", "five"].map(String::from);
    /// assert_eq!(pool.map(length, words)?, [3, 5, 4]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    /// assert_eq!(pool.map_chunked(square, 0..6, 3)?, [0, 1, 4, 9, 16, 25]);
    /// assert_eq!(pool.stats().jobs_submitted, 2); // two chunks of three
    /// assert!(matches!(pool.map_chunked(square, 0..6, 0), Err(PoolError::ZeroChunksize)));
    /// # Ok::<(), PoolError>(())
    /// ```
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
    /// let pending = pool.map_async(square, 0..4)?;
    /// // ... other work here, while the pool computes ...
    /// assert_eq!(pending.get()?, [0, 1, 4, 9]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    /// let pending = pool.map_async_chunked(square, 0..4, 2)?;
    /// assert_eq!(pending.get()?, [0, 1, 4, 9]);
    /// assert_eq!(pool.stats().jobs_finished, 2);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn power(base: u64, exponent: u32) -> u64 {
    ///     base.pow(exponent)
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.starmap(power, [(2, 3), (3, 2), (10, 0)])?, [8, 9, 1]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let pairs = (0..4).map(|x| (x, 10 * x));
    /// assert_eq!(pool.starmap_chunked(add, pairs, 2)?, [0, 11, 22, 33]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let pending = pool.starmap_async(add, [(1, 2), (3, 4)])?;
    /// assert_eq!(pending.get()?, [3, 7]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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

    /// [`map`](Self::map) over a range of integers, without reading it first.
    ///
    /// The result is the same as `map(task, range)`, but the range is cut
    /// into sub-ranges by arithmetic and each worker generates its own items,
    /// so nothing is copied on the calling thread: the difference shows on
    /// millions of tiny items. [`parallel_map!`](crate::parallel_map) takes
    /// this path by itself when its items are an integer range.
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
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
    /// assert_eq!(pool.map_range(square, 0..5)?, [0, 1, 4, 9, 16]);
    /// assert_eq!(pool.map_range(square, 0..5)?, pool.map(square, 0..5)?);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn map_range<T, A>(&self, task: T, range: Range<A>) -> Result<Vec<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
        A: RangeItem,
        Range<A>: Iterator<Item = A>,
    {
        let chunksize = default_chunksize(A::range_len(&range), self.workers.size());
        self.map_range_chunked(task, range, chunksize.max(1))
    }

    /// [`map_range`](Self::map_range) with pieces of `chunksize` items.
    ///
    /// # Errors
    ///
    /// As [`map_chunked`](Self::map_chunked).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u32) -> u32 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.map_range_chunked(square, 1..6, 2)?, [1, 4, 9, 16, 25]);
    /// assert_eq!(pool.stats().jobs_submitted, 3); // 1..3, 3..5, 5..6
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn map_range_chunked<T, A>(
        &self,
        task: T,
        range: Range<A>,
        chunksize: usize,
    ) -> Result<Vec<T::Output>, PoolError>
    where
        T: Task<Args = (A,)>,
        A: RangeItem,
        Range<A>: Iterator<Item = A>,
    {
        if chunksize == 0 {
            return Err(PoolError::ZeroChunksize);
        }
        self.check(task)?;
        let completion = Arc::new(Completion::new());
        let len = A::range_len(&range);
        let sink = Arc::new(MapSink::new(Arc::clone(&completion), len, chunksize));
        let chunks = dispatch_range(&self.workers, task, range, chunksize, &sink);
        sink.dispatched(chunks);
        AsyncResult::new(completion).get()
    }

    fn map_chunks<T: Task>(
        &self,
        task: T,
        items: impl Iterator<Item = T::Args>,
        chunksize: usize,
    ) -> AsyncResult<Vec<T::Output>> {
        let completion = Arc::new(Completion::new());
        let capacity = items.size_hint().0;
        let sink = Arc::new(MapSink::new(Arc::clone(&completion), capacity, chunksize));
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
    /// let doubled: Result<Vec<i32>, _> = pool.imap_chunked(double, 0..5, 2)?.collect();
    /// assert_eq!(doubled?, [0, 2, 4, 6, 8]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    /// let mut doubled = pool.imap_unordered(double, [1, 2, 3])?.collect::<Result<Vec<_>, _>>()?;
    /// doubled.sort(); // in the order they finished
    /// assert_eq!(doubled, [2, 4, 6]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    /// let results = pool.imap_unordered_chunked(double, 0..6, 3)?;
    /// let mut doubled = results.collect::<Result<Vec<_>, _>>()?;
    /// doubled.sort();
    /// assert_eq!(doubled, [0, 2, 4, 6, 8, 10]);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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
    ) -> Result<(imap::Deliveries<T::Output>, usize), PoolError>
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
}
