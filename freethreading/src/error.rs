//! Errors shared by several parts of the API.

use std::fmt;
use std::io;
use std::sync::Arc;

/// A `_timeout` operation whose deadline passed before it could complete.
///
/// # Examples
///
/// ```
/// assert_eq!(freethreading::Timeout.to_string(), "timed out");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Timeout {}

/// A primitive that cannot be placed in the memory that every process of the
/// program shares: on the process backend, its shared memory (one
/// [memfd](https://man7.org/linux/man-pages/man2/memfd_create.2.html) for the
/// whole program) could not be created (a sandbox that forbids it, no
/// memory), could not be mapped, or is full.
///
/// Returned by the `try_` constructors ([`Lock::try_new`](crate::Lock::try_new),
/// [`Queue::try_bounded`](crate::Queue::try_bounded), ...); the plain
/// constructors panic with it instead. It never happens on threads.
///
/// # Examples
///
/// ```
/// use freethreading::Lock;
///
/// match Lock::try_new() {
///     Ok(lock) => assert!(!lock.locked()),
///     Err(error) => eprintln!("{error}"), // cannot place `Lock` in shared memory: ...
/// }
/// ```
#[derive(Clone, Debug)]
pub struct SharedMemoryError {
    primitive: &'static str,
    error: Arc<io::Error>,
}

impl SharedMemoryError {
    pub(crate) fn new(primitive: &'static str, error: io::Error) -> Self {
        SharedMemoryError {
            primitive,
            error: Arc::new(error),
        }
    }

    /// The type that could not be made, such as `"Lock"` or `"Queue"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Queue;
    ///
    /// // It never fails on threads; on processes, only where shared memory cannot be had.
    /// match Queue::<u64>::try_new() {
    ///     Ok(queue) => assert!(queue.empty()),
    ///     Err(error) => assert_eq!(error.primitive(), "Queue"),
    /// }
    /// ```
    pub fn primitive(&self) -> &'static str {
        self.primitive
    }

    /// What the system said, or `OutOfMemory` when the shared memory is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Event;
    ///
    /// // It never fails on threads; on processes, only where shared memory cannot be had.
    /// match Event::try_new() {
    ///     Ok(event) => assert!(!event.is_set()),
    ///     Err(error) => eprintln!("no shared memory for an `Event`: {:?}", error.kind()),
    /// }
    /// ```
    pub fn kind(&self) -> io::ErrorKind {
        self.error.kind()
    }

    /// Panics with this error: the plain constructors' behaviour.
    #[cold]
    #[track_caller]
    pub(crate) fn panic(self) -> ! {
        panic!("freethreading: {self}")
    }
}

/// `Ok`'s value, or a panic with the error: the plain constructors.
#[track_caller]
pub(crate) fn or_panic<T>(result: Result<T, SharedMemoryError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => error.panic(),
    }
}

impl fmt::Display for SharedMemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot place `{}` in shared memory: {}",
            self.primitive, self.error
        )
    }
}

impl std::error::Error for SharedMemoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// Equal when they name the same primitive and the same failure (kind and
/// OS error code): `io::Error` itself cannot be compared.
impl PartialEq for SharedMemoryError {
    fn eq(&self, other: &Self) -> bool {
        self.primitive == other.primitive
            && self.error.kind() == other.error.kind()
            && self.error.raw_os_error() == other.error.raw_os_error()
    }
}

impl Eq for SharedMemoryError {}
