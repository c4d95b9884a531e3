//! The errors of the synchronization primitives, one type per operation.
//!
//! Messages follow Python's where it has one, in lowercase: a Python program
//! that catches `RuntimeError("release unlocked lock")` finds the same words.

use std::fmt;

/// A `release()` that the primitive's state does not allow.
///
/// Python raises `RuntimeError` or `ValueError` for these; here each case is a
/// variant, so a caller can tell a double release from a foreign one.
///
/// # Examples
///
/// ```
/// use freethreading::{Lock, ReleaseError};
///
/// let lock = Lock::new();
/// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
/// assert_eq!(ReleaseError::Unlocked.to_string(), "release unlocked lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReleaseError {
    /// A [`Lock`](crate::Lock) released while it was not locked.
    Unlocked,
    /// An [`RLock`](crate::RLock), or the lock of a [`Condition`](crate::Condition),
    /// released by a worker that does not hold it.
    NotOwner,
    /// A [`BoundedSemaphore`](crate::BoundedSemaphore) released above its initial value.
    TooManyReleases,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseError::Unlocked => "release unlocked lock",
            ReleaseError::NotOwner => "cannot release un-acquired lock",
            ReleaseError::TooManyReleases => "semaphore released too many times",
        })
    }
}

impl std::error::Error for ReleaseError {}

/// A [`Condition`](crate::Condition) waited on or notified by a worker that
/// does not hold its lock.
///
/// Only the explicit methods on `Condition` can fail this way; a
/// [`ConditionGuard`](crate::ConditionGuard) holds the lock by construction.
///
/// # Examples
///
/// ```
/// use freethreading::{Condition, ConditionError};
///
/// let condition = Condition::new();
/// assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
/// assert_eq!(
///     ConditionError::WaitUnacquired.to_string(),
///     "cannot wait on un-acquired lock"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConditionError {
    /// `wait` (or `wait_for`) without holding the lock.
    WaitUnacquired,
    /// `notify` or `notify_all` without holding the lock.
    NotifyUnacquired,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionError::WaitUnacquired => "cannot wait on un-acquired lock",
            ConditionError::NotifyUnacquired => "cannot notify on un-acquired lock",
        })
    }
}

impl std::error::Error for ConditionError {}

/// A [`Barrier`](crate::Barrier) that cannot be built as asked.
///
/// # Examples
///
/// ```
/// use freethreading::{Barrier, BarrierError};
///
/// assert_eq!(Barrier::new(0).unwrap_err(), BarrierError::NoParties);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BarrierError {
    /// A barrier for zero parties, which no `wait` could ever complete.
    NoParties,
    /// An action task that a worker process could not find by its name.
    Action(crate::RegistryError),
    /// On the process backend, no shared memory for the barrier.
    SharedMemory(crate::SharedMemoryError),
}

impl fmt::Display for BarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarrierError::NoParties => f.write_str("a barrier needs at least one party"),
            BarrierError::Action(error) => write!(f, "barrier action: {error}"),
            BarrierError::SharedMemory(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for BarrierError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BarrierError::NoParties => None,
            BarrierError::Action(error) => Some(error),
            BarrierError::SharedMemory(error) => Some(error),
        }
    }
}

/// A [`Barrier`](crate::Barrier) wait that failed because the barrier is
/// broken: aborted, reset while this party waited, timed out, or its action
/// panicked. Python's `BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// use freethreading::{Barrier, BrokenBarrier};
///
/// let barrier = Barrier::new(2)?;
/// barrier.abort();
/// assert_eq!(barrier.wait(), Err(BrokenBarrier));
/// # Ok::<(), freethreading::BarrierError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl std::error::Error for BrokenBarrier {}

/// A lock taken over from a process that died holding it: what
/// [`Lock::lock_checked`](crate::Lock::lock_checked) and
/// [`RLock::lock_checked`](crate::RLock::lock_checked) return instead of the
/// guard, as [`std::sync::PoisonError`] does for a panic.
///
/// The lock is held all the same: take the guard (or `()` from
/// `acquire_checked`) back with [`into_inner`](OwnerDied::into_inner). What
/// the lock protects may have been left half-updated by the dead process.
/// Only the process backend produces it: a thread cannot die alone.
///
/// # Examples
///
/// ```
/// let lock = freethreading::Lock::new();
/// match lock.acquire_checked() {
///     Ok(()) => {}
///     Err(died) => {
///         eprintln!("{died}");
///         died.into_inner();
///     }
/// }
/// assert!(lock.locked());
/// ```
#[derive(Clone)]
pub struct OwnerDied<G> {
    inner: G,
}

impl<G> OwnerDied<G> {
    /// `inner`, held, as an error if it was taken from a dead owner.
    pub(crate) fn check(taken: Option<super::process::Taken>, inner: G) -> Result<G, Self> {
        match taken {
            Some(super::process::Taken::OwnerDied) => Err(OwnerDied { inner }),
            _ => Ok(inner),
        }
    }

    /// The guard (or `()`), since the lock is held anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, Lock, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn die_holding(lock: Lock) {
    ///     lock.acquire();
    ///     std::process::exit(1);
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// // Only a process can die holding a lock: a process pool, and a lock its
    /// // workers can share.
    /// let lock = Backend::Multiprocessing.install(Lock::new)?;
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// assert!(pool.apply(die_holding, (lock.clone(),)).is_err());
    /// let died = lock.lock_checked().unwrap_err();
    /// let guard = died.into_inner(); // the lock is held all the same
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> G {
        self.inner
    }

    /// A reference to the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, Lock, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn die_holding(lock: Lock) {
    ///     lock.acquire();
    ///     std::process::exit(1);
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// let lock = Backend::Multiprocessing.install(Lock::new)?;
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// assert!(pool.apply(die_holding, (lock.clone(),)).is_err());
    /// let died = lock.lock_checked().unwrap_err();
    /// assert_eq!(format!("{:?}", died.get_ref()), "LockGuard { lock: Lock { locked: true } }");
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_ref(&self) -> &G {
        &self.inner
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied").finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the previous owner of the lock died while holding it")
    }
}

impl<G> std::error::Error for OwnerDied<G> {}
