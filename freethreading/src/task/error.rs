//! The error a caller gets for a task that did not return.

use std::fmt;

use super::registry::RegistryError;

/// A task that failed instead of returning a value.
///
/// A panic inside the task is caught in the worker and comes back here with
/// its message and location; the worker and the pool go on. The same type
/// reports failures of the machinery around the task: arguments or a result
/// that could not be serialized, or a task name the worker did not know.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPool};
///
/// #[worker_fn]
/// fn checked_div(a: u32, b: u32) -> u32 {
///     a.checked_div(b).expect("division by zero")
/// }
///
/// let pool = WorkerPool::new(1)?;
/// let error = pool.apply(checked_div, (1, 0)).unwrap_err();
/// assert!(error.is_panic());
/// assert_eq!(error.panic_message(), Some("division by zero"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskError {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Repr {
    Panicked {
        message: String,
        location: Option<String>,
    },
    Serialization(String),
    Registry(RegistryError),
}

impl TaskError {
    pub(crate) fn panicked(message: String, location: Option<String>) -> Self {
        TaskError {
            repr: Repr::Panicked { message, location },
        }
    }

    pub(crate) fn serialization(what: String) -> Self {
        TaskError {
            repr: Repr::Serialization(what),
        }
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked { .. })
    }

    /// The panic's message, when the task panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Where the task panicked, as `file:line:column`, when known.
    pub fn panic_location(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    /// Whether arguments or a result failed to serialize or deserialize.
    pub fn is_serialization(&self) -> bool {
        matches!(self.repr, Repr::Serialization(_))
    }

    /// The registry error, when the task could not be found by its name.
    pub fn registry_error(&self) -> Option<&RegistryError> {
        match &self.repr {
            Repr::Registry(error) => Some(error),
            _ => None,
        }
    }
}

impl From<RegistryError> for TaskError {
    fn from(error: RegistryError) -> Self {
        TaskError {
            repr: Repr::Registry(error),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Panicked {
                message,
                location: Some(location),
            } => write!(f, "task panicked at {location}: {message}"),
            Repr::Panicked {
                message,
                location: None,
            } => write!(f, "task panicked: {message}"),
            Repr::Serialization(what) => write!(f, "could not serialize {what}"),
            Repr::Registry(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::Registry(error) => Some(error),
            _ => None,
        }
    }
}
