//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, `multiprocessing.SimpleQueue`
//! on processes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::receive::Receive;
use super::wait::Wait;
use super::{GetError, PutError};
use super::{process, thread};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Op},
};
use crate::{SharedMemoryError, TaskValue};

/// An unbounded FIFO queue between workers, without task counting: Python's
/// `freethreading.SimpleQueue`.
///
/// Lighter than [`Queue`](crate::Queue): no bound, no
/// `task_done`/`join`. A `SimpleQueue` is a handle: [`Clone`] it (or pass it
/// in a worker's arguments) and every copy reaches the same items. Items are
/// [`TaskValue`]s so that the same program runs on processes, where they are
/// serialized. Dropping the last handle drops the items left in it.
///
/// # Examples
///
/// Python's example, with a thread standing in for a worker:
///
/// ```
/// use freethreading::SimpleQueue;
///
/// let queue = SimpleQueue::new();
/// let filler = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         queue.put("hello".to_owned())?;
///         queue.put("world".to_owned())
///     })
/// };
/// assert_eq!(queue.get()?, "hello");
/// assert_eq!(queue.get()?, "world");
/// filler.join().unwrap()?;
/// assert!(queue.empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct SimpleQueue<T: TaskValue> {
    flavor: Flavor<T>,
}

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Flavor<T: TaskValue> {
    Thread(#[serde(with = "crate::handles")] Arc<thread::SimpleQueue<T>>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Queue<T>>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::simple_queue")] Arc<Remote>),
}

impl<T: TaskValue> SimpleQueue<T> {
    /// An empty queue: Python's `SimpleQueue()`.
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
    /// let queue = freethreading::SimpleQueue::new();
    /// assert!(queue.empty());
    /// queue.put(3)?;
    /// assert_eq!(queue.get()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn new() -> Self {
        crate::error::or_panic(Self::try_new())
    }

    /// An empty queue, or the error [`new`](Self::new) panics with.
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
    /// let queue = freethreading::SimpleQueue::<u32>::try_new()?;
    /// assert!(queue.empty());
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            return Ok(SimpleQueue {
                flavor: Flavor::Mpi(Arc::new(Remote::new("SimpleQueue", Kind::SimpleQueue)?)),
            });
        }
        let flavor = if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::Queue::new(0)?))
        } else {
            Flavor::Thread(Arc::new(thread::SimpleQueue::new()))
        };
        Ok(SimpleQueue { flavor })
    }

    /// Puts `item` at the back of the queue; never waits. Python's
    /// `put(item)`.
    ///
    /// # Errors
    ///
    /// None on the thread backend. On the process backend, an item that
    /// cannot be serialized comes back in [`PutError::Encode`], and one that
    /// does not fit in the shared memory left in [`PutError::NoMemory`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, SimpleQueue, Worker};
    ///
    /// #[worker_fn]
    /// fn produce(queue: SimpleQueue<String>) {
    ///     for word in ["hello", "world"] {
    ///         queue.put(word.to_owned()).unwrap();
    ///     }
    /// }
    ///
    /// let queue = SimpleQueue::new();
    /// let producer = Worker::new(produce, (queue.clone(),));
    /// producer.start()?;
    /// producer.join()?;
    /// assert_eq!(queue.get()?, "hello");
    /// assert_eq!(queue.get()?, "world");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        match &self.flavor {
            Flavor::Thread(queue) => {
                queue.put(crate::strict::queue_item(item)?);
                Ok(())
            }
            Flavor::Process(queue) => queue.put(item, Wait::Forever),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.put(item, Wait::Forever),
        }
    }

    /// Takes the item at the front of the queue, waiting while it is empty:
    /// Python's `get()`.
    ///
    /// # Errors
    ///
    /// None on the thread backend. On the process backend, an item that
    /// cannot be deserialized is [`GetError::Decode`].
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, SimpleQueue, Worker};
    ///
    /// #[worker_fn]
    /// fn answer(queue: SimpleQueue<u32>) {
    ///     queue.put(42).unwrap();
    /// }
    ///
    /// let queue = SimpleQueue::new();
    /// let worker = Worker::new(answer, (queue.clone(),));
    /// worker.start()?;
    /// assert_eq!(queue.get()?, 42); // waits for the worker's item
    /// worker.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.receive(Wait::Forever)
    }

    /// Takes the item at the front of the queue if there is one now. Not in
    /// Python's `SimpleQueue` API (`queue.SimpleQueue.get_nowait()` is).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{GetError, SimpleQueue};
    ///
    /// let queue = SimpleQueue::new();
    /// assert_eq!(queue.try_get(), Err(GetError::Empty));
    /// queue.put(5)?;
    /// assert_eq!(queue.try_get(), Ok(5));
    /// # Ok::<(), freethreading::PutError<i32>>(())
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.receive(Wait::Never)
    }

    /// Takes the item at the front of the queue, waiting at most `timeout`
    /// for one. Not in Python's `SimpleQueue` API.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when the queue stayed empty until the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{GetError, SimpleQueue};
    ///
    /// let queue = SimpleQueue::<u8>::new();
    /// assert_eq!(queue.get_timeout(Duration::from_millis(10)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.receive(Wait::timeout(timeout))
    }

    /// The flavor's `get`: the one dispatch of the `get` family.
    #[inline]
    fn receive(&self, wait: Wait) -> Result<T, GetError> {
        match &self.flavor {
            Flavor::Thread(queue) => queue.receive(wait),
            Flavor::Process(queue) => queue.receive(wait),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.receive(wait),
        }
    }

    /// Whether the queue holds no item: Python's `empty()`. Exact the moment
    /// `put` or `get` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = freethreading::SimpleQueue::new();
    /// assert!(queue.empty());
    /// queue.put('x')?;
    /// assert!(!queue.empty());
    /// queue.get()?;
    /// assert!(queue.empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn empty(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(queue) => queue.empty(),
            Flavor::Process(queue) => queue.empty(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::QSize) == 0,
        }
    }
}

impl<T: TaskValue> Default for SimpleQueue<T> {
    /// An empty queue, as [`SimpleQueue::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<T: TaskValue> Clone for SimpleQueue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            Flavor::Thread(queue) => Flavor::Thread(Arc::clone(queue)),
            Flavor::Process(queue) => Flavor::Process(Arc::clone(queue)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => Flavor::Mpi(Arc::clone(queue)),
        };
        SimpleQueue { flavor }
    }
}

impl<T: TaskValue> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = match &self.flavor {
            Flavor::Thread(queue) => queue.qsize(),
            Flavor::Process(queue) => queue.qsize(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::QSize),
        };
        f.debug_struct("SimpleQueue")
            .field("len", &len)
            .finish_non_exhaustive()
    }
}
