//! [`Barrier`]: a meeting point for a fixed number of workers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BarrierError, BrokenBarrier};
use super::{process, thread};
use crate::Task;
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Op},
};

/// A meeting point that releases a fixed number of parties together:
/// Python's `Barrier`.
///
/// Each party calls [`wait`](Barrier::wait); the call returns once `parties`
/// of them have arrived, with a distinct arrival index `0..parties`. Then the
/// barrier is ready for the next round. An optional action (a
/// [`#[worker_fn]`](crate::worker_fn) task) runs in the last party to arrive
/// before anyone is released.
///
/// A barrier breaks when it is [`abort`](Barrier::abort)ed, when a wait times
/// out, or when the action panics: every waiting and later `wait` fails with
/// [`BrokenBarrier`] until [`reset`](Barrier::reset).
///
/// Clones share the barrier, and so does a clone handed to a worker.
///
/// On the process backend a party whose process dies while it waits breaks
/// the barrier for the others (within about 50 ms) rather than leaving them
/// waiting. So does a pool's or a `Worker`'s process that was handed the
/// barrier and then crashed or was killed (a deadline or a cancel included)
/// before it arrived, once the parent has seen it die: such a process counts
/// as a party from the moment it receives the barrier (up to 24 processes per
/// barrier are remembered). A process that exits cleanly breaks nothing.
///
/// # Examples
///
/// ```
/// use freethreading::Barrier;
///
/// let barrier = Barrier::new(2)?;
/// let other = barrier.clone();
/// let party = std::thread::spawn(move || other.wait());
/// let mine = barrier.wait()?;
/// let theirs = party.join().unwrap()?;
/// assert_eq!(mine + theirs, 1); // one got 0, the other 1
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Barrier {
    flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Barrier>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Barrier>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::barrier")] Arc<Remote>),
}

impl Barrier {
    /// A barrier for `parties` workers, without action or default timeout.
    ///
    /// # Errors
    ///
    /// [`BarrierError::NoParties`] if `parties` is 0;
    /// [`BarrierError::SharedMemory`] on the process backend, if the shared
    /// memory that every process maps cannot be created or is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Barrier, BarrierError};
    ///
    /// let barrier = Barrier::new(3)?;
    /// assert_eq!(barrier.parties(), 3);
    /// assert!(matches!(Barrier::new(0), Err(BarrierError::NoParties)));
    /// # Ok::<(), BarrierError>(())
    /// ```
    pub fn new(parties: usize) -> Result<Self, BarrierError> {
        if parties == 0 {
            return Err(BarrierError::NoParties);
        }
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            let kind = Kind::Barrier {
                parties: u64::try_from(parties).unwrap_or(u64::MAX),
            };
            let barrier = Remote::new("Barrier", kind).map_err(BarrierError::SharedMemory)?;
            return Ok(Barrier {
                flavor: Flavor::Mpi(Arc::new(barrier)),
            });
        }
        let flavor = if crate::shared::process_flavor() {
            let barrier = process::Barrier::new(parties).map_err(BarrierError::SharedMemory)?;
            Flavor::Process(Arc::new(barrier))
        } else {
            Flavor::Thread(Arc::new(thread::Barrier::new(parties)))
        };
        Ok(Barrier { flavor })
    }

    /// Sets the task that the last party to arrive runs before the round is
    /// released. If it panics, the barrier breaks.
    ///
    /// The setting belongs to the barrier, so every clone sees it.
    ///
    /// # Errors
    ///
    /// [`BarrierError::Action`] if the task cannot be found by its name, as a
    /// worker process would have to (two tasks registered under one name).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Barrier};
    ///
    /// #[worker_fn]
    /// fn announce() {
    ///     println!("everyone is here");
    /// }
    ///
    /// let barrier = Barrier::new(1)?.with_action(announce)?;
    /// assert_eq!(barrier.wait()?, 0); // prints once
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_action<T>(self, action: T) -> Result<Self, BarrierError>
    where
        T: Task<Args = (), Output = ()>,
    {
        crate::task::registry::check(action.name()).map_err(BarrierError::Action)?;
        match &self.flavor {
            Flavor::Process(barrier) => barrier.set_action(action.name()),
            Flavor::Thread(barrier) => barrier.set_action(Arc::new(move || action.call(()))),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => {
                barrier.set_action(action.name(), Arc::new(move || action.call(())));
            }
        }
        Ok(self)
    }

    /// Sets the timeout that [`wait`](Barrier::wait) uses; without one it
    /// waits as long as it takes.
    ///
    /// The setting belongs to the barrier, so every clone sees it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let barrier = freethreading::Barrier::new(2)?.with_timeout(Duration::from_millis(10));
    /// assert!(barrier.wait().is_err()); // the other party never came
    /// assert!(barrier.broken());
    /// # Ok::<(), freethreading::BarrierError>(())
    /// ```
    #[must_use = "the barrier is handed back for more settings or use"]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.set_timeout(Some(timeout)),
            Flavor::Process(barrier) => barrier.set_timeout(Some(timeout)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => {
                barrier.call(Op::SetTimeout(Some(timeout)));
            }
        }
        self
    }

    /// Waits until all parties have arrived; this party's arrival index,
    /// `0..parties`, distinct within a round. The last to arrive gets
    /// `parties - 1` and runs the action.
    ///
    /// Uses the barrier's default timeout, if [`with_timeout`](Barrier::with_timeout)
    /// set one; running out of time breaks the barrier.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken when called or while
    /// waiting, is reset while waiting, times out, or its action panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Barrier, Worker};
    ///
    /// #[worker_fn]
    /// fn meet(barrier: Barrier) -> usize {
    ///     barrier.wait().unwrap()
    /// }
    ///
    /// let barrier = Barrier::new(3)?;
    /// let workers: Vec<_> = (0..2).map(|_| Worker::new(meet, (barrier.clone(),))).collect();
    /// for worker in &workers {
    ///     worker.start()?;
    /// }
    /// let mut arrivals = vec![barrier.wait()?];
    /// for worker in workers {
    ///     arrivals.push(worker.join()?);
    /// }
    /// arrivals.sort();
    /// assert_eq!(arrivals, [0, 1, 2]); // one index each
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&self) -> Result<usize, BrokenBarrier> {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.wait(barrier.default_timeout()),
            Flavor::Process(barrier) => barrier.wait(barrier.default_timeout()),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => barrier.meet(None),
        }
    }

    /// As [`wait`](Barrier::wait), waiting at most `timeout` for the others;
    /// running out of time breaks the barrier for everyone, as in Python.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait), including on timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let barrier = freethreading::Barrier::new(2)?;
    /// assert!(barrier.wait_timeout(Duration::from_millis(10)).is_err());
    /// assert!(barrier.broken());
    /// # Ok::<(), freethreading::BarrierError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.wait(Some(timeout)),
            Flavor::Process(barrier) => barrier.wait(Some(timeout)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => barrier.meet(Some(timeout)),
        }
    }

    /// Returns the barrier to a fresh round, mending it if broken; parties
    /// waiting now fail with [`BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = freethreading::Barrier::new(1)?;
    /// barrier.abort();
    /// assert!(barrier.wait().is_err());
    /// barrier.reset(); // mended
    /// assert!(!barrier.broken());
    /// assert_eq!(barrier.wait()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset(&self) {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.reset(),
            Flavor::Process(barrier) => barrier.reset(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => {
                barrier.call(Op::Reset);
            }
        }
    }

    /// Breaks the barrier: waiting and later `wait` calls fail until
    /// [`reset`](Barrier::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = freethreading::Barrier::new(1)?;
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// assert!(barrier.wait().is_err()); // until `reset`
    /// # Ok::<(), freethreading::BarrierError>(())
    /// ```
    pub fn abort(&self) {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.abort(),
            Flavor::Process(barrier) => barrier.abort(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => {
                barrier.call(Op::Abort);
            }
        }
    }

    /// How many parties a round needs.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = freethreading::Barrier::new(4)?;
    /// assert_eq!(barrier.parties(), 4);
    /// # Ok::<(), freethreading::BarrierError>(())
    /// ```
    pub fn parties(&self) -> usize {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.parties(),
            Flavor::Process(barrier) => barrier.parties(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => barrier.count(Op::Parties),
        }
    }

    /// How many parties are waiting in the current round.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use freethreading::{worker_fn, Barrier, Worker};
    ///
    /// #[worker_fn]
    /// fn meet(barrier: Barrier) -> usize {
    ///     barrier.wait().unwrap()
    /// }
    ///
    /// let barrier = Barrier::new(2)?;
    /// assert_eq!(barrier.n_waiting(), 0);
    /// let worker = Worker::new(meet, (barrier.clone(),));
    /// worker.start()?;
    /// let deadline = Instant::now() + Duration::from_secs(60);
    /// while barrier.n_waiting() == 0 && Instant::now() < deadline {
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// assert_eq!(barrier.n_waiting(), 1); // the worker, waiting for this party
    /// barrier.wait()?;
    /// worker.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn n_waiting(&self) -> usize {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.n_waiting(),
            Flavor::Process(barrier) => barrier.n_waiting(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => barrier.count(Op::NWaiting),
        }
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = freethreading::Barrier::new(2)?;
    /// assert!(!barrier.broken());
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// # Ok::<(), freethreading::BarrierError>(())
    /// ```
    pub fn broken(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(barrier) => barrier.broken(),
            Flavor::Process(barrier) => barrier.broken(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(barrier) => barrier.ask(Op::Broken),
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}
