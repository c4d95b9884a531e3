//! [`Lock`]: a mutual-exclusion lock that any worker may release.

use std::fmt;
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

/// A lock that one worker holds at a time: Python's `Lock`.
///
/// Unlike [`std::sync::Mutex`] it guards no data and has no owner: a lock
/// taken by one worker may be released by another, which is what makes it a
/// signal as well as a lock. Take it for a scope with [`lock`](Lock::lock)
/// (Python's `with lock:`), or explicitly with [`acquire`](Lock::acquire) and
/// [`release`](Lock::release).
///
/// A worker that takes a `Lock` it already holds waits for itself forever,
/// as in Python; use an [`RLock`](crate::RLock) for that.
///
/// Clones share the lock, and so does a clone handed to a worker.
///
/// On the process backend the lock lives in memory shared by every process
/// of the program, and works the same between them. If a process dies
/// holding it, the next worker to take it gets it (within about 50 ms of the
/// death) instead of waiting forever; [`lock_checked`](Lock::lock_checked)
/// and [`acquire_checked`](Lock::acquire_checked) tell it so, as a poisoned
/// [`std::sync::Mutex`] tells of a panic.
///
/// # Examples
///
/// ```
/// use freethreading::Lock;
///
/// let lock = Lock::new();
/// {
///     let _guard = lock.lock();
///     assert!(lock.locked());
///     assert!(lock.try_lock().is_none());
///     assert!(lock.locked(), "a failed try_lock leaves it alone");
/// }
/// assert!(!lock.locked());
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lock {
    pub(super) flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
pub(super) enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Lock>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Lock>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::lock")] Arc<Remote>),
}

impl Flavor {
    fn try_new() -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            return Ok(Flavor::Mpi(Arc::new(Remote::new("Lock", Kind::Lock)?)));
        }
        Ok(if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::Lock::new()?))
        } else {
            Flavor::Thread(Arc::new(thread::Lock::new()))
        })
    }
}

impl Lock {
    /// A new, unlocked lock.
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
    /// let lock = freethreading::Lock::new();
    /// assert!(!lock.locked());
    /// assert!(lock.try_acquire());
    /// assert!(lock.locked());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        crate::error::or_panic(Lock::try_new())
    }

    /// A new, unlocked lock, or the error [`new`](Self::new) panics with.
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
    /// let lock = freethreading::Lock::try_new()?;
    /// assert!(!lock.locked());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        Ok(Lock {
            flavor: Flavor::try_new()?,
        })
    }

    /// Takes the lock, waiting as long as it takes, until the guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Lock, Worker};
    ///
    /// #[worker_fn]
    /// fn try_take(lock: Lock) -> bool {
    ///     lock.try_acquire()
    /// }
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// let worker = Worker::new(try_take, (lock.clone(),));
    /// worker.start()?;
    /// assert!(!worker.join()?); // held here, so the worker could not take it
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn lock(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// Takes the lock if it is free now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// let guard = lock.try_lock();
    /// assert!(guard.is_some());
    /// assert!(lock.try_lock().is_none()); // no worker takes it twice, not even this one
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// Takes the lock, waiting at most `timeout`; `None` if it stayed taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = freethreading::Lock::new();
    /// let _held = lock.lock();
    /// assert!(lock.lock_timeout(Duration::from_millis(10)).is_none());
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// As [`lock`](Lock::lock), telling whether the previous holder was a
    /// process that died holding the lock, as [`std::sync::Mutex::lock`]
    /// tells of a panic.
    ///
    /// The lock is taken either way: the error holds the guard. Whatever the
    /// lock protects may be half-updated then; check it, or carry on with
    /// [`OwnerDied::into_inner`]. [`lock`](Lock::lock) and
    /// [`acquire`](Lock::acquire) take such a lock silently. On threads, and
    /// on processes while every holder lives, this is always `Ok`.
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], holding the guard, if the lock was taken over from a
    /// dead process.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// let guard = lock.lock_checked().unwrap_or_else(|died| {
    ///     eprintln!("{died}; checking the shared state");
    ///     died.into_inner()
    /// });
    /// assert!(lock.locked());
    /// # drop(guard);
    /// ```
    pub fn lock_checked(&self) -> Result<LockGuard<'_>, OwnerDied<LockGuard<'_>>> {
        let taken = self.acquire_until(None);
        OwnerDied::check(taken, LockGuard { lock: self })
    }

    /// Takes the lock, waiting as long as it takes; release it with
    /// [`release`](Lock::release), from this worker or another.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Lock, Worker};
    ///
    /// #[worker_fn]
    /// fn release(lock: Lock) {
    ///     lock.release().unwrap();
    /// }
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// // A `Lock` has no owner: another worker may release it.
    /// let worker = Worker::new(release, (lock.clone(),));
    /// worker.start()?;
    /// worker.join()?;
    /// assert!(!lock.locked());
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn acquire(&self) {
        self.acquire_until(None);
    }

    /// As [`acquire`](Lock::acquire), telling whether the lock was taken over
    /// from a process that died holding it; see [`lock_checked`](Lock::lock_checked).
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] if the previous holder died; the lock is held anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// lock.acquire_checked()?; // `Ok`: nobody died holding it
    /// assert!(lock.locked());
    /// lock.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn acquire_checked(&self) -> Result<(), OwnerDied<()>> {
        OwnerDied::check(self.acquire_until(None), ())
    }

    /// Takes the lock if it is free now; `true` if taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire()); // taken, by this very worker
    /// lock.release()?;
    /// assert!(lock.try_acquire());
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
    ///
    /// let lock = freethreading::Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_secs(60))); // free: taken at once
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10))); // still taken
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

    /// Releases the lock, whoever took it, and wakes one waiter.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::Unlocked`] if the lock is not locked.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// lock.acquire();
    /// lock.release()?;
    /// assert!(lock.release().is_err());
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

    /// Whether some worker holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = freethreading::Lock::new();
    /// assert!(!lock.locked());
    /// let guard = lock.lock();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(lock) => lock.locked(),
            Flavor::Process(lock) => lock.locked(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(lock) => lock.ask(Op::Locked),
        }
    }
}

impl Default for Lock {
    /// As [`Lock::new`].
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// A [`Lock`] held until this guard is dropped; made by [`Lock::lock`].
///
/// A `Lock` has no owner, so the guard may be sent to, and dropped on,
/// another thread. If the lock was released explicitly while the guard lived,
/// dropping the guard leaves it as it is.
///
/// # Examples
///
/// ```
/// let lock = freethreading::Lock::new();
/// let guard = lock.lock();
/// // No owner: the guard may be dropped on another thread.
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // An error means the lock was already released explicitly.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}
