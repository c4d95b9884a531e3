//! The iterators of `imap` and `imap_unordered`: results as workers deliver them.
//!
//! The call reads and queues the whole input at once (an iterator that is not
//! `Send` cannot be read from another thread later); the iterator then takes
//! the chunks' results from a channel as they arrive. The ordered one parks
//! chunks that arrive early until their turn. A failed chunk yields one error
//! in place of its items and the iteration goes on, as in Python, where a
//! chunk of one item (the default) makes that one error per failed item.

use std::collections::BTreeMap;
use std::fmt;
#[cfg(feature = "futures-core")]
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use parking_lot::Mutex;

use super::PoolError;
use crate::runner::reply::ChunkSink;
use crate::runner::{Failure, deadline};

pub(crate) type Delivery<R> = (usize, Result<Vec<R>, Failure>);

/// The channel between a call's chunks and its iterator.
pub(crate) fn channel<R>() -> (Deliveries<R>, ChannelSink<R>) {
    let (sender, receiver) = crossbeam_channel::unbounded();
    let waker = Arc::default();
    (
        Deliveries {
            receiver,
            waker: Arc::clone(&waker),
        },
        ChannelSink { sender, waker },
    )
}

/// The receiving end of [`channel`], with the waker of a task that polls the
/// iterator as a `Stream`.
pub(crate) struct Deliveries<R> {
    receiver: Receiver<Delivery<R>>,
    waker: Arc<Mutex<Option<Waker>>>,
}

/// The sink of an `imap`: every chunk's results, sent to the iterator, whose
/// poller it wakes.
pub(crate) struct ChannelSink<R> {
    sender: Sender<Delivery<R>>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl<R: Send> ChunkSink<R> for ChannelSink<R> {
    fn wanted(&self, _index: usize) -> bool {
        true
    }

    fn deliver(&self, index: usize, outcome: Result<Vec<R>, Failure>) {
        // The iterator may have been dropped; its results are then unwanted.
        let _ = self.sender.send((index, outcome));
        // Taken out first: a waker that polls at once must not find the lock held.
        let waker = self.waker.lock().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The receiving end shared by both iterators.
struct Stream<R> {
    receiver: Receiver<Delivery<R>>,
    waker: Arc<Mutex<Option<Waker>>>,
    /// How many chunks were queued.
    chunks: usize,
    /// How many chunks were taken from the channel or from `parked`.
    consumed: usize,
    current: std::vec::IntoIter<R>,
    parked: BTreeMap<usize, Result<Vec<R>, Failure>>,
}

impl<R> Stream<R> {
    fn new(deliveries: Deliveries<R>, chunks: usize) -> Self {
        Stream {
            receiver: deliveries.receiver,
            waker: deliveries.waker,
            chunks,
            consumed: 0,
            current: Vec::new().into_iter(),
            parked: BTreeMap::new(),
        }
    }

    /// The next result, taking chunks with `next_chunk` as needed; `Some(Err(Timeout))`
    /// when `next_chunk` gave up.
    fn next_with(
        &mut self,
        mut next_chunk: impl FnMut(&mut Self) -> Result<Result<Vec<R>, Failure>, PoolError>,
    ) -> Option<Result<R, PoolError>> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(Ok(item));
            }
            if self.consumed == self.chunks {
                return None;
            }
            match next_chunk(self) {
                Ok(Ok(results)) => {
                    self.consumed += 1;
                    self.current = results.into_iter();
                }
                Ok(Err(failure)) => {
                    self.consumed += 1;
                    return Some(Err(failure.into()));
                }
                Err(timeout) => return Some(Err(timeout)),
            }
        }
    }

    /// Receives one delivery, until `deadline` if given.
    fn receive(&self, deadline: Option<Instant>) -> Result<Delivery<R>, PoolError> {
        let received = match deadline {
            None => self
                .receiver
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => self.receiver.recv_deadline(deadline),
        };
        match received {
            Ok(delivery) => Ok(delivery),
            Err(RecvTimeoutError::Timeout) => Err(PoolError::Timeout),
            // Every reply delivers, even when dropped; this is only a safety net.
            Err(RecvTimeoutError::Disconnected) => Ok((usize::MAX, Err(Failure::Terminated))),
        }
    }

    /// The chunk whose turn it is, parking the ones that arrive before it.
    fn in_order(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Result<Vec<R>, Failure>, PoolError> {
        let wanted = self.consumed;
        if let Some(outcome) = self.parked.remove(&wanted) {
            return Ok(outcome);
        }
        loop {
            let (index, outcome) = self.receive(deadline)?;
            if index == wanted || index == usize::MAX {
                return Ok(outcome);
            }
            self.parked.insert(index, outcome);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.current.len(), None)
    }

    /// The next item if one is here, else `Pending` with `cx`'s waker left
    /// for the next delivery: the `Stream` side of [`next_with`](Self::next_with).
    #[cfg_attr(not(feature = "futures-core"), allow(dead_code))]
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        ordered: bool,
    ) -> Poll<Option<Result<R, PoolError>>> {
        loop {
            if let Some(item) = self.current.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            if self.consumed == self.chunks {
                return Poll::Ready(None);
            }
            let outcome = if let Some(outcome) = self.try_chunk(ordered) {
                outcome
            } else {
                // Left before looking again, so a delivery in between wakes us.
                *self.waker.lock() = Some(cx.waker().clone());
                match self.try_chunk(ordered) {
                    Some(outcome) => outcome,
                    None => return Poll::Pending,
                }
            };
            self.consumed += 1;
            match outcome {
                Ok(results) => self.current = results.into_iter(),
                Err(failure) => return Poll::Ready(Some(Err(failure.into()))),
            }
        }
    }

    /// The next chunk (the one whose turn it is, if `ordered`) if it has
    /// arrived, parking those that come before their turn.
    fn try_chunk(&mut self, ordered: bool) -> Option<Result<Vec<R>, Failure>> {
        if ordered {
            if let Some(outcome) = self.parked.remove(&self.consumed) {
                return Some(outcome);
            }
        }
        loop {
            match self.receiver.try_recv() {
                Ok((index, outcome)) => {
                    if !ordered || index == self.consumed || index == usize::MAX {
                        return Some(outcome);
                    }
                    self.parked.insert(index, outcome);
                }
                Err(TryRecvError::Empty) => return None,
                // Every reply delivers, even when dropped; this is only a safety net.
                Err(TryRecvError::Disconnected) => return Some(Err(Failure::Terminated)),
            }
        }
    }
}

/// The results of [`imap`](crate::WorkerPool::imap), in input order.
///
/// Each item is the task's result, or the error of a failed chunk in place of
/// that chunk's items (one error per failed item with the default chunk size
/// of 1); the iteration goes on after an error. Dropping it early is fine:
/// the queued chunks still run and their results are discarded. With the
/// `futures-core` feature it is also a `Stream` of the same items.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPool};
///
/// #[worker_fn]
/// fn halve(x: u32) -> u32 {
///     assert!(x % 2 == 0, "{x} is odd");
///     x / 2
/// }
///
/// let pool = WorkerPool::new(2)?;
/// let results: Vec<_> = pool.imap(halve, [2, 3, 4])?.collect();
/// assert_eq!(results[0].as_ref().ok(), Some(&1));
/// assert_eq!(results[1].as_ref().unwrap_err().panic_message(), Some("3 is odd"));
/// assert_eq!(results[2].as_ref().ok(), Some(&2)); // it goes on after an error
/// # Ok::<(), freethreading::PoolError>(())
/// ```
#[must_use = "the results, and any errors, are lost unless the iterator is used"]
pub struct IMap<R> {
    stream: Stream<R>,
}

impl<R: Send> IMap<R> {
    pub(crate) fn new(deliveries: Deliveries<R>, chunks: usize) -> Self {
        IMap {
            stream: Stream::new(deliveries, chunks),
        }
    }

    /// Like [`next`](Iterator::next), but gives up after `timeout`, returning
    /// `Some(Err(PoolError::Timeout))`; the result can still be had later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let mut squares = pool.imap(square, [3, 4])?;
    /// let patience = Duration::from_secs(60);
    /// assert_eq!(squares.next_timeout(patience).transpose()?, Some(9));
    /// assert_eq!(squares.next_timeout(patience).transpose()?, Some(16));
    /// assert!(squares.next_timeout(patience).is_none());
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        let deadline = deadline(timeout);
        self.stream.next_with(|stream| stream.in_order(deadline))
    }
}

impl<R: Send> Iterator for IMap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.stream.next_with(|stream| stream.in_order(None))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

/// The results of [`imap_unordered`](crate::WorkerPool::imap_unordered), as they complete.
///
/// Within a chunk the order is kept; chunks come in the order they finish.
/// Errors are as for [`IMap`]. With the `futures-core` feature it is also a
/// `Stream` of the same items.
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
/// let results = pool.imap_unordered(double, [5, 6])?;
/// let mut doubled = results.collect::<Result<Vec<_>, _>>()?;
/// doubled.sort();
/// assert_eq!(doubled, [10, 12]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
#[must_use = "the results, and any errors, are lost unless the iterator is used"]
pub struct IMapUnordered<R> {
    stream: Stream<R>,
}

impl<R: Send> IMapUnordered<R> {
    pub(crate) fn new(deliveries: Deliveries<R>, chunks: usize) -> Self {
        IMapUnordered {
            stream: Stream::new(deliveries, chunks),
        }
    }

    /// Like [`next`](Iterator::next), but gives up after `timeout`, returning
    /// `Some(Err(PoolError::Timeout))`; the result can still be had later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let mut squares = pool.imap_unordered(square, [3])?;
    /// let patience = Duration::from_secs(60);
    /// assert_eq!(squares.next_timeout(patience).transpose()?, Some(9));
    /// assert!(squares.next_timeout(patience).is_none());
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<R, PoolError>> {
        let deadline = deadline(timeout);
        self.stream
            .next_with(|stream| stream.receive(deadline).map(|(_, outcome)| outcome))
    }
}

impl<R: Send> Iterator for IMapUnordered<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.stream
            .next_with(|stream| stream.receive(None).map(|(_, outcome)| outcome))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

// Nothing in them is pinned: the results are moved out as they come.
impl<R> Unpin for IMap<R> {}
impl<R> Unpin for IMapUnordered<R> {}

/// With the `futures-core` feature, the results as a `Stream`, for async code
/// (an item is ready when its chunk is); as the iterator, in input order.
#[cfg(feature = "futures-core")]
impl<R: Send> futures_core::Stream for IMap<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().stream.poll_next(cx, true)
    }
}

/// With the `futures-core` feature, the results as a `Stream`, for async
/// code; as the iterator, in the order chunks complete.
#[cfg(feature = "futures-core")]
impl<R: Send> futures_core::Stream for IMapUnordered<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().stream.poll_next(cx, false)
    }
}

impl<R> fmt::Debug for IMap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMap")
            .field("chunks", &self.stream.chunks)
            .field("consumed", &self.stream.consumed)
            .finish_non_exhaustive()
    }
}

impl<R> fmt::Debug for IMapUnordered<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMapUnordered")
            .field("chunks", &self.stream.chunks)
            .field("consumed", &self.stream.consumed)
            .finish_non_exhaustive()
    }
}
