//! The handle to a result a [`WorkerPool`](crate::WorkerPool) computes in the background.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::PoolError;
use crate::runner::completion::Completion;
use crate::runner::deadline;

/// A result that a pool computes in the background: Python's `AsyncResult`.
///
/// Returned by [`apply_async`](crate::WorkerPool::apply_async),
/// [`map_async`](crate::WorkerPool::map_async) and
/// [`starmap_async`](crate::WorkerPool::starmap_async). [`get`](Self::get)
/// waits for the value and hands it over, so it consumes the handle; to wait
/// with a limit and keep the handle, use [`wait_timeout`](Self::wait_timeout)
/// and then `get`. [`on_ready`](Self::on_ready) stands for Python's
/// `callback` and `error_callback`.
///
/// A result never hangs: if the pool is terminated or dropped before the task
/// runs, it reports [`PoolError::Terminated`].
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
/// let result = pool.apply_async(square, (7,))?;
/// assert!(result.wait_timeout(Duration::from_secs(60)));
/// assert!(result.ready());
/// assert_eq!(result.successful()?, true);
/// assert_eq!(result.get()?, 49);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
#[must_use = "the task runs on, but its result and any error are lost unless `get()` is called"]
pub struct AsyncResult<R: Send> {
    completion: Arc<Completion<R>>,
}

impl<R: Send + 'static> AsyncResult<R> {
    pub(crate) fn new(completion: Arc<Completion<R>>) -> Self {
        AsyncResult { completion }
    }

    /// Waits for the result and returns it.
    ///
    /// # Errors
    ///
    /// [`PoolError::Task`] when the task panicked (for a `map`, the first
    /// failing item in order), [`PoolError::Terminated`] when the pool was
    /// terminated before it ran (on processes, or while it ran),
    /// [`PoolError::Initializer`] when the pool's initializer failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn divide(a: u64, b: u64) -> u64 {
    ///     a / b
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// assert_eq!(pool.apply_async(divide, (12, 4))?.get()?, 3);
    /// let error = pool.apply_async(divide, (1, 0))?.get().unwrap_err();
    /// assert!(error.is_panic());
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn get(self) -> Result<R, PoolError> {
        self.take(None)
    }

    /// Like [`get`](Self::get), but gives up after `timeout`.
    ///
    /// On timeout the handle is gone; call [`wait_timeout`](Self::wait_timeout)
    /// first to keep it.
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`] when the result is not ready in time, and the
    /// errors of [`get`](Self::get).
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
    /// let pool = WorkerPool::new(1)?;
    /// let result = pool.apply_async(square, (9,))?;
    /// assert_eq!(result.get_timeout(Duration::from_secs(60))?, 81);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn get_timeout(self, timeout: Duration) -> Result<R, PoolError> {
        self.take(deadline(timeout))
    }

    fn take(self, deadline: Option<Instant>) -> Result<R, PoolError> {
        match self.completion.take_until(deadline) {
            Some(outcome) => outcome.map_err(PoolError::from),
            None => Err(PoolError::Timeout),
        }
    }

    /// Waits until the result is ready.
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
    /// let result = pool.apply_async(square, (3,))?;
    /// result.wait();
    /// assert!(result.ready());
    /// assert_eq!(result.get()?, 9);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn wait(&self) {
        self.completion.wait_until(None);
    }

    /// Waits until the result is ready or `timeout` passes; `true` if it is ready.
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
    /// let pool = WorkerPool::new(1)?;
    /// let result = pool.apply_async(square, (5,))?;
    /// assert!(result.wait_timeout(Duration::from_secs(60)));
    /// assert_eq!(result.get()?, 25); // the handle was kept
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.completion.wait_until(deadline(timeout))
    }

    /// Whether the result is ready (and its [`on_ready`](Self::on_ready) callbacks have run).
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
    /// let result = pool.apply_async(square, (2,))?;
    /// result.wait();
    /// assert!(result.ready());
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn ready(&self) -> bool {
        self.completion.is_ready()
    }

    /// Whether the task returned rather than failed.
    ///
    /// # Errors
    ///
    /// [`PoolError::NotReady`] while the result is not ready, as Python raises
    /// `ValueError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn check_even(x: u64) -> u64 {
    ///     assert!(x % 2 == 0, "odd");
    ///     x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let even = pool.apply_async(check_even, (2,))?;
    /// let odd = pool.apply_async(check_even, (3,))?;
    /// even.wait();
    /// odd.wait();
    /// assert_eq!(even.successful()?, true);
    /// assert_eq!(odd.successful()?, false);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn successful(&self) -> Result<bool, PoolError> {
        self.completion.succeeded().ok_or(PoolError::NotReady)
    }

    /// Calls `callback` once the result is ready, with the value or the error:
    /// Python's `callback` and `error_callback` in one.
    ///
    /// It runs on the worker that finishes the task, before [`get`](Self::get)
    /// and [`wait`](Self::wait) return; or at once, on this thread, if the
    /// result is already ready. The value stays in the handle for `get`. A
    /// callback should be quick, as Python's are: it holds up its worker, so
    /// it must not wait for other tasks of the same pool. A panic in it is
    /// caught and ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// let pool = WorkerPool::new(2)?;
    /// let (sender, receiver) = mpsc::channel();
    /// let result = pool.apply_async(square, (4,))?;
    /// result.on_ready(move |outcome| {
    ///     let _ = sender.send(outcome.map(|value| *value));
    /// });
    /// assert_eq!(result.get()?, 16);
    /// assert_eq!(receiver.recv().unwrap()?, 16);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn on_ready<F>(&self, callback: F)
    where
        F: FnOnce(Result<&R, PoolError>) + Send + 'static,
    {
        self.completion
            .on_ready(Box::new(move |outcome| match outcome {
                Ok(value) => callback(Ok(value)),
                Err(failure) => callback(Err(PoolError::from(failure.clone()))),
            }));
    }
}

/// An `AsyncResult` is also a future of the same outcome as [`get`](Self::get),
/// so async code awaits it instead of blocking a thread:
///
/// ```
/// use freethreading::{WorkerPool, worker_fn};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let pool = WorkerPool::new(1)?;
/// let pending = pool.apply_async(square, (7,))?;
/// assert_eq!(block_on(pending)?, 49); // `pending.await?` in async code
/// # // Any executor does; this one parks the thread until woken.
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::sync::Arc;
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark {
/// #         fn wake(self: Arc<Self>) { self.0.unpark() }
/// #     }
/// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
/// #     let mut future = std::pin::pin!(future);
/// #     loop {
/// #         if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
/// #             return out;
/// #         }
/// #         std::thread::park();
/// #     }
/// # }
/// # Ok::<(), freethreading::PoolError>(())
/// ```
///
/// # Panics
///
/// When polled again after it returned `Ready`, as futures may.
impl<R: Send + 'static> std::future::Future for AsyncResult<R> {
    type Output = Result<R, PoolError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.completion
            .poll_take(cx, "AsyncResult")
            .map(|outcome| outcome.map_err(PoolError::from))
    }
}

impl<R: Send> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.completion.is_ready())
            .finish_non_exhaustive()
    }
}
