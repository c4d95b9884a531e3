//! [`Event`]: a flag that workers wait for.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SharedMemoryError;

use super::{process, thread};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Op, Patience},
};

/// A flag that some workers set and others wait for: Python's `Event`.
///
/// [`wait`](Event::wait) returns once the flag is set; setting it wakes every
/// waiter. A `set` followed at once by a `clear` still wakes those that were
/// waiting at the time.
///
/// Clones share the flag, and so does a clone handed to a worker.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use freethreading::Event;
///
/// let ready = Event::new();
/// let setter = ready.clone();
/// let handle = std::thread::spawn(move || setter.set());
/// ready.wait();
/// assert!(ready.is_set());
/// # handle.join().unwrap();
/// ready.clear();
/// assert!(!ready.wait_timeout(Duration::from_millis(10)));
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Event {
    flavor: Flavor,
}

#[derive(Clone, Serialize, Deserialize)]
enum Flavor {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Event>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Event>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::event")] Arc<Remote>),
}

impl Flavor {
    fn try_new() -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            return Ok(Flavor::Mpi(Arc::new(Remote::new("Event", Kind::Event)?)));
        }
        Ok(if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::Event::new()?))
        } else {
            Flavor::Thread(Arc::new(thread::Event::new()))
        })
    }
}

impl Event {
    /// A new event whose flag is not set.
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
    /// let event = freethreading::Event::new();
    /// assert!(!event.is_set());
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        crate::error::or_panic(Event::try_new())
    }

    /// A new event whose flag is not set, or the error [`new`](Self::new)
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
    /// let event = freethreading::Event::try_new()?;
    /// assert!(!event.is_set());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        Ok(Event {
            flavor: Flavor::try_new()?,
        })
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn wait_for(go: Event) -> bool {
    ///     go.wait_timeout(Duration::from_secs(60))
    /// }
    ///
    /// let go = Event::new();
    /// let worker = Worker::new(wait_for, (go.clone(),));
    /// worker.start()?;
    /// go.set(); // wakes the worker, or lets it through if it has not waited yet
    /// assert!(worker.join()?);
    /// assert!(go.is_set());
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn set(&self) {
        match &self.flavor {
            Flavor::Thread(event) => event.set(),
            Flavor::Process(event) => event.set(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(event) => {
                event.call(Op::Set);
            }
        }
    }

    /// Clears the flag, so later waits block until the next `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = freethreading::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        match &self.flavor {
            Flavor::Thread(event) => event.clear(),
            Flavor::Process(event) => event.clear(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(event) => {
                event.call(Op::Clear);
            }
        }
    }

    /// Whether the flag is set now.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = freethreading::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(event) => event.is_set(),
            Flavor::Process(event) => event.is_set(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(event) => event.ask(Op::IsSet),
        }
    }

    /// Waits as long as it takes for the flag to be set.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn finish(done: Event) {
    ///     done.set();
    /// }
    ///
    /// let done = Event::new();
    /// let worker = Worker::new(finish, (done.clone(),));
    /// worker.start()?;
    /// done.wait(); // until the worker sets it
    /// assert!(done.is_set());
    /// worker.join()?;
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn wait(&self) {
        match &self.flavor {
            Flavor::Thread(event) => event.wait_until(None),
            Flavor::Process(event) => event.wait_until(None),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(event) => event.ask(Op::Wait(Patience::Forever)),
        };
    }

    /// Waits at most `timeout` for the flag; `true` if it was set, `false` on
    /// timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event = freethreading::Event::new();
    /// assert!(!event.wait_timeout(Duration::from_millis(10))); // nobody sets it
    /// event.set();
    /// assert!(event.wait_timeout(Duration::from_secs(60))); // returns at once
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        match &self.flavor {
            Flavor::Thread(event) => event.wait_until(thread::deadline(timeout)),
            Flavor::Process(event) => event.wait_until(thread::deadline(timeout)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(event) => event.ask(Op::Wait(Patience::until(thread::deadline(timeout)))),
        }
    }
}

impl Default for Event {
    /// As [`Event::new`].
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
