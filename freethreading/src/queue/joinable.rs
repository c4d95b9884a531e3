//! [`Queue`]: Python's `queue.Queue`, `multiprocessing.JoinableQueue` on processes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::receive::Receive;
use super::wait::Wait;
use super::{GetError, PutError, TaskDoneError};
use super::{process, thread};
#[cfg(feature = "mpi")]
use crate::mpi::served::{
    Remote,
    ops::{Kind, Op, Patience},
};
use crate::{SharedMemoryError, TaskValue};

/// A FIFO queue between workers, optionally bounded, that counts finished
/// tasks: Python's `freethreading.Queue`.
///
/// A `Queue` is a handle: [`Clone`] it (or pass it in a worker's arguments) and
/// every copy reaches the same items. Items are [`TaskValue`]s so that the same
/// program runs on processes, where they are serialized.
///
/// - [`put`](Self::put) adds an item at the back, waiting while a bounded
///   queue is full; [`get`](Self::get) takes the oldest, waiting while the
///   queue is empty. Their `try_` and `_timeout` variants wait not at all or
///   until a deadline and report [`PutError::Full`] (with the item) or
///   [`GetError::Empty`].
/// - Every item put is a task until a consumer calls
///   [`task_done`](Self::task_done) for it; [`join`](Self::join) waits until
///   every task is done.
/// - [`qsize`](Self::qsize), [`empty`](Self::empty) and [`full`](Self::full)
///   are exact the moment `put` or `get` returns, unlike Python's process queue.
///
/// Dropping the last handle drops the items left in it. A queue that holds a
/// handle to itself among its items is never dropped.
///
/// # Examples
///
/// Python's producer and consumer, with threads standing in for workers:
///
/// ```
/// use freethreading::Queue;
///
/// let queue = Queue::new();
/// let consumer = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         let mut seen = Vec::new();
///         while let Some(value) = queue.get()? {
///             seen.push(value);
///             queue.task_done()?;
///         }
///         queue.task_done()?; // for the sentinel
///         Ok::<_, Box<dyn std::error::Error + Send + Sync>>(seen)
///     })
/// };
/// for value in 0..3 {
///     queue.put(Some(value))?;
/// }
/// queue.put(None)?; // the sentinel marks completion
/// queue.join();
/// assert_eq!(consumer.join().unwrap()?, [0, 1, 2]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct Queue<T: TaskValue> {
    flavor: Flavor<T>,
}

#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
enum Flavor<T: TaskValue> {
    Thread(#[serde(with = "crate::handles")] Arc<thread::Queue<T>>),
    Process(#[serde(with = "crate::shared::arc")] Arc<process::Queue<T>>),
    /// On the MPI backend: served by rank 0.
    #[cfg(feature = "mpi")]
    Mpi(#[serde(with = "crate::mpi::served::handle::queue")] Arc<Remote>),
}

impl<T: TaskValue> Queue<T> {
    /// An unbounded queue: Python's `Queue()`. A `put` never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = freethreading::Queue::<u32>::new();
    /// assert_eq!(queue.maxsize(), 0);
    /// assert!(!queue.full());
    /// ```
    ///
    /// # Panics
    ///
    /// On the process backend, if the shared memory that every process maps
    /// cannot be created or is full; [`try_new`](Self::try_new) returns that
    /// error instead.
    #[track_caller]
    pub fn new() -> Self {
        Self::bounded(0)
    }

    /// An unbounded queue, or the error [`new`](Self::new) panics with.
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
    /// let queue = freethreading::Queue::<u32>::try_new()?;
    /// assert_eq!(queue.maxsize(), 0);
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_new() -> Result<Self, SharedMemoryError> {
        Self::try_bounded(0)
    }

    /// A queue that holds at most `maxsize` items: Python's `Queue(maxsize)`.
    /// As in Python, a `maxsize` of 0 means no bound.
    ///
    /// On the process backend the items live in shared memory that every
    /// process maps, serialized; an unbounded `put` grows it and never waits.
    ///
    /// # Panics
    ///
    /// On the process backend, if that shared memory cannot be created or is
    /// full; [`try_bounded`](Self::try_bounded) returns that error instead.
    ///
    /// A small bound preallocates its places; a large one (a million items,
    /// `usize::MAX`) costs memory only for the items held.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = freethreading::Queue::bounded(2);
    /// queue.put(1)?;
    /// queue.put(2)?;
    /// assert!(queue.full());
    /// assert_eq!(queue.maxsize(), 2);
    /// # Ok::<(), freethreading::PutError<i32>>(())
    /// ```
    #[track_caller]
    pub fn bounded(maxsize: usize) -> Self {
        crate::error::or_panic(Self::try_bounded(maxsize))
    }

    /// A queue of at most `maxsize` items (0 for no bound), or the error
    /// [`bounded`](Self::bounded) panics with.
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
    /// let queue = freethreading::Queue::<u32>::try_bounded(2)?;
    /// assert_eq!(queue.maxsize(), 2);
    /// # Ok::<(), freethreading::SharedMemoryError>(())
    /// ```
    pub fn try_bounded(maxsize: usize) -> Result<Self, SharedMemoryError> {
        #[cfg(feature = "mpi")]
        if crate::mpi::served::served_flavor() {
            let kind = Kind::Queue {
                maxsize: u64::try_from(maxsize).unwrap_or(u64::MAX),
            };
            return Ok(Queue {
                flavor: Flavor::Mpi(Arc::new(Remote::new("Queue", kind)?)),
            });
        }
        let flavor = if crate::shared::process_flavor() {
            Flavor::Process(Arc::new(process::Queue::new(maxsize)?))
        } else {
            Flavor::Thread(Arc::new(thread::Queue::new(maxsize)))
        };
        Ok(Queue { flavor })
    }

    /// The bound given to [`bounded`](Self::bounded), 0 when unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Queue;
    ///
    /// assert_eq!(Queue::<u32>::bounded(8).maxsize(), 8);
    /// assert_eq!(Queue::<u32>::new().maxsize(), 0); // unbounded
    /// ```
    pub fn maxsize(&self) -> usize {
        match &self.flavor {
            Flavor::Thread(queue) => queue.maxsize(),
            Flavor::Process(queue) => queue.maxsize(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::MaxSize),
        }
    }

    /// Puts `item` at the back of the queue, waiting while it is full:
    /// Python's `put(item)`.
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
    /// let queue = freethreading::Queue::new();
    /// queue.put("job".to_owned())?;
    /// assert_eq!(queue.qsize(), 1);
    /// # Ok::<(), freethreading::PutError<String>>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        match &self.flavor {
            Flavor::Thread(queue) => {
                Ok(queue.put(crate::strict::queue_item(item)?, Wait::Forever)?)
            }
            Flavor::Process(queue) => queue.put(item, Wait::Forever),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.put(item, Wait::Forever),
        }
    }

    /// Puts `item` at the back of the queue if there is room now: Python's
    /// `put_nowait(item)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`], with the item, when the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{PutError, Queue};
    ///
    /// let queue = Queue::bounded(1);
    /// assert_eq!(queue.try_put('a'), Ok(()));
    /// assert_eq!(queue.try_put('b'), Err(PutError::Full('b')));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        match &self.flavor {
            Flavor::Thread(queue) => Ok(queue.put(crate::strict::queue_item(item)?, Wait::Never)?),
            Flavor::Process(queue) => queue.put(item, Wait::Never),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.put(item, Wait::Never),
        }
    }

    /// Puts `item` at the back of the queue, waiting at most `timeout` for
    /// room: Python's `put(item, timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`], with the item, when the queue stayed full until
    /// the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{PutError, Queue};
    ///
    /// let queue = Queue::bounded(1);
    /// queue.put(1)?;
    /// assert_eq!(queue.put_timeout(2, Duration::from_millis(10)), Err(PutError::Full(2)));
    /// # Ok::<(), PutError<i32>>(())
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        match &self.flavor {
            Flavor::Thread(queue) => {
                Ok(queue.put(crate::strict::queue_item(item)?, Wait::timeout(timeout))?)
            }
            Flavor::Process(queue) => queue.put(item, Wait::timeout(timeout)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.put(item, Wait::timeout(timeout)),
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
    /// let queue = freethreading::Queue::new();
    /// queue.put(1)?;
    /// queue.put(2)?;
    /// assert_eq!(queue.get()?, 1);
    /// assert_eq!(queue.get()?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.receive(Wait::Forever)
    }

    /// Takes the item at the front of the queue if there is one now:
    /// Python's `get_nowait()`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{GetError, Queue};
    ///
    /// let queue = Queue::new();
    /// assert_eq!(queue.try_get(), Err(GetError::Empty));
    /// queue.put(7)?;
    /// assert_eq!(queue.try_get(), Ok(7));
    /// # Ok::<(), freethreading::PutError<i32>>(())
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.receive(Wait::Never)
    }

    /// Takes the item at the front of the queue, waiting at most `timeout`
    /// for one: Python's `get(timeout=t)`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when the queue stayed empty until the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{GetError, Queue};
    ///
    /// let queue = Queue::<u8>::new();
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

    /// Marks one item taken from the queue as processed: Python's
    /// `task_done()`. When every item put is done, [`join`](Self::join)
    /// returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] when called more times than items were put; the
    /// count is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Queue, TaskDoneError};
    ///
    /// let queue = Queue::new();
    /// queue.put("x".to_owned())?;
    /// queue.get()?;
    /// assert_eq!(queue.task_done(), Ok(()));
    /// assert_eq!(queue.task_done(), Err(TaskDoneError));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        match &self.flavor {
            Flavor::Thread(queue) => queue.task_done(),
            Flavor::Process(queue) => queue.task_done(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue
                .checked(Op::TaskDone)
                .map(drop)
                .map_err(|_| TaskDoneError),
        }
    }

    /// Waits until every item put on the queue has had its
    /// [`task_done`](Self::task_done): Python's `join()`.
    ///
    /// Returns at once if no task is open. An item counts from the moment its
    /// `put` starts, so `join` also waits for a `put` still blocked on a full
    /// queue (and, for an instant, for a `try_put` about to be refused).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Queue, Worker};
    ///
    /// #[worker_fn]
    /// fn consume(queue: Queue<u32>) -> u32 {
    ///     let mut total = 0;
    ///     for _ in 0..3 {
    ///         total += queue.get().unwrap();
    ///         queue.task_done().unwrap();
    ///     }
    ///     total
    /// }
    ///
    /// let queue = Queue::new();
    /// let consumer = Worker::new(consume, (queue.clone(),));
    /// consumer.start()?;
    /// for value in [1, 2, 3] {
    ///     queue.put(value)?;
    /// }
    /// queue.join(); // every item is taken and done
    /// assert!(queue.empty());
    /// assert_eq!(consumer.join()?, 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(&self) {
        match &self.flavor {
            Flavor::Thread(queue) => {
                queue.join(Wait::Forever);
            }
            Flavor::Process(queue) => {
                queue.join(Wait::Forever);
            }
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => {
                queue.call(Op::Join(Patience::Forever));
            }
        }
    }

    /// Like [`join`](Self::join), but waits at most `timeout`; returns
    /// whether every task is done. Python's `join()` has no timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let queue = freethreading::Queue::new();
    /// queue.put(1)?;
    /// assert!(!queue.join_timeout(Duration::from_millis(10)));
    /// queue.get()?;
    /// queue.task_done()?;
    /// assert!(queue.join_timeout(Duration::ZERO));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        match &self.flavor {
            Flavor::Thread(queue) => queue.join(Wait::timeout(timeout)),
            Flavor::Process(queue) => queue.join(Wait::timeout(timeout)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.ask(Op::Join(Patience::of_wait(Wait::timeout(timeout)))),
        }
    }

    /// How many items the queue holds: Python's `qsize()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = freethreading::Queue::new();
    /// assert_eq!(queue.qsize(), 0);
    /// queue.put('a')?;
    /// queue.put('b')?;
    /// assert_eq!(queue.qsize(), 2);
    /// queue.get()?;
    /// assert_eq!(queue.qsize(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn qsize(&self) -> usize {
        match &self.flavor {
            Flavor::Thread(queue) => queue.qsize(),
            Flavor::Process(queue) => queue.qsize(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::QSize),
        }
    }

    /// Whether the queue holds no item: Python's `empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = freethreading::Queue::new();
    /// assert!(queue.empty());
    /// queue.put(1)?;
    /// assert!(!queue.empty());
    /// # Ok::<(), freethreading::PutError<i32>>(())
    /// ```
    pub fn empty(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(queue) => queue.empty(),
            Flavor::Process(queue) => queue.empty(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::QSize) == 0,
        }
    }

    /// Whether the queue holds [`maxsize`](Self::maxsize) items, so that a
    /// `put` would wait: Python's `full()`. Never for an unbounded queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Queue;
    ///
    /// let bounded = Queue::bounded(1);
    /// assert!(!bounded.full());
    /// bounded.put(1)?;
    /// assert!(bounded.full());
    /// let unbounded = Queue::new();
    /// unbounded.put(1)?;
    /// assert!(!unbounded.full()); // never, without a bound
    /// # Ok::<(), freethreading::PutError<i32>>(())
    /// ```
    pub fn full(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(queue) => queue.full(),
            Flavor::Process(queue) => queue.full(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(_) => {
                let maxsize = self.maxsize();
                maxsize > 0 && self.qsize() >= maxsize
            }
        }
    }
}

impl<T: TaskValue> Default for Queue<T> {
    /// An unbounded queue, as [`Queue::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<T: TaskValue> Clone for Queue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            Flavor::Thread(queue) => Flavor::Thread(Arc::clone(queue)),
            Flavor::Process(queue) => Flavor::Process(Arc::clone(queue)),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => Flavor::Mpi(Arc::clone(queue)),
        };
        Queue { flavor }
    }
}

#[cfg(all(test, process_backend))]
impl<T: TaskValue> Queue<T> {
    pub(crate) fn unfinished_tasks_for_test(&self) -> usize {
        match &self.flavor {
            Flavor::Thread(queue) => queue.unfinished_tasks(),
            Flavor::Process(queue) => queue.unfinished_tasks(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::Unfinished),
        }
    }
}

impl<T: TaskValue> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unfinished = match &self.flavor {
            Flavor::Thread(queue) => queue.unfinished_tasks(),
            Flavor::Process(queue) => queue.unfinished_tasks(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(queue) => queue.count(Op::Unfinished),
        };
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize())
            .field("qsize", &self.qsize())
            .field("unfinished_tasks", &unfinished)
            .finish_non_exhaustive()
    }
}
