//! [`Condition`]: waiting for a notification while holding a lock.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::SharedMemoryError;

use super::condition_lock::ConditionLockOps;
use super::process;
use super::thread::{self, ConditionLock};
use super::{ConditionError, Lock, RLock, ReleaseError, lock, rlock};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Answer, Misuse, Op, Patience},
};

/// A condition variable over a [`Lock`] or an [`RLock`]: Python's `Condition`.
///
/// Workers take the lock, check some shared state, and [`wait`](ConditionGuard::wait)
/// until another worker changes it and notifies them. Waiting gives the lock
/// up entirely (every level of an `RLock`) and takes it back before
/// returning. [`notify(n)`](ConditionGuard::notify) wakes at most `n`
/// waiters, oldest first.
///
/// Use it through a guard, [`lock`](Condition::lock) (Python's
/// `with condition:`), or with the explicit methods on `Condition`, which
/// check that the caller holds the lock.
///
/// Clones share the condition and its lock, and so does a clone handed to a
/// worker.
///
/// # Examples
///
/// ```
/// use freethreading::{Condition, Event};
///
/// let condition = Condition::new();
/// let ready = Event::new(); // the shared state the condition guards
/// let (c, r) = (condition.clone(), ready.clone());
/// let producer = std::thread::spawn(move || {
///     let guard = c.lock();
///     r.set();
///     guard.notify(1);
/// });
/// let mut guard = condition.lock();
/// assert!(guard.wait_for(|| ready.is_set()));
/// # drop(guard);
/// # producer.join().unwrap();
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Condition {
    flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Condition>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Condition>),
    /// On the MPI backend: served by rank 0, with its lock.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::condition")] Arc<Remote>),
}

impl Condition {
    /// A condition over a new [`RLock`] of its own, as Python's `Condition()`.
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
    /// let condition = freethreading::Condition::new();
    /// let guard = condition.lock();
    /// // Its lock is an `RLock`: the holder may take it again.
    /// let again = condition.try_lock();
    /// assert!(again.is_some());
    /// # drop(again);
    /// # drop(guard);
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        crate::error::or_panic(Condition::try_new())
    }

    /// A condition over a new [`RLock`] of its own, or the error
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
    /// let condition = freethreading::Condition::try_new()?;
    /// assert!(condition.try_acquire());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        Condition::try_with_rlock(RLock::try_new()?)
    }

    /// A condition over `lock`, shared with every other handle to it: taking
    /// the lock directly and taking the condition's lock are the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, Lock};
    ///
    /// let lock = Lock::new();
    /// let condition = Condition::with_lock(lock.clone());
    /// let guard = condition.lock();
    /// assert!(lock.locked());
    /// # drop(guard);
    /// ```
    ///
    /// # Panics
    ///
    /// On the process backend, if the shared memory that every process maps
    /// cannot be created or is full; [`try_with_lock`](Self::try_with_lock) returns that
    /// error instead.
    #[track_caller]
    pub fn with_lock(lock: Lock) -> Self {
        crate::error::or_panic(Condition::try_with_lock(lock))
    }

    /// A condition over `lock`, or the error
    /// [`with_lock`](Self::with_lock) panics with.
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
    /// let condition = freethreading::Condition::try_with_lock(freethreading::Lock::try_new()?)?;
    /// assert!(condition.try_acquire());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_with_lock(lock: Lock) -> Result<Self, SharedMemoryError> {
        let flavor = match lock.flavor {
            lock::Flavor::Thread(lock) => {
                Flavor::Thread(Arc::new(thread::Condition::new(ConditionLock::Lock(lock))))
            }
            lock::Flavor::Process(lock) => Flavor::Process(Arc::new(process::Condition::new(
                process::ConditionLock::Lock(lock),
            )?)),
            #[cfg(feature = "mpi")]
            lock::Flavor::Mpi(lock) => Flavor::Mpi(Arc::new(Remote::condition(&lock)?)),
        };
        Ok(Condition { flavor })
    }

    /// A condition over `rlock`, shared with every other handle to it.
    ///
    /// # Panics
    ///
    /// On the process backend, if the shared memory that every process maps
    /// cannot be created or is full; [`try_with_rlock`](Self::try_with_rlock) returns that
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, RLock};
    ///
    /// let rlock = RLock::new();
    /// let condition = Condition::with_rlock(rlock.clone());
    /// let guard = condition.lock();
    /// assert!(rlock.is_owned()); // one lock, two handles
    /// drop(guard);
    /// assert!(!rlock.is_owned());
    /// ```
    #[track_caller]
    pub fn with_rlock(rlock: RLock) -> Self {
        crate::error::or_panic(Condition::try_with_rlock(rlock))
    }

    /// A condition over `rlock`, or the error
    /// [`with_rlock`](Self::with_rlock) panics with.
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
    /// let condition = freethreading::Condition::try_with_rlock(freethreading::RLock::try_new()?)?;
    /// assert!(condition.try_acquire());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_with_rlock(rlock: RLock) -> Result<Self, SharedMemoryError> {
        let flavor = match rlock.flavor {
            rlock::Flavor::Thread(lock) => {
                Flavor::Thread(Arc::new(thread::Condition::new(ConditionLock::RLock(lock))))
            }
            rlock::Flavor::Process(lock) => Flavor::Process(Arc::new(process::Condition::new(
                process::ConditionLock::RLock(lock),
            )?)),
            #[cfg(feature = "mpi")]
            rlock::Flavor::Mpi(lock) => Flavor::Mpi(Arc::new(Remote::condition(&lock)?)),
        };
        Ok(Condition { flavor })
    }

    /// Takes the lock, waiting as long as it takes, until the guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Queue, Worker};
    ///
    /// #[worker_fn]
    /// fn produce(condition: Condition, items: Queue<u32>) {
    ///     let guard = condition.lock();
    ///     items.put(7).unwrap();
    ///     guard.notify(1);
    /// }
    ///
    /// let (condition, items) = (Condition::new(), Queue::new());
    /// let mut guard = condition.lock();
    /// let producer = Worker::new(produce, (condition.clone(), items.clone()));
    /// producer.start()?;
    /// assert!(guard.wait_for(|| !items.empty())); // gives the lock up while it waits
    /// assert_eq!(items.get()?, 7);
    /// drop(guard);
    /// producer.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock(&self) -> ConditionGuard<'_> {
        self.acquire();
        ConditionGuard::new(self)
    }

    /// Takes the lock if it is free now (or, for an `RLock`, held by this worker).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Worker};
    ///
    /// #[worker_fn]
    /// fn try_take(condition: Condition) -> bool {
    ///     condition.try_lock().is_some()
    /// }
    ///
    /// let condition = Condition::new();
    /// let guard = condition.try_lock().expect("nobody holds it");
    /// let worker = Worker::new(try_take, (condition.clone(),));
    /// worker.start()?;
    /// assert!(!worker.join()?); // held here
    /// drop(guard);
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn try_lock(&self) -> Option<ConditionGuard<'_>> {
        self.try_acquire().then(|| ConditionGuard::new(self))
    }

    /// Takes the lock, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Condition, Lock};
    ///
    /// let condition = Condition::with_lock(Lock::new());
    /// let guard = condition.lock_timeout(Duration::from_secs(60));
    /// assert!(guard.is_some());
    /// // A plain `Lock` is not taken twice, even by its holder.
    /// assert!(condition.lock_timeout(Duration::from_millis(10)).is_none());
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<ConditionGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| ConditionGuard::new(self))
    }

    /// Takes the lock, waiting as long as it takes.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, Lock};
    ///
    /// let lock = Lock::new();
    /// let condition = Condition::with_lock(lock.clone());
    /// condition.acquire();
    /// assert!(lock.locked());
    /// condition.release()?;
    /// assert!(!lock.locked());
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn acquire(&self) {
        self.held().acquire_until(None);
    }

    /// Takes the lock if it is free now; `true` if taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, Lock};
    ///
    /// let condition = Condition::with_lock(Lock::new());
    /// assert!(condition.try_acquire());
    /// assert!(!condition.try_acquire()); // taken
    /// condition.release()?;
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.held().try_acquire()
    }

    /// Takes the lock, waiting at most `timeout`; `true` if taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Condition, Lock};
    ///
    /// let condition = Condition::with_lock(Lock::new());
    /// assert!(condition.acquire_timeout(Duration::from_secs(60)));
    /// assert!(!condition.acquire_timeout(Duration::from_millis(10))); // still taken
    /// condition.release()?;
    /// # Ok::<(), freethreading::ReleaseError>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.held().acquire_until(thread::deadline(timeout))
    }

    /// Releases the lock (one level of an `RLock`).
    ///
    /// # Errors
    ///
    /// As the lock's own `release`: [`ReleaseError::Unlocked`] for a `Lock`
    /// that is not locked, [`ReleaseError::NotOwner`] for an `RLock` this
    /// worker does not hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, ReleaseError};
    ///
    /// let condition = Condition::new(); // over an `RLock`
    /// condition.acquire();
    /// condition.release()?;
    /// assert_eq!(condition.release(), Err(ReleaseError::NotOwner));
    /// # Ok::<(), ReleaseError>(())
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.held().release()
    }

    /// Waits for a notification; see [`ConditionGuard::wait`].
    ///
    /// # Errors
    ///
    /// [`ConditionError::WaitUnacquired`] if this worker does not hold the
    /// lock (for a `Lock`: if it is not locked at all).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, ConditionError};
    ///
    /// let condition = Condition::new();
    /// assert_eq!(condition.wait(), Err(ConditionError::WaitUnacquired));
    /// ```
    pub fn wait(&self) -> Result<(), ConditionError> {
        self.wait_until(None).map(drop)
    }

    /// Waits at most `timeout` for a notification; `Ok(false)` on timeout.
    ///
    /// # Errors
    ///
    /// [`ConditionError::WaitUnacquired`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Condition, ConditionError};
    ///
    /// let condition = Condition::new();
    /// let timeout = Duration::from_millis(10);
    /// assert_eq!(condition.wait_timeout(timeout), Err(ConditionError::WaitUnacquired));
    /// condition.acquire();
    /// assert_eq!(condition.wait_timeout(timeout), Ok(false)); // nobody notified
    /// condition.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ConditionError> {
        self.wait_until(thread::deadline(timeout))
    }

    /// Waits until `predicate` returns `true`; see [`ConditionGuard::wait_for`].
    ///
    /// # Errors
    ///
    /// [`ConditionError::WaitUnacquired`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn announce(condition: Condition, ready: Event) {
    ///     condition.acquire();
    ///     ready.set();
    ///     condition.notify_all().unwrap();
    ///     condition.release().unwrap();
    /// }
    ///
    /// let (condition, ready) = (Condition::new(), Event::new());
    /// condition.acquire();
    /// let worker = Worker::new(announce, (condition.clone(), ready.clone()));
    /// worker.start()?;
    /// assert_eq!(condition.wait_for(|| ready.is_set()), Ok(true));
    /// condition.release()?;
    /// worker.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_for(&self, predicate: impl FnMut() -> bool) -> Result<bool, ConditionError> {
        self.check_held(ConditionError::WaitUnacquired)?;
        Ok(self.wait_for_held(predicate, None))
    }

    /// Waits at most `timeout` for `predicate` to return `true`; the
    /// predicate's last value.
    ///
    /// # Errors
    ///
    /// [`ConditionError::WaitUnacquired`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Condition, Event};
    ///
    /// let (condition, ready) = (Condition::new(), Event::new());
    /// condition.acquire();
    /// let patience = Duration::from_millis(10);
    /// assert_eq!(condition.wait_for_timeout(|| ready.is_set(), patience), Ok(false));
    /// ready.set();
    /// assert_eq!(condition.wait_for_timeout(|| ready.is_set(), patience), Ok(true));
    /// condition.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_for_timeout(
        &self,
        predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> Result<bool, ConditionError> {
        self.check_held(ConditionError::WaitUnacquired)?;
        Ok(self.wait_for_held(predicate, thread::deadline(timeout)))
    }

    /// Wakes at most `n` waiters, oldest first.
    ///
    /// # Errors
    ///
    /// [`ConditionError::NotifyUnacquired`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, ConditionError};
    ///
    /// let condition = Condition::new();
    /// assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
    /// condition.acquire();
    /// assert_eq!(condition.notify(1), Ok(())); // nobody waits: a no-op
    /// condition.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), ConditionError> {
        match &self.flavor {
            Flavor::Thread(condition) => condition.notify(n),
            Flavor::Process(condition) => condition.notify(n),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => condition
                .checked(Op::Notify(u64::try_from(n).unwrap_or(u64::MAX)))
                .map(drop)
                .map_err(Misuse::condition),
        }
    }

    /// Wakes every waiter.
    ///
    /// # Errors
    ///
    /// [`ConditionError::NotifyUnacquired`] if this worker does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Condition, ConditionError};
    ///
    /// let condition = Condition::new();
    /// assert_eq!(condition.notify_all(), Err(ConditionError::NotifyUnacquired));
    /// condition.acquire();
    /// assert_eq!(condition.notify_all(), Ok(()));
    /// condition.release()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn notify_all(&self) -> Result<(), ConditionError> {
        match &self.flavor {
            Flavor::Thread(condition) => condition.notify_all(),
            Flavor::Process(condition) => condition.notify_all(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => condition
                .checked(Op::Notify(u64::MAX))
                .map(drop)
                .map_err(Misuse::condition),
        }
    }

    /// The condition's lock, whichever flavor: the one dispatch of the lock
    /// methods.
    fn held(&self) -> &dyn ConditionLockOps {
        match &self.flavor {
            Flavor::Thread(condition) => condition.lock().held(),
            Flavor::Process(condition) => condition.lock().held(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => &**condition,
        }
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<bool, ConditionError> {
        match &self.flavor {
            Flavor::Thread(condition) => condition.wait_until(deadline),
            Flavor::Process(condition) => condition.wait_until(deadline),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => condition
                .checked(Op::Wait(Patience::until(deadline)))
                .map(|answer| answer == Answer::Bool(true))
                .map_err(Misuse::condition),
        }
    }

    fn check_held(&self, error: ConditionError) -> Result<(), ConditionError> {
        if self.held().is_held() {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// Waits for a notification, for a caller that holds the lock.
    fn wait_held_until(&self, deadline: Option<Instant>) -> bool {
        match &self.flavor {
            Flavor::Thread(condition) => condition.wait_held_until(deadline),
            Flavor::Process(condition) => condition.wait_held_until(deadline),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => condition.ask(Op::Wait(Patience::until(deadline))),
        }
    }

    /// Python's `wait_for`: check, wait, check again, until the predicate
    /// holds or `deadline` passes; the predicate's last value.
    fn wait_for_held(
        &self,
        mut predicate: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        let mut satisfied = predicate();
        while !satisfied {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                break;
            }
            self.wait_held_until(deadline);
            satisfied = predicate();
        }
        satisfied
    }

    fn notify_held(&self, n: usize) {
        match &self.flavor {
            Flavor::Thread(condition) => condition.notify_held(n),
            Flavor::Process(condition) => condition.notify_held(n),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => {
                // Held: nothing to report.
                let _ = condition.checked(Op::Notify(u64::try_from(n).unwrap_or(u64::MAX)));
            }
        }
    }
}

impl Default for Condition {
    /// A condition over a new `RLock`, as [`Condition::new`].
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Condition");
        match &self.flavor {
            Flavor::Thread(condition) => {
                match condition.lock() {
                    ConditionLock::Lock(lock) => debug.field(
                        "lock",
                        &Lock {
                            flavor: lock::Flavor::Thread(Arc::clone(lock)),
                        },
                    ),
                    ConditionLock::RLock(lock) => debug.field(
                        "lock",
                        &RLock {
                            flavor: rlock::Flavor::Thread(Arc::clone(lock)),
                        },
                    ),
                };
                debug.field("waiting", &condition.n_waiting());
            }
            Flavor::Process(condition) => {
                match condition.lock() {
                    process::ConditionLock::Lock(lock) => debug.field(
                        "lock",
                        &Lock {
                            flavor: lock::Flavor::Process(Arc::clone(lock)),
                        },
                    ),
                    process::ConditionLock::RLock(lock) => debug.field(
                        "lock",
                        &RLock {
                            flavor: rlock::Flavor::Process(Arc::clone(lock)),
                        },
                    ),
                };
                debug.field("waiting", &condition.n_waiting());
            }
            #[cfg(feature = "mpi")]
            Flavor::Mpi(condition) => {
                match condition.call(Op::Snapshot) {
                    Answer::Bool(locked) => {
                        debug.field("lock", &format_args!("Lock {{ locked: {locked} }}"))
                    }
                    Answer::Snapshot(owner, count) => debug.field(
                        "lock",
                        &format_args!("RLock {{ owner: {owner:?}, count: {count} }}"),
                    ),
                    _ => debug.field("lock", &"?"),
                };
                debug.field("waiting", &condition.count(Op::NWaiting));
            }
        }
        debug.finish()
    }
}

/// The lock of a [`Condition`], held until this guard is dropped; made by
/// [`Condition::lock`]. Waiting and notifying go through it.
///
/// # Examples
///
/// ```
/// use freethreading::{Condition, Lock};
///
/// let lock = Lock::new();
/// let condition = Condition::with_lock(lock.clone());
/// let guard = condition.lock();
/// assert!(lock.locked());
/// guard.notify_all(); // nobody waits: a no-op
/// drop(guard);
/// assert!(!lock.locked());
/// ```
///
/// The guard is not `Send`: the lock may be an `RLock`, which only the worker
/// holding it may release.
///
/// ```compile_fail,E0277
/// let condition = freethreading::Condition::new();
/// let guard = condition.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a> {
    condition: &'a Condition,
    not_send: PhantomData<*const ()>,
}

impl<'a> ConditionGuard<'a> {
    fn new(condition: &'a Condition) -> Self {
        ConditionGuard {
            condition,
            not_send: PhantomData,
        }
    }

    /// Gives the lock up, waits for a notification, and takes the lock back.
    ///
    /// Another worker may take the lock between the notification and this
    /// worker getting it back, and change the state again: check the state
    /// you wait for after waking, or use [`wait_for`](ConditionGuard::wait_for).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Queue, Worker};
    ///
    /// #[worker_fn]
    /// fn produce(condition: Condition, items: Queue<String>) {
    ///     let guard = condition.lock();
    ///     items.put("ready".to_owned()).unwrap();
    ///     guard.notify(1);
    /// }
    ///
    /// let (condition, items) = (Condition::new(), Queue::new());
    /// let mut guard = condition.lock();
    /// let producer = Worker::new(produce, (condition.clone(), items.clone()));
    /// producer.start()?;
    /// while items.empty() {
    ///     guard.wait(); // the producer takes the lock meanwhile
    /// }
    /// assert_eq!(items.get()?, "ready");
    /// drop(guard);
    /// producer.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&mut self) {
        self.condition.wait_held_until(None);
    }

    /// As [`wait`](ConditionGuard::wait), at most `timeout`; `false` on timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let condition = freethreading::Condition::new();
    /// let mut guard = condition.lock();
    /// assert!(!guard.wait_timeout(Duration::from_millis(10)));
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        self.condition.wait_held_until(thread::deadline(timeout))
    }

    /// Waits until `predicate`, run with the lock held, returns `true`;
    /// returns it, which is always `true` here.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn announce(condition: Condition, ready: Event) {
    ///     let guard = condition.lock();
    ///     ready.set();
    ///     guard.notify_all();
    /// }
    ///
    /// let (condition, ready) = (Condition::new(), Event::new());
    /// let mut guard = condition.lock();
    /// let worker = Worker::new(announce, (condition.clone(), ready.clone()));
    /// worker.start()?;
    /// assert!(guard.wait_for(|| ready.is_set()));
    /// drop(guard);
    /// worker.join()?;
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn wait_for(&mut self, predicate: impl FnMut() -> bool) -> bool {
        self.condition.wait_for_held(predicate, None)
    }

    /// Waits at most `timeout` for `predicate` to return `true`; the
    /// predicate's last value, `false` if the time ran out first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{Condition, Event};
    ///
    /// let (condition, ready) = (Condition::new(), Event::new());
    /// let mut guard = condition.lock();
    /// assert!(!guard.wait_for_timeout(|| ready.is_set(), Duration::from_millis(10)));
    /// ready.set();
    /// assert!(guard.wait_for_timeout(|| ready.is_set(), Duration::from_secs(60)));
    /// ```
    pub fn wait_for_timeout(&mut self, predicate: impl FnMut() -> bool, timeout: Duration) -> bool {
        self.condition
            .wait_for_held(predicate, thread::deadline(timeout))
    }

    /// Wakes at most `n` waiters, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Queue, Worker};
    ///
    /// #[worker_fn]
    /// fn take_one(condition: Condition, items: Queue<u32>) -> u32 {
    ///     let mut guard = condition.lock();
    ///     guard.wait_for(|| !items.empty());
    ///     items.get().unwrap()
    /// }
    ///
    /// let (condition, items) = (Condition::new(), Queue::new());
    /// let consumer = Worker::new(take_one, (condition.clone(), items.clone()));
    /// consumer.start()?;
    /// {
    ///     let guard = condition.lock();
    ///     items.put(5)?;
    ///     guard.notify(1); // wakes the consumer, if it waits already
    /// }
    /// assert_eq!(consumer.join()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn notify(&self, n: usize) {
        self.condition.notify_held(n);
    }

    /// Wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Condition, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn wait_for_start(condition: Condition, start: Event) -> bool {
    ///     let mut guard = condition.lock();
    ///     guard.wait_for(|| start.is_set())
    /// }
    ///
    /// let (condition, start) = (Condition::new(), Event::new());
    /// let workers: Vec<_> = (0..2)
    ///     .map(|_| Worker::new(wait_for_start, (condition.clone(), start.clone())))
    ///     .collect();
    /// for worker in &workers {
    ///     worker.start()?;
    /// }
    /// {
    ///     let guard = condition.lock();
    ///     start.set();
    ///     guard.notify_all(); // wakes every worker waiting
    /// }
    /// for worker in workers {
    ///     assert!(worker.join()?);
    /// }
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn notify_all(&self) {
        self.condition.notify_held(usize::MAX);
    }
}

impl Drop for ConditionGuard<'_> {
    fn drop(&mut self) {
        // An error means the lock was already released explicitly.
        let _ = self.condition.release();
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("condition", self.condition)
            .finish()
    }
}
