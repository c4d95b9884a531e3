//! Which backend the program runs on, chosen once per program.
//!
//! The choice is made at the first use of the crate, in this order: the
//! `FREETHREADING_BACKEND` environment variable, else an earlier call to
//! [`set_backend`], else threads. It never changes afterwards, so every
//! primitive and every worker of one program agrees on it.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The name of the environment variable that selects the backend.
///
/// # Examples
///
/// ```
/// use freethreading::{get_backend, BACKEND_ENV_VAR};
///
/// assert_eq!(BACKEND_ENV_VAR, "FREETHREADING_BACKEND");
/// // When it is set, the program runs on the backend it names.
/// if let Some(name) = std::env::var(BACKEND_ENV_VAR).ok().filter(|name| !name.is_empty()) {
///     assert_eq!(get_backend().as_str(), name);
/// }
/// ```
pub const BACKEND_ENV_VAR: &str = "FREETHREADING_BACKEND";

/// Where workers run: threads of this process, child processes, or the
/// ranks of an MPI job.
///
/// Prints as the Python library's names, `threading` and `multiprocessing`,
/// and `mpi` for the MPI backend (`mpi4py.futures`' model), which needs the
/// cargo feature `mpi`: without it, [`Backend::Mpi`] is a backend this build
/// cannot run ([`is_available`](Backend::is_available) is `false`), so code
/// that names it compiles either way. More backends may come, so a `match`
/// on a `Backend` needs a wildcard arm.
///
/// # Examples
///
/// ```
/// use freethreading::Backend;
///
/// assert_eq!(Backend::Threading.to_string(), "threading");
/// assert_eq!("multiprocessing".parse::<Backend>(), Ok(Backend::Multiprocessing));
/// assert!("fork".parse::<Backend>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Workers are threads of the current process.
    Threading,
    /// Workers are child processes running the same binary.
    Multiprocessing,
    /// Workers are the other ranks of the MPI job this program was started
    /// in (`mpirun -n N`, Slurm's `srun`): rank 0 runs `main`, ranks 1 and
    /// up serve its tasks. Needs the cargo feature `mpi`.
    Mpi,
}

impl Backend {
    /// Every backend, available in this build or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Backend;
    ///
    /// assert_eq!(Backend::ALL, [Backend::Threading, Backend::Multiprocessing, Backend::Mpi]);
    /// assert!(Backend::ALL.contains(&Backend::Mpi)); // built or not
    /// ```
    pub const ALL: [Backend; 3] = [Backend::Threading, Backend::Multiprocessing, Backend::Mpi];

    /// The name used by `FREETHREADING_BACKEND` and by [`Display`](fmt::Display).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Backend;
    ///
    /// assert_eq!(Backend::Multiprocessing.as_str(), "multiprocessing");
    /// assert_eq!(Backend::Threading.as_str().parse::<Backend>(), Ok(Backend::Threading));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Threading => "threading",
            Backend::Multiprocessing => "multiprocessing",
            Backend::Mpi => "mpi",
        }
    }

    /// Whether this build can run workers on this backend.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(freethreading::Backend::Threading.is_available());
    /// ```
    pub const fn is_available(self) -> bool {
        match self {
            Backend::Threading => true,
            // Linux only for now; elsewhere choosing it is an error rather
            // than a silent fallback.
            Backend::Multiprocessing => crate::sys::process::PROCESSES_SUPPORTED,
            Backend::Mpi => cfg!(feature = "mpi"),
        }
    }

    /// Runs `f` with every primitive and queue it makes on this thread taking
    /// this backend's flavor, whatever the program's backend: what a thread
    /// program needs to share a `Lock` or a `Queue` with the tasks of a
    /// process pool ([`WorkerPoolBuilder::backend`](crate::WorkerPoolBuilder::backend)).
    /// A process-flavor primitive also works between threads, so the other
    /// way round needs nothing. Scopes nest; the previous choice comes back
    /// when `f` returns or panics. Pools and workers are not affected.
    ///
    /// # Errors
    ///
    /// [`BackendError::Unavailable`] for a backend this build cannot run;
    /// `f` does not run then.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{Backend, Lock, Queue};
    ///
    /// # if Backend::Multiprocessing.is_available() {
    /// let (lock, queue) = Backend::Multiprocessing.install(|| (Lock::new(), Queue::<u64>::new()))?;
    /// # }
    /// # Ok::<(), freethreading::BackendError>(())
    /// ```
    pub fn install<R>(self, f: impl FnOnce() -> R) -> Result<R, BackendError> {
        /// Puts the previous choice back, on return or unwind.
        struct Restore(Option<Backend>);
        impl Drop for Restore {
            fn drop(&mut self) {
                INSTALLED.set(self.0);
            }
        }
        if !self.is_available() {
            return Err(BackendError::Unavailable(self));
        }
        let _restore = Restore(INSTALLED.replace(Some(self)));
        Ok(f())
    }

    /// The backends this build can run, in [`Backend::ALL`] order.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::Backend;
    ///
    /// let available: Vec<Backend> = Backend::available().collect();
    /// assert_eq!(available[0], Backend::Threading); // always built
    /// assert!(available.iter().all(|backend| backend.is_available()));
    /// ```
    pub fn available() -> impl Iterator<Item = Backend> {
        Backend::ALL.into_iter().filter(|b| b.is_available())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| BackendError::Unknown(s.to_owned()))
    }
}

/// Why a backend could not be chosen.
///
/// # Examples
///
/// ```
/// use freethreading::{get_backend, set_backend, Backend, BackendError};
///
/// let error = "fork".parse::<Backend>().unwrap_err();
/// assert_eq!(error, BackendError::Unknown("fork".to_owned()));
///
/// // One program, one backend: asking for another once it is chosen fails.
/// let chosen = get_backend();
/// let other = if chosen == Backend::Threading { Backend::Multiprocessing } else { Backend::Threading };
/// # if other.is_available() {
/// assert_eq!(set_backend(other), Err(BackendError::AlreadyChosen { chosen, requested: other }));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendError {
    /// A name that is not a backend, from `FREETHREADING_BACKEND` or a parse.
    Unknown(String),
    /// A backend this build cannot run yet.
    Unavailable(Backend),
    /// [`set_backend`] asked for one backend after another was already chosen.
    AlreadyChosen {
        /// The backend in force.
        chosen: Backend,
        /// The backend that was asked for.
        requested: Backend,
    },
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Unknown(name) => write!(
                f,
                "unknown backend `{name}` in {BACKEND_ENV_VAR}; valid backends are `threading`, `multiprocessing` and `mpi`"
            ),
            BackendError::Unavailable(Backend::Mpi) => write!(
                f,
                "the `mpi` backend is not available in this build of freethreading: \
                 build with the cargo feature `mpi`, or use `threading`"
            ),
            BackendError::Unavailable(backend) => write!(
                f,
                "the `{backend}` backend is not available in this build of freethreading; use `threading`"
            ),
            BackendError::AlreadyChosen { chosen, requested } => write!(
                f,
                "cannot switch to the `{requested}` backend: `{chosen}` was already chosen \
                 (by {BACKEND_ENV_VAR} or by first use), and a program runs on one backend"
            ),
        }
    }
}

impl std::error::Error for BackendError {}

static CHOSEN: OnceLock<Result<Backend, BackendError>> = OnceLock::new();

thread_local! {
    /// The flavor [`Backend::install`] asked for on this thread, if any.
    static INSTALLED: Cell<Option<Backend>> = const { Cell::new(None) };
}

/// The backend whose flavor new primitives take on this thread: the one
/// [`Backend::install`] put in place, else the program's.
pub(crate) fn primitives_backend() -> Result<Backend, BackendError> {
    INSTALLED.get().map_or_else(try_get_backend, Ok)
}

fn from_environment() -> Result<Option<Backend>, BackendError> {
    match std::env::var(BACKEND_ENV_VAR) {
        Ok(name) if name.is_empty() => Ok(None),
        Ok(name) => {
            let backend = name.parse::<Backend>()?;
            if backend.is_available() {
                Ok(Some(backend))
            } else {
                Err(BackendError::Unavailable(backend))
            }
        }
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(raw)) => {
            Err(BackendError::Unknown(raw.to_string_lossy().into_owned()))
        }
    }
}

fn choose(requested: Option<Backend>) -> &'static Result<Backend, BackendError> {
    CHOSEN.get_or_init(|| {
        Ok(from_environment()?
            .or(requested)
            .unwrap_or(Backend::Threading))
    })
}

/// Resolves the backend, reporting a bad `FREETHREADING_BACKEND` as an error.
///
/// A getter: it fixes the choice, and does nothing else (a worker process
/// takes over only in [`take_over_if_worker`](crate::entry::take_over_if_worker)).
pub(crate) fn try_get_backend() -> Result<Backend, BackendError> {
    choose(None).clone()
}

/// The backend this program runs on.
///
/// The first call fixes the choice for the rest of the program.
///
/// # Panics
///
/// If `FREETHREADING_BACKEND` names no available backend. Call [`init`](crate::init)
/// first (or use [`#[freethreading::main]`](crate::main)) to get that as an error instead.
///
/// # Examples
///
/// ```
/// use freethreading::{get_backend, Backend};
///
/// let backend = get_backend();
/// assert!(backend == Backend::Threading || backend == Backend::Multiprocessing);
/// println!("running on {backend}");
/// ```
pub fn get_backend() -> Backend {
    match try_get_backend() {
        Ok(backend) => backend,
        Err(error) => panic!("freethreading: {error}"),
    }
}

/// Chooses the backend before first use, unless `FREETHREADING_BACKEND` is set.
///
/// # Errors
///
/// [`BackendError::Unavailable`] for a backend this build cannot run, and
/// [`BackendError::AlreadyChosen`] when a different backend is already in force,
/// by the environment variable or because the crate was already used.
///
/// # Examples
///
/// ```
/// use freethreading::{get_backend, set_backend, Backend};
///
/// # if std::env::var_os("FREETHREADING_BACKEND").is_none() {
/// set_backend(Backend::Threading)?;
/// assert_eq!(get_backend(), Backend::Threading);
/// # }
/// # Ok::<(), freethreading::BackendError>(())
/// ```
pub fn set_backend(backend: Backend) -> Result<(), BackendError> {
    if !backend.is_available() {
        return Err(BackendError::Unavailable(backend));
    }
    let chosen = choose(Some(backend)).clone()?;
    if chosen == backend {
        Ok(())
    } else {
        Err(BackendError::AlreadyChosen {
            chosen,
            requested: backend,
        })
    }
}
