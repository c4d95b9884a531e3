//! The error a caller gets for a task that did not return.

use std::fmt;
use std::process::ExitStatus;

use serde::{Deserialize, Serialize};

use super::registry::RegistryError;
use crate::sys::process::{exit_code_name, exit_signal, signal_name};

/// A task that failed instead of returning a value.
///
/// A panic inside the task is caught in the worker and comes back here with
/// its message and location; the worker and the pool go on. The same type
/// reports failures of the machinery around the task: arguments or a result
/// that could not be serialized, a task name the worker did not know, or (on
/// the process backend) a worker process that died while it ran the task.
///
/// It is serializable, so a task may return `Result<T, TaskError>` and a
/// worker process sends it back as it is.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskError {
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Repr {
    Panicked {
        message: String,
        location: Option<String>,
    },
    Serialization(String),
    Registry(RegistryError),
    WorkerDied {
        pid: u32,
        code: Option<i32>,
        signal: Option<i32>,
        how: String,
    },
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

    /// The arguments of `task` could not be written or read.
    pub(crate) fn arguments(task: &str, why: impl fmt::Display) -> Self {
        TaskError::serialization(format!("arguments of `{task}`: {why}"))
    }

    /// The result of `task` could not be written or read.
    pub(crate) fn result(task: &str, why: impl fmt::Display) -> Self {
        TaskError::serialization(format!("result of `{task}`: {why}"))
    }

    pub(crate) fn worker_died(pid: u32, status: Option<&ExitStatus>) -> Self {
        let signal = status.copied().and_then(exit_signal);
        TaskError {
            repr: Repr::WorkerDied {
                pid,
                code: status.and_then(ExitStatus::code),
                signal,
                how: describe_exit(status),
            },
        }
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker, WorkerError};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("no luck");
    /// }
    ///
    /// let worker = Worker::new(fail, ());
    /// worker.start()?;
    /// let Err(WorkerError::Task(error)) = worker.join() else { panic!("expected a task error") };
    /// assert!(error.is_panic());
    /// assert!(!error.is_worker_death());
    /// # Ok::<(), WorkerError>(())
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked { .. })
    }

    /// The panic's message, when the task panicked with a string.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn fail(n: u32) {
    ///     panic!("failed on {n}");
    /// }
    ///
    /// let pool = WorkerPool::new(1)?;
    /// let error = pool.apply(fail, (7,)).unwrap_err();
    /// let error = error.task_error().expect("the task failed");
    /// assert_eq!(error.panic_message(), Some("failed on 7")); // formatted, as written
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Where the task panicked, as `file:line:column`, when known.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("no luck");
    /// }
    ///
    /// let pool = WorkerPool::new(1)?;
    /// let error = pool.apply(fail, ()).unwrap_err();
    /// let location = error.task_error().and_then(|e| e.panic_location()).expect("a location");
    /// let (_, line_and_column) = location.split_once(".rs:").expect("file:line:column");
    /// assert!(line_and_column.split(':').all(|n| n.parse::<u32>().is_ok()));
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn panic_location(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    /// Whether arguments or a result failed to serialize or deserialize.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, WorkerPool};
    /// use serde::{Deserialize, Serialize, Serializer};
    ///
    /// /// A value that refuses to be written, as a handle to something local would.
    /// #[derive(Deserialize)]
    /// struct Local;
    ///
    /// impl Serialize for Local {
    ///     fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
    ///         Err(serde::ser::Error::custom("this value stays in its process"))
    ///     }
    /// }
    ///
    /// #[worker_fn]
    /// fn take(_value: Local) {}
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// let error = pool.apply(take, (Local,)).unwrap_err();
    /// assert!(error.task_error().is_some_and(|e| e.is_serialization()));
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn is_serialization(&self) -> bool {
        matches!(self.repr, Repr::Serialization(_))
    }

    /// Whether the worker process running the task died (it aborted, was
    /// killed, ran out of memory) before the task returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn crash() {
    ///     std::process::abort();
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// // On the process backend, the pool replaces the worker and goes on.
    /// let pool = WorkerPool::builder().workers(2).backend(Backend::Multiprocessing).build()?;
    /// let error = pool.apply(crash, ()).unwrap_err();
    /// let error = error.task_error().expect("the task failed");
    /// assert!(error.is_worker_death());
    /// assert!(error.exit_signal().is_some());
    /// assert!(error.to_string().contains("SIGABRT"), "{error}");
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn is_worker_death(&self) -> bool {
        matches!(self.repr, Repr::WorkerDied { .. })
    }

    /// The exit status of the worker process that died, when it exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn quit(code: i32) {
    ///     std::process::exit(code);
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// // Only a worker process can die under its task.
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// let error = pool.apply(quit, (3,)).unwrap_err();
    /// let error = error.task_error().expect("the task failed");
    /// assert!(error.is_worker_death());
    /// assert_eq!(error.exit_code(), Some(3));
    /// assert_eq!(error.exit_signal(), None);
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn exit_code(&self) -> Option<i32> {
        match &self.repr {
            Repr::WorkerDied { code, .. } => *code,
            _ => None,
        }
    }

    /// The signal that killed the worker process, when one did.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn crash() {
    ///     std::process::abort();
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// let error = pool.apply(crash, ()).unwrap_err();
    /// let error = error.task_error().expect("the task failed");
    /// assert_eq!(error.exit_signal(), Some(6)); // SIGABRT
    /// assert_eq!(error.exit_code(), None);
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn exit_signal(&self) -> Option<i32> {
        match &self.repr {
            Repr::WorkerDied { signal, .. } => *signal,
            _ => None,
        }
    }

    /// The process id of the worker process that died.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Backend, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn quit() -> u32 {
    ///     std::process::exit(1);
    /// }
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build()?;
    /// let error = pool.apply(quit, ()).unwrap_err();
    /// let pid = error.task_error().and_then(|e| e.worker_pid()).expect("a worker died");
    /// assert_ne!(pid, std::process::id()); // the worker's, not this process's
    /// # }
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
    pub fn worker_pid(&self) -> Option<u32> {
        match &self.repr {
            Repr::WorkerDied { pid, .. } => Some(*pid),
            _ => None,
        }
    }

    /// The registry error, when the task could not be found by its name.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, TaskError, WorkerPool};
    ///
    /// #[worker_fn]
    /// fn fail() {
    ///     panic!("no luck");
    /// }
    ///
    /// let pool = WorkerPool::new(1)?;
    /// let error = pool.apply(fail, ()).unwrap_err();
    /// assert_eq!(error.task_error().and_then(TaskError::registry_error), None); // a panic
    /// let lookup = freethreading::lookup_task("docs::nowhere").unwrap_err();
    /// assert_eq!(TaskError::from(lookup.clone()).registry_error(), Some(&lookup));
    /// # Ok::<(), freethreading::PoolError>(())
    /// ```
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

/// How a worker process ended, in words: "exited with status 3", "was
/// killed by signal 9 (SIGKILL)".
pub(crate) fn describe_exit(status: Option<&ExitStatus>) -> String {
    match status {
        None => "ended (its status is unknown)".to_owned(),
        Some(status) => match (status.code(), exit_signal(*status)) {
            (Some(code), _) => match exit_code_name(code) {
                Some(name) => format!("ended: {name}"),
                None => format!("exited with status {code}"),
            },
            (None, Some(signal)) => match signal_name(signal) {
                Some(name) => format!("was killed by signal {signal} ({name})"),
                None => format!("was killed by signal {signal}"),
            },
            (None, None) => format!("ended ({status})"),
        },
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
            Repr::WorkerDied { pid, how, .. } => {
                write!(f, "the worker process {pid} {how} while running the task")
            }
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
