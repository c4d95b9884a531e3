//! The iterator of [`WorkerPoolExecutor::map`](crate::WorkerPoolExecutor::map).

use std::collections::VecDeque;
use std::fmt;
#[cfg(feature = "futures-core")]
use std::future::Future;
use std::time::Instant;

use super::{ExecutorError, TaskFuture};

/// The results of [`map`](crate::WorkerPoolExecutor::map), in input order.
///
/// Every task was submitted by the call; each `next` waits for the next one.
/// As in Python, the first error (a task's failure, or the deadline of
/// [`map_timeout`](crate::WorkerPoolExecutor::map_timeout) passing) is the
/// last item: the tasks not yet started are cancelled and the iteration ends.
/// Dropping the iterator early cancels them too.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPoolExecutor};
///
/// #[worker_fn]
/// fn halve(x: u32) -> u32 {
///     assert!(x % 2 == 0, "{x} is odd");
///     x / 2
/// }
///
/// let executor = WorkerPoolExecutor::new(2)?;
/// let results: Vec<_> = executor.map(halve, [2, 3, 4, 6])?.collect();
/// assert_eq!(results.len(), 2); // the first error ends the iteration
/// assert_eq!(results[0].as_ref().ok(), Some(&1));
/// assert_eq!(results[1].as_ref().unwrap_err().panic_message(), Some("3 is odd"));
/// # Ok::<(), freethreading::ExecutorError>(())
/// ```
#[must_use = "dropping the iterator cancels the tasks not yet started"]
pub struct ExecutorMap<R: Send + 'static> {
    futures: VecDeque<TaskFuture<R>>,
    deadline: Option<Instant>,
}

impl<R: Send + 'static> ExecutorMap<R> {
    pub(crate) fn new(futures: VecDeque<TaskFuture<R>>, deadline: Option<Instant>) -> Self {
        ExecutorMap { futures, deadline }
    }

    /// Cancels the tasks not yet started, as Python does; the running ones
    /// run on, on either backend.
    fn cancel_rest(&mut self) {
        for future in self.futures.drain(..) {
            future.cancel_queued();
        }
    }
}

impl<R: Send + 'static> Iterator for ExecutorMap<R> {
    type Item = Result<R, ExecutorError>;

    fn next(&mut self) -> Option<Self::Item> {
        let future = self.futures.pop_front()?;
        let result = if future.wait_until(self.deadline) {
            future.take(None)
        } else {
            future.cancel_queued();
            Err(ExecutorError::Timeout)
        };
        if result.is_err() {
            self.cancel_rest();
        }
        Some(result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.futures.len()))
    }
}

impl<R: Send + 'static> std::iter::FusedIterator for ExecutorMap<R> {}

// Nothing in it is pinned: the futures are polled through their own `Unpin` handles.
impl<R: Send + 'static> Unpin for ExecutorMap<R> {}

/// With the `futures-core` feature, the results as a `Stream`, for async code:
/// in input order, ending after the first error as the iterator does. The
/// deadline of [`map_timeout`](crate::WorkerPoolExecutor::map_timeout) is the
/// blocking iterator's; an async caller bounds the wait with its runtime's
/// timeout instead.
#[cfg(feature = "futures-core")]
impl<R: Send + 'static> futures_core::Stream for ExecutorMap<R> {
    type Item = Result<R, ExecutorError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(front) = this.futures.front_mut() else {
            return std::task::Poll::Ready(None);
        };
        let result = std::task::ready!(std::pin::Pin::new(front).poll(cx));
        this.futures.pop_front();
        if result.is_err() {
            this.cancel_rest();
        }
        std::task::Poll::Ready(Some(result))
    }
}

impl<R: Send + 'static> Drop for ExecutorMap<R> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<R: Send + 'static> fmt::Debug for ExecutorMap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorMap")
            .field("remaining", &self.futures.len())
            .field("deadline", &self.deadline)
            .finish()
    }
}
