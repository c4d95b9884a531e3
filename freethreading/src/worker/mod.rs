//! [`Worker`]: one task run by a thread or a process of its own, Python's
//! `threading.Thread` and `multiprocessing.Process` in one type.
//!
//! The public type holds what every backend shares (name, daemon flag, the
//! task's registered name) and a private flavor that runs the task: a thread
//! (`thread.rs`) or a child process (`process.rs`).

mod error;
#[cfg(feature = "mpi")]
mod mpi;
mod outcome;
mod process;
mod thread;

pub use error::WorkerError;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::backend::{Backend, get_backend};
use crate::task::{Task, TaskValue, registry};

/// A task run once by a worker of its own: a thread or, on the process
/// backend, a child process.
///
/// Build it with the task and its arguments as a tuple, optionally name it and
/// make it a daemon, [`start`](Worker::start) it, and [`join`](Worker::join) it
/// to get the task's return value. Python's `kwargs` have no Rust form: pass a
/// struct as one argument instead.
///
/// Dropping a started worker without joining it detaches it: it runs on, and
/// a program whose `main` has [`#[freethreading::main]`](crate::main) waits
/// for it at the end unless it is a daemon.
///
/// # Examples
///
/// ```
/// use freethreading::{current_worker, worker_fn, Worker};
///
/// #[worker_fn]
/// fn greet(greeting: String) -> String {
///     format!("{greeting} from {}", current_worker().name())
/// }
///
/// let worker = Worker::new(greet, ("hello".to_owned(),)).with_name("Greeter");
/// worker.start()?;
/// assert_eq!(worker.join()?, "hello from Greeter");
/// # Ok::<(), freethreading::WorkerError>(())
/// ```
///
/// A worker takes `#[worker_fn]` tasks only, so that a process can find it:
///
/// ```compile_fail,E0277
/// let worker = freethreading::Worker::new(|x: u64| x + 1, (1,));
/// ```
#[must_use = "a worker does nothing until `start()` is called, and its result is had with `join()`"]
pub struct Worker<R> {
    name: String,
    daemon: bool,
    task: &'static str,
    flavor: Flavor<R>,
}

enum Flavor<R> {
    Thread(thread::Worker<R>),
    Process(process::Worker<R>),
    #[cfg(feature = "mpi")]
    Mpi(mpi::Worker<R>),
}

/// The number in the next default name, `Worker-N`, counted per process
/// from 1 like Python's `Thread-N`.
fn next_default_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("Worker-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl<R: TaskValue> Worker<R> {
    /// A worker that will run `task` with `args`, a tuple: `()`, `(x,)`, `(x, y)`.
    ///
    /// It is named `Worker-N` (N counts the workers made in this process, from
    /// 1) and is a daemon if the worker creating it is one, as in Python.
    ///
    /// # Panics
    ///
    /// If `FREETHREADING_BACKEND` names no available backend and the backend
    /// was not fixed before, as [`get_backend`] does. Call
    /// [`init`](crate::init) first, or use
    /// [`#[freethreading::main]`](crate::main), to get that as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn add(a: u64, b: u64) -> u64 {
    ///     a + b
    /// }
    ///
    /// let worker = Worker::new(add, (2, 3));
    /// assert!(worker.name().starts_with("Worker-"));
    /// worker.start()?;
    /// assert_eq!(worker.join()?, 5);
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn new<T: Task<Output = R>>(task: T, args: T::Args) -> Self {
        // A worker whose `main` forgot `init()` takes over here.
        crate::entry::take_over_if_worker();
        let flavor = match get_backend() {
            // Arguments that could not reach a worker process are refused at
            // `start`, as there.
            Backend::Threading => Flavor::Thread(match crate::strict::arguments(task, args) {
                Ok(args) => thread::Worker::new(Box::new(move || crate::strict::run(task, args))),
                Err(error) => thread::Worker::refusing(error),
            }),
            Backend::Multiprocessing => Flavor::Process(process::Worker::new(task.name(), &args)),
            #[cfg(feature = "mpi")]
            Backend::Mpi => Flavor::Mpi(mpi::Worker::new(task.name(), &args)),
            // `get_backend` gives only a backend this build can run.
            #[cfg(not(feature = "mpi"))]
            Backend::Mpi => unreachable!("the mpi backend is not built"),
        };
        Worker {
            name: next_default_name(),
            daemon: crate::current::current_worker().is_daemon(),
            task: task.name(),
            flavor,
        }
    }

    /// Names the worker, as `Worker(name=...)` does; see [`set_name`](Worker::set_name).
    ///
    /// A started worker keeps its name: use `set_name` to get that as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{current_worker, worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn my_name() -> String {
    ///     current_worker().name().to_owned()
    /// }
    ///
    /// let worker = Worker::new(my_name, ()).with_name("fetcher");
    /// assert_eq!(worker.name(), "fetcher");
    /// worker.start()?;
    /// assert_eq!(worker.join()?, "fetcher");
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let _ = self.set_name(name);
        self
    }

    /// Makes the worker a daemon or not, as `Worker(daemon=...)` does; see
    /// [`set_daemon`](Worker::set_daemon).
    ///
    /// A started worker keeps its flag: use `set_daemon` to get that as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{current_worker, worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn am_i_a_daemon() -> bool {
    ///     current_worker().is_daemon()
    /// }
    ///
    /// let worker = Worker::new(am_i_a_daemon, ()).with_daemon(true);
    /// assert!(worker.daemon());
    /// worker.start()?;
    /// assert!(worker.join()?);
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn with_daemon(mut self, daemon: bool) -> Self {
        let _ = self.set_daemon(daemon);
        self
    }

    /// Starts the worker: its task begins to run in parallel with the caller.
    ///
    /// From here until the task has finished, [`is_alive`](Worker::is_alive)
    /// is true and [`enumerate`](crate::enumerate) lists the worker.
    ///
    /// # Errors
    ///
    /// - [`WorkerError::AlreadyStarted`] if it was started before.
    /// - [`WorkerError::Registry`] if the task cannot be found by its name
    ///   (two `#[worker_fn]` share it), which a process worker would need:
    ///   checked on every backend.
    /// - [`WorkerError::Spawn`] if the operating system refused a thread; the
    ///   worker stays unstarted, so `start` may be tried again.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker, WorkerError};
    ///
    /// #[worker_fn]
    /// fn add(a: u64, b: u64) -> u64 {
    ///     a + b
    /// }
    ///
    /// let worker = Worker::new(add, (40, 2));
    /// worker.start()?;
    /// assert!(matches!(worker.start(), Err(WorkerError::AlreadyStarted)));
    /// assert_eq!(worker.join()?, 42);
    /// # Ok::<(), WorkerError>(())
    /// ```
    pub fn start(&self) -> Result<(), WorkerError> {
        registry::check(self.task)?;
        match &self.flavor {
            Flavor::Thread(worker) => worker.start(&self.name, self.daemon),
            Flavor::Process(worker) => worker.start(&self.name, self.daemon),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(worker) => worker.start(&self.name, self.daemon),
        }
    }

    /// Waits for the task to finish and returns its return value.
    ///
    /// # Errors
    ///
    /// - [`WorkerError::NotStarted`] if the worker was never started.
    /// - [`WorkerError::Task`] if the task panicked: the
    ///   [`TaskError`](crate::TaskError) has the panic's message.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker, WorkerError};
    ///
    /// #[worker_fn]
    /// fn div(a: u32, b: u32) -> u32 {
    ///     a.checked_div(b).expect("division by zero")
    /// }
    ///
    /// let worker = Worker::new(div, (1, 0));
    /// worker.start()?;
    /// match worker.join() {
    ///     Err(WorkerError::Task(error)) => {
    ///         assert_eq!(error.panic_message(), Some("division by zero"));
    ///     }
    ///     other => panic!("expected a task error, got {other:?}"),
    /// }
    /// # Ok::<(), WorkerError>(())
    /// ```
    pub fn join(self) -> Result<R, WorkerError> {
        match self.flavor {
            Flavor::Thread(worker) => worker.join(),
            Flavor::Process(worker) => worker.join(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(worker) => worker.join(),
        }
    }

    /// Waits at most `timeout` for the task to finish; `true` once it has.
    ///
    /// The result stays in the worker for [`join`](Worker::join), which
    /// returns at once after a `true`.
    ///
    /// # Errors
    ///
    /// [`WorkerError::NotStarted`] if the worker was never started.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn nap(millis: u64) {
    ///     std::thread::sleep(Duration::from_millis(millis));
    /// }
    ///
    /// let worker = Worker::new(nap, (50,));
    /// worker.start()?;
    /// if !worker.join_timeout(Duration::from_millis(1))? {
    ///     println!("still napping");
    /// }
    /// assert!(worker.join_timeout(Duration::from_secs(60))?);
    /// worker.join()?;
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, WorkerError> {
        match &self.flavor {
            Flavor::Thread(worker) => worker.join_timeout(timeout),
            Flavor::Process(worker) => worker.join_timeout(timeout),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(worker) => worker.join_timeout(timeout),
        }
    }
}

impl<R> Worker<R> {
    /// Whether the worker was started and its task has not finished yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use freethreading::{worker_fn, Event, Worker};
    ///
    /// #[worker_fn]
    /// fn wait_for(gate: Event) -> bool {
    ///     gate.wait_timeout(Duration::from_secs(60))
    /// }
    ///
    /// let gate = Event::new();
    /// let worker = Worker::new(wait_for, (gate.clone(),));
    /// assert!(!worker.is_alive()); // not started
    /// worker.start()?;
    /// assert!(worker.is_alive()); // waiting for the gate
    /// gate.set();
    /// assert!(worker.join_timeout(Duration::from_secs(60))?);
    /// assert!(!worker.is_alive());
    /// assert!(worker.join()?);
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn is_alive(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(worker) => worker.is_alive(),
            Flavor::Process(worker) => worker.is_alive(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(worker) => worker.is_alive(),
        }
    }

    /// Whether [`start`](Worker::start) has succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// let worker = Worker::new(nothing, ());
    /// assert!(!worker.is_started());
    /// worker.start()?;
    /// assert!(worker.is_started());
    /// worker.join()?;
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn is_started(&self) -> bool {
        match &self.flavor {
            Flavor::Thread(worker) => worker.is_started(),
            Flavor::Process(worker) => worker.is_started(),
            #[cfg(feature = "mpi")]
            Flavor::Mpi(worker) => worker.is_started(),
        }
    }

    /// The worker's name, which [`current_worker`](crate::current_worker)
    /// gives inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// let worker = Worker::new(nothing, ());
    /// assert!(worker.name().starts_with("Worker-")); // the default, numbered
    /// assert_eq!(worker.with_name("quiet").name(), "quiet");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the worker before it starts.
    ///
    /// # Errors
    ///
    /// [`WorkerError::AlreadyStarted`] once started: the running worker
    /// already knows itself by its name, which on the process backend lives
    /// in another process.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker, WorkerError};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// let mut worker = Worker::new(nothing, ());
    /// worker.set_name("first")?;
    /// assert_eq!(worker.name(), "first");
    /// worker.start()?;
    /// assert!(matches!(worker.set_name("second"), Err(WorkerError::AlreadyStarted)));
    /// assert_eq!(worker.name(), "first");
    /// worker.join()?;
    /// # Ok::<(), WorkerError>(())
    /// ```
    pub fn set_name(&mut self, name: impl Into<String>) -> Result<(), WorkerError> {
        if self.is_started() {
            return Err(WorkerError::AlreadyStarted);
        }
        self.name = name.into();
        Ok(())
    }

    /// Whether the worker is a daemon: a program does not wait for it at exit.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// // Not a daemon by default, here: the thread that makes it is none.
    /// assert!(!Worker::new(nothing, ()).daemon());
    /// assert!(Worker::new(nothing, ()).with_daemon(true).daemon());
    /// ```
    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Makes the worker a daemon or not, before it starts.
    ///
    /// # Errors
    ///
    /// [`WorkerError::AlreadyStarted`] once started, as Python's "cannot set
    /// daemon status of active thread".
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// let mut worker = Worker::new(nothing, ());
    /// worker.set_daemon(true)?;
    /// worker.start()?;
    /// assert!(worker.set_daemon(false).is_err());
    /// assert!(worker.daemon());
    /// worker.join()?;
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), WorkerError> {
        if self.is_started() {
            return Err(WorkerError::AlreadyStarted);
        }
        self.daemon = daemon;
        Ok(())
    }

    /// The registered name of the task the worker runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Task, Worker};
    ///
    /// #[worker_fn]
    /// fn nothing() {}
    ///
    /// let worker = Worker::new(nothing, ());
    /// assert_eq!(worker.task_name(), nothing.name());
    /// assert!(worker.task_name().ends_with("::nothing"));
    /// ```
    pub fn task_name(&self) -> &'static str {
        self.task
    }
}

impl<R> fmt::Debug for Worker<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_alive() {
            "alive"
        } else if self.is_started() {
            "finished"
        } else {
            "unstarted"
        };
        f.debug_struct("Worker")
            .field("name", &self.name)
            .field("daemon", &self.daemon)
            .field("task", &self.task)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
