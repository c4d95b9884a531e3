//! The errors of queue operations: Python's `queue.Full` and `queue.Empty`,
//! and a `task_done()` without a matching item.
//!
//! `Full` and `Empty` are what Python raises; in Rust they are the cases of
//! [`PutError`] and [`GetError`], the error types of every `put` and `get`
//! method. The enums are `#[non_exhaustive]` because the process backend adds a
//! case of its own (an item that cannot be serialized or deserialized) without
//! changing any signature. Every case of [`PutError`] hands the item back, so a
//! failed `put` never loses data.

use std::error::Error;
use std::fmt;

/// A queue was full: the item that could not be put, handed back.
///
/// This is Python's `queue.Full` as a value. Queue methods report it as
/// [`PutError::Full`], which it converts into.
///
/// # Examples
///
/// ```
/// use freethreading::{Full, PutError};
///
/// let full = Full("item");
/// assert_eq!(full.to_string(), "queue is full");
/// let error: PutError<&str> = full.into();
/// assert_eq!(error.into_inner(), "item");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Full<T>(pub T);

impl<T> Full<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Full;
    ///
    /// let full = Full(vec![1, 2]);
    /// assert_eq!(full.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

// Like crossbeam's errors: no `T: Debug` bound, so `?` works for any item type.
impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is full")
    }
}

impl<T> Error for Full<T> {}

/// A queue was empty.
///
/// This is Python's `queue.Empty` as a value. Queue methods report it as
/// [`GetError::Empty`], which it converts into.
///
/// # Examples
///
/// ```
/// use freethreading::{Empty, GetError};
///
/// assert_eq!(Empty.to_string(), "queue is empty");
/// assert_eq!(GetError::from(Empty), GetError::Empty);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Empty;

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is empty")
    }
}

impl Error for Empty {}

/// Why an item could not be put on a queue; every case gives the item back.
///
/// Only [`try_put`](crate::Queue::try_put) and
/// [`put_timeout`](crate::Queue::put_timeout) of a bounded queue return
/// [`Full`](PutError::Full); on the thread backend a blocking `put` never fails.
///
/// # Examples
///
/// ```
/// use freethreading::{PutError, Queue};
///
/// let queue = Queue::bounded(1);
/// queue.put(1)?;
/// match queue.try_put(2) {
///     Err(PutError::Full(item)) => assert_eq!(item, 2),
///     other => panic!("expected a full queue, got {other:?}"),
/// }
/// # Ok::<(), PutError<u32>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutError<T> {
    /// The queue stayed full: right away for `try_put`, until the deadline for
    /// `put_timeout`. Python's `queue.Full`.
    Full(T),
    /// The item could not be serialized for a process queue; the message
    /// says why. Nothing was put.
    Encode(T, String),
    /// The shared memory that process queues keep their items in is full.
    /// Nothing was put.
    NoMemory(T),
}

impl<T> PutError<T> {
    /// The item that could not be put, whatever the reason.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Queue;
    ///
    /// let queue = Queue::bounded(1);
    /// queue.put("first".to_owned())?;
    /// let error = queue.try_put("second".to_owned()).unwrap_err();
    /// assert_eq!(error.into_inner(), "second"); // nothing is lost
    /// # Ok::<(), freethreading::PutError<String>>(())
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::Encode(item, _) | PutError::NoMemory(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{PutError, Queue};
    ///
    /// let queue = Queue::bounded(1);
    /// queue.put(1)?;
    /// assert!(queue.try_put(2).unwrap_err().is_full());
    /// assert!(!PutError::NoMemory(3).is_full());
    /// # Ok::<(), PutError<i32>>(())
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }
}

impl<T> From<Full<T>> for PutError<T> {
    fn from(Full(item): Full<T>) -> Self {
        PutError::Full(item)
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::Encode(_, reason) => {
                f.debug_tuple("Encode").field(&"..").field(reason).finish()
            }
            PutError::NoMemory(_) => f.write_str("NoMemory(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(item) => fmt::Display::fmt(&Full(item), f),
            PutError::Encode(_, reason) => write!(f, "cannot serialize the item: {reason}"),
            PutError::NoMemory(_) => f.write_str("the shared memory of process queues is full"),
        }
    }
}

impl<T> Error for PutError<T> {}

/// Why no item could be taken from a queue.
///
/// Only [`try_get`](crate::Queue::try_get) and
/// [`get_timeout`](crate::Queue::get_timeout) return
/// [`Empty`](GetError::Empty); on the thread backend a blocking `get` never
/// fails.
///
/// # Examples
///
/// ```
/// use freethreading::{GetError, Queue};
///
/// let queue: Queue<u32> = Queue::new();
/// assert_eq!(queue.try_get(), Err(GetError::Empty));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetError {
    /// The queue stayed empty: right away for `try_get`, until the deadline
    /// for `get_timeout`. Python's `queue.Empty`.
    Empty,
    /// The item taken from a process queue could not be deserialized as the
    /// queue's item type; the message says why. The item is gone.
    Decode(String),
}

impl GetError {
    /// Whether the queue was empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{GetError, SimpleQueue};
    ///
    /// let queue = SimpleQueue::<u32>::new();
    /// assert!(queue.try_get().unwrap_err().is_empty());
    /// assert!(!GetError::Decode("bad bytes".to_owned()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, GetError::Empty)
    }
}

impl From<Empty> for GetError {
    fn from(Empty: Empty) -> Self {
        GetError::Empty
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => fmt::Display::fmt(&Empty, f),
            GetError::Decode(reason) => write!(f, "cannot deserialize the item: {reason}"),
        }
    }
}

impl Error for GetError {}

/// [`Queue::task_done`](crate::Queue::task_done) was called more times than
/// items were put: Python's `ValueError('task_done() called too many times')`.
///
/// # Examples
///
/// ```
/// use freethreading::{Queue, TaskDoneError};
///
/// let queue: Queue<u32> = Queue::new();
/// assert_eq!(queue.task_done(), Err(TaskDoneError));
/// assert_eq!(TaskDoneError.to_string(), "task_done() called too many times");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl Error for TaskDoneError {}
