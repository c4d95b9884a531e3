//! [`RLock`]: a lock that the worker holding it may take again.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SharedMemoryError;

use super::process::{self, Taken};
use super::thread;
use super::{OwnerDied, ReleaseError};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Misuse, Op, Patience},
};

/// A reentrant lock: Python's `RLock`.
///
/// The worker that holds it (as told by [`get_ident`](crate::get_ident)) may
/// take it again without waiting; it is free once that worker has released it
/// as many times as it took it. Only the holder may release it.
///
/// Clones share the lock, and so does a clone handed to a worker.
///
/// On the process backend, as for [`Lock`](crate::Lock), the lock of a
/// process that died holding it goes to the next worker that asks, at one
/// level; [`lock_checked`](RLock::lock_checked) tells it so.
///
/// # Examples
///
/// ```
/// use freethreading::RLock;
///
/// fn countdown(rlock: &RLock, n: u32) -> u32 {
///     let _guard = rlock.lock(); // taken again at every level
///     if n == 0 { 0 } else { 1 + countdown(rlock, n - 1) }
/// }
///
/// let rlock = RLock::new();
/// assert_eq!(countdown(&rlock, 3), 3);
/// assert!(!rlock.is_owned());
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RLock {
    pub(super) flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
pub(super) enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::RLock>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::RLock>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::rlock")] Arc<Remote>),
}

impl Flavor {
    fn try_new() -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            return Ok(Flavor::Mpi(Arc::new(Remote::new("RLock", Kind::RLock)?)));
        }
        Ok(if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::RLock::new()?))
        } else {
            Flavor::Thread(Arc::new(thread::RLock::new()))
        })
    }
}

impl RLock {
    /// A new lock that nobody holds.
    ///
    /// # Panics
    ///
    /// On the process backend, if the shared memory that every process maps
    /// cannot be created or is full; [`try_new`](Self::try_new) returns that
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// assert!(!rlock.is_owned());
    /// rlock.acquire();
    /// assert!(rlock.is_owned());
    /// # rlock.release()?;
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        crate::error::or_panic(RLock::try_new())
    }

    /// A new lock that nobody holds, or the error [`new`](Self::new) panics
    /// with.
    ///
    /// # Errors
    ///
    /// [`SharedMemoryError`](crate::SharedMemoryError) on the process
    /// backend, if the shared memory that every process maps cannot be
    /// created or is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::RLock::try_new()?;
    /// assert!(lock.try_acquire());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        Ok(RLock {
            flavor: Flavor::try_new()?,
        })
    }

    /// Takes the lock (once more, if this worker holds it) until the guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// let outer = rlock.lock();
    /// let inner = rlock.lock(); // the holder takes it again without waiting
    /// drop(inner);
    /// assert!(rlock.is_owned()); // one level left
    /// drop(outer);
    /// assert!(!rlock.is_owned());
    /// ```
    pub fn lock(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard::new(self)
    }

    /// Takes the lock if this worker holds it or nobody does.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, RLock, Worker};
    ///
    /// #[worker_fn]
    /// fn try_take(rlock: RLock) -> bool {
    ///     rlock.try_acquire()
    /// }
    ///
    /// let rlock = RLock::new();
    /// let guard = rlock.try_lock().expect("nobody holds it");
    /// assert!(rlock.try_lock().is_some()); // again, by its holder
    /// let worker = Worker::new(try_take, (rlock.clone(),));
    /// worker.start()?;
    /// assert!(!worker.join()?); // but not by another worker
    /// drop(guard);
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.try_acquire().then(|| RLockGuard::new(self))
    }

    /// Takes the lock, waiting at most `timeout` for another worker to free it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rlock = freethreading::RLock::new();
    /// let outer = rlock.lock();
    /// let inner = rlock.lock_timeout(Duration::from_secs(60)); // its holder never waits
    /// assert!(inner.is_some());
    /// # drop(inner);
    /// # drop(outer);
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_timeout(timeout).then(|| RLockGuard::new(self))
    }

    /// Takes the lock, waiting as long as it takes; release it with
    /// [`release`](RLock::release) as many times as it was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// rlock.acquire();
    /// rlock.acquire();
    /// rlock.release()?;
    /// assert!(rlock.is_owned());
    /// rlock.release()?; // as many releases as acquires
    /// assert!(!rlock.is_owned());
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn acquire(&self) {
        self.acquire_until(None);
    }

    /// As [`lock`](RLock::lock), telling whether the lock was taken over
    /// from a process that died holding it, as [`std::sync::Mutex::lock`]
    /// tells of a panic; the error holds the guard. See
    /// [`Lock::lock_checked`](crate::Lock::lock_checked).
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], holding the guard, if the previous owner died.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// let guard = rlock.lock_checked().unwrap_or_else(|died| {
    ///     eprintln!("{died}; checking the shared state");
    ///     died.into_inner()
    /// });
    /// assert!(rlock.is_owned());
    /// # drop(guard);
    /// ```
    pub fn lock_checked(&self) -> Result<RLockGuard<'_>, OwnerDied<RLockGuard<'_>>> {
        let taken = self.acquire_until(None);
        OwnerDied::check(taken, RLockGuard::new(self))
    }

    /// As [`acquire`](RLock::acquire), telling whether the previous owner
    /// died holding the lock.
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] if the previous owner died; the lock is held anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// rlock.acquire_checked()?; // `Ok`: nobody died holding it
    /// assert!(rlock.is_owned());
    /// rlock.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn acquire_checked(&self) -> Result<(), OwnerDied<()>> {
        OwnerDied::check(self.acquire_until(None), ())
    }

    /// Takes the lock if this worker holds it or nobody does; `true` if taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// assert!(rlock.try_acquire());
    /// assert!(rlock.try_acquire()); // the holder takes it again
    /// rlock.release()?;
    /// rlock.release()?;
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn try_acquire(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(lock) => lock.try_acquire(),
            Flavor::Process(lock) => lock.try_acquire(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock.ask(Op::Acquire(Patience::Never)),
        }
    }

    /// Takes the lock, waiting at most `timeout`; `true` if taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, RLock, Worker};
    ///
    /// #[worker_fn]
    /// fn take_briefly(rlock: RLock) -> bool {
    ///     rlock.acquire_timeout(Duration::from_millis(10))
    /// }
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.acquire_timeout(Duration::from_secs(60)));
    /// let worker = Worker::new(take_briefly, (rlock.clone(),));
    /// worker.start()?;
    /// assert!(!worker.join()?); // held here all along: it gave up
    /// rlock.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_until(thread::deadline(timeout)).is_some()
    }

    fn acquire_until(&self, deadline: Option<std::time::Instant>) -> Option<Taken> {
        match &self.flavor {
            Flavor::Thread(lock) => lock.acquire_until(deadline).then_some(Taken::Clean),
            Flavor::Process(lock) => lock.acquire_until(deadline),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock
                .ask(Op::Acquire(Patience::until(deadline)))
                .then_some(Taken::Clean),
        }
    }

    /// Releases one level; the lock is free once every level is released.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::NotOwner`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let rlock = freethreading::RLock::new();
    /// rlock.acquire();
    /// rlock.acquire();
    /// rlock.release()?;
    /// assert!(rlock.is_owned());
    /// rlock.release()?;
    /// assert!(rlock.release().is_err());
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        match &self.flavor {
            Flavor::Thread(lock) => lock.release(),
            Flavor::Process(lock) => lock.release(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock.checked(Op::Release).map(drop).map_err(Misuse::release),
        }
    }

    /// Whether the calling worker holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, RLock, Worker};
    ///
    /// #[worker_fn]
    /// fn owns(rlock: RLock) -> bool {
    ///     rlock.is_owned()
    /// }
    ///
    /// let rlock = RLock::new();
    /// let _guard = rlock.lock();
    /// assert!(rlock.is_owned());
    /// let worker = Worker::new(owns, (rlock.clone(),));
    /// worker.start()?;
    /// assert!(!worker.join()?); // held, but not by that worker
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn is_owned(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(lock) => lock.is_owned(),
            Flavor::Process(lock) => lock.is_owned(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock.ask(Op::IsOwned),
        }
    }
}

impl Default for RLock {
    /// As [`RLock::new`].
    fn default() -> Self {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (owner, count) = match &self.flavor {
            Flavor::Thread(lock) => lock.snapshot(),
            Flavor::Process(lock) => lock.snapshot(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock.snapshot(),
        };
        f.debug_struct("RLock")
            .field("owner", &owner)
            .field("count", &count)
            .finish()
    }
}

/// One level of an [`RLock`], released when this guard is dropped; made by
/// [`RLock::lock`].
///
/// # Examples
///
/// ```
/// let rlock = freethreading::RLock::new();
/// let outer = rlock.lock();
/// let inner = rlock.lock();
/// drop(inner); // one level released
/// assert!(rlock.is_owned());
/// drop(outer); // the last one
/// assert!(!rlock.is_owned());
/// ```
///
/// The guard is not `Send`: only the worker holding an `RLock` may release
/// it, so the guard must be dropped where it was made.
///
/// ```compile_fail,E0277
/// let rlock = freethreading::RLock::new();
/// let guard = rlock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    not_send: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    fn new(lock: &'a RLock) -> Self {
        RLockGuard {
            lock,
            not_send: PhantomData,
        }
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // An error means the level was already released explicitly.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("lock", self.lock)
            .finish()
    }
}
