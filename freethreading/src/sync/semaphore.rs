//! [`Semaphore`] and [`BoundedSemaphore`]: counters of permits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SharedMemoryError;

use super::ReleaseError;
use super::{process, thread};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Misuse, Op, Patience},
};

/// A counter of permits: Python's `Semaphore`.
///
/// Taking a permit waits while none is left; releasing one adds a permit,
/// with no upper limit (see [`BoundedSemaphore`] for one). Hold a permit for
/// a scope with [`access`](Semaphore::access) (Python's `with semaphore:`).
///
/// Clones share the permits, and so does a clone handed to a worker.
///
/// A permit is a count, not owned by anyone: a worker process that dies
/// holding one takes it with it, as in Python, and the semaphore has one
/// permit fewer from then on. Where workers may die holding a permit and that
/// matters, guard the work with a [`Lock`](crate::Lock) (whose
/// [`lock_checked`](crate::Lock::lock_checked) reports a dead owner and frees
/// the lock), or have a supervisor `release` once it learns of the death (a
/// pool's task fails with [`TaskError::is_worker_death`](crate::TaskError::is_worker_death)).
///
/// # Examples
///
/// ```
/// use freethreading::Semaphore;
///
/// let semaphore = Semaphore::new(2);
/// let first = semaphore.access();
/// let second = semaphore.access();
/// assert!(semaphore.try_access().is_none());
/// drop(first);
/// assert_eq!(semaphore.value(), 1);
/// # drop(second);
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Semaphore {
    flavor: Flavor,
}

/// A counter of permits that may never exceed its initial value: Python's
/// `BoundedSemaphore`.
///
/// Releasing more permits than were taken is an error rather than a silent
/// increase, which catches a release without a matching acquire.
///
/// Clones share the permits, and so does a clone handed to a worker.
///
/// # Examples
///
/// ```
/// use freethreading::{BoundedSemaphore, ReleaseError};
///
/// let semaphore = BoundedSemaphore::new(1);
/// assert_eq!(semaphore.release(), Err(ReleaseError::TooManyReleases));
/// {
///     let _permit = semaphore.access();
///     assert_eq!(semaphore.value(), 0);
/// }
/// assert_eq!(semaphore.value(), 1);
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoundedSemaphore {
    flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Semaphore>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Semaphore>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::semaphore")] Arc<Remote>),
}

impl Flavor {
    fn try_new(value: usize, bounded: bool) -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            let kind = Kind::Semaphore {
                value: u64::try_from(value).unwrap_or(u64::MAX),
                bounded,
            };
            let what = if bounded {
                "BoundedSemaphore"
            } else {
                "Semaphore"
            };
            return Ok(Flavor::Mpi(Arc::new(Remote::new(what, kind)?)));
        }
        Ok(if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::Semaphore::new(value, bounded)?))
        } else {
            Flavor::Thread(Arc::new(thread::Semaphore::new(value, bounded)))
        })
    }

    fn acquire_until(&self, deadline: Option<std::time::Instant>) -> bool {
        match self {
            Flavor::Thread(semaphore) => semaphore.acquire_until(deadline),
            Flavor::Process(semaphore) => semaphore.acquire_until(deadline),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(semaphore) => semaphore.ask(Op::Acquire(Patience::until(deadline))),
        }
    }

    fn try_acquire(&self) -> bool {
        match self {
            Flavor::Thread(semaphore) => semaphore.try_acquire(),
            Flavor::Process(semaphore) => semaphore.try_acquire(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(semaphore) => semaphore.ask(Op::Acquire(Patience::Never)),
        }
    }

    fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        match self {
            Flavor::Thread(semaphore) => semaphore.release_n(n),
            Flavor::Process(semaphore) => semaphore.release_n(n),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(semaphore) => semaphore
                .checked(Op::ReleaseN(u64::try_from(n).unwrap_or(u64::MAX)))
                .map(drop)
                .map_err(Misuse::release),
        }
    }

    fn value(&self) -> usize {
        match self {
            Flavor::Thread(semaphore) => semaphore.value(),
            Flavor::Process(semaphore) => semaphore.value(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(semaphore) => semaphore.count(Op::Value),
        }
    }

    fn bound(&self) -> Option<usize> {
        match self {
            Flavor::Thread(semaphore) => semaphore.bound(),
            Flavor::Process(semaphore) => semaphore.bound(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(semaphore) => semaphore.bound(),
        }
    }
}

/// The methods both semaphores share, written once; `$ty` names the type in
/// their examples.
macro_rules! permit_methods {
    ($ty:ident) => {
        /// Takes a permit, waiting as long as it takes, until the guard is dropped.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(1);")]
        /// let guard = semaphore.access();
        /// assert_eq!(semaphore.value(), 0);
        /// drop(guard); // gives the permit back
        /// assert_eq!(semaphore.value(), 1);
        /// ```
        pub fn access(&self) -> SemaphoreGuard<'_> {
            self.acquire();
            SemaphoreGuard {
                flavor: &self.flavor,
            }
        }

        /// Takes a permit if one is left now.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(1);")]
        /// let guard = semaphore.try_access();
        /// assert!(guard.is_some());
        /// assert!(semaphore.try_access().is_none()); // none left
        /// drop(guard);
        /// assert!(semaphore.try_access().is_some());
        /// ```
        pub fn try_access(&self) -> Option<SemaphoreGuard<'_>> {
            self.try_acquire().then(|| SemaphoreGuard {
                flavor: &self.flavor,
            })
        }

        /// Takes a permit, waiting at most `timeout`; `None` if none came free.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(1);")]
        /// let guard = semaphore.access_timeout(Duration::from_secs(60));
        /// assert!(guard.is_some());
        /// assert!(semaphore.access_timeout(Duration::from_millis(10)).is_none());
        /// ```
        pub fn access_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
            self.acquire_timeout(timeout).then(|| SemaphoreGuard {
                flavor: &self.flavor,
            })
        }

        /// Takes a permit, waiting as long as it takes; give it back with `release`.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(2);")]
        /// semaphore.acquire();
        /// semaphore.acquire();
        /// assert_eq!(semaphore.value(), 0);
        /// ```
        pub fn acquire(&self) {
            self.flavor.acquire_until(None);
        }

        /// Takes a permit if one is left now; `true` if taken.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(1);")]
        /// assert!(semaphore.try_acquire());
        /// assert!(!semaphore.try_acquire()); // none left
        /// assert_eq!(semaphore.value(), 0);
        /// ```
        pub fn try_acquire(&self) -> bool {
            self.flavor.try_acquire()
        }

        /// Takes a permit, waiting at most `timeout`; `true` if taken.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(1);")]
        /// assert!(semaphore.acquire_timeout(Duration::from_secs(60)));
        /// assert!(!semaphore.acquire_timeout(Duration::from_millis(10))); // none left
        /// ```
        pub fn acquire_timeout(&self, timeout: Duration) -> bool {
            self.flavor.acquire_until(thread::deadline(timeout))
        }

        /// How many permits are left now.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let semaphore = freethreading::", stringify!($ty), "::new(3);")]
        /// assert_eq!(semaphore.value(), 3);
        /// let _permit = semaphore.access();
        /// assert_eq!(semaphore.value(), 2);
        /// ```
        pub fn value(&self) -> usize {
            self.flavor.value()
        }
    };
}

impl Semaphore {
    /// A semaphore with `value` permits; Python's default is 1.
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
    /// use freethreading::{worker_fn, Semaphore, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn take_one(permits: Semaphore) -> bool {
    ///     permits.try_acquire()
    /// }
    ///
    /// let permits = Semaphore::new(2);
    /// let pool = WorkerPool::new(2)?;
    /// let taken = pool.map(take_one, vec![permits.clone(); 3])?;
    /// assert_eq!(taken.iter().filter(|&&ok| ok).count(), 2); // two permits, three asks
    /// assert_eq!(permits.value(), 0);
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        crate::error::or_panic(Semaphore::try_new(value))
    }

    /// A semaphore with `value` permits, or the error [`new`](Self::new)
    /// panics with.
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
    /// let semaphore = freethreading::Semaphore::try_new(2)?;
    /// assert_eq!(semaphore.value(), 2);
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new(value: usize) -> Result<Self, SharedMemoryError> {
        Ok(Semaphore {
            flavor: Flavor::try_new(value, false)?,
        })
    }

    permit_methods!(Semaphore);

    /// Adds a permit and wakes one waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = freethreading::Semaphore::new(1);
    /// semaphore.acquire();
    /// semaphore.release();
    /// semaphore.release(); // no bound: a second permit appears
    /// assert_eq!(semaphore.value(), 2);
    /// ```
    pub fn release(&self) {
        self.release_n(1);
    }

    /// Adds `n` permits and wakes up to `n` waiters.
    ///
    /// The count stops at `usize::MAX`, which is as good as unlimited.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = freethreading::Semaphore::new(0);
    /// semaphore.release_n(3);
    /// assert_eq!(semaphore.value(), 3);
    /// ```
    pub fn release_n(&self, n: usize) {
        // Only a bounded semaphore refuses a release.
        let _ = self.flavor.release_n(n);
    }
}

impl BoundedSemaphore {
    /// A semaphore with `value` permits, which is also its maximum.
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
    /// let semaphore = freethreading::BoundedSemaphore::new(2);
    /// assert_eq!(semaphore.value(), 2);
    /// assert_eq!(semaphore.bound(), 2);
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Self {
        crate::error::or_panic(BoundedSemaphore::try_new(value))
    }

    /// A bounded semaphore with `value` permits, or the error
    /// [`new`](Self::new) panics with.
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
    /// let semaphore = freethreading::BoundedSemaphore::try_new(1)?;
    /// assert_eq!(semaphore.bound(), 1);
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new(value: usize) -> Result<Self, SharedMemoryError> {
        Ok(BoundedSemaphore {
            flavor: Flavor::try_new(value, true)?,
        })
    }

    permit_methods!(BoundedSemaphore);

    /// Gives a permit back and wakes one waiter.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::TooManyReleases`] if that would exceed the initial value.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{BoundedSemaphore, ReleaseError};
    ///
    /// let semaphore = BoundedSemaphore::new(1);
    /// semaphore.acquire();
    /// semaphore.release()?;
    /// assert_eq!(semaphore.release(), Err(ReleaseError::TooManyReleases));
    /// assert_eq!(semaphore.value(), 1);
    /// # Ok::<(), ReleaseError>(())
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_n(1)
    }

    /// Gives `n` permits back and wakes up to `n` waiters.
    ///
    /// # Errors
    ///
    /// [`ReleaseError::TooManyReleases`] if that would exceed the initial
    /// value; nothing is released then.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{BoundedSemaphore, ReleaseError};
    ///
    /// let semaphore = BoundedSemaphore::new(3);
    /// semaphore.acquire();
    /// semaphore.acquire();
    /// assert_eq!(semaphore.release_n(3), Err(ReleaseError::TooManyReleases));
    /// assert_eq!(semaphore.value(), 1); // nothing was released
    /// semaphore.release_n(2)?;
    /// assert_eq!(semaphore.value(), 3);
    /// # Ok::<(), ReleaseError>(())
    /// ```
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.flavor.release_n(n)
    }

    /// The initial value, which the count may never exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = freethreading::BoundedSemaphore::new(4);
    /// let _permit = semaphore.access();
    /// assert_eq!(semaphore.value(), 3);
    /// assert_eq!(semaphore.bound(), 4); // the bound stays
    /// ```
    pub fn bound(&self) -> usize {
        self.flavor.bound().unwrap_or(usize::MAX)
    }
}

impl Default for Semaphore {
    /// One permit, as Python's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl Default for BoundedSemaphore {
    /// One permit, as Python's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound())
            .finish()
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`], given back when this
/// guard is dropped; made by `access`.
///
/// A permit has no owner, so the guard may be sent to, and dropped on,
/// another thread.
///
/// # Examples
///
/// ```
/// let semaphore = freethreading::Semaphore::new(1);
/// let guard = semaphore.access();
/// assert_eq!(semaphore.value(), 0);
/// // No owner: the guard may be dropped on another thread.
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// assert_eq!(semaphore.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    flavor: &'a Flavor,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // Only a bounded semaphore released explicitly meanwhile can refuse
        // the permit back; it is then already full.
        let _ = self.flavor.release_n(1);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("value", &self.flavor.value())
            .finish()
    }
}
