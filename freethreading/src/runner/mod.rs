//! What [`WorkerPool`](crate::WorkerPool) and
//! [`WorkerPoolExecutor`](crate::WorkerPoolExecutor) share: a crew of workers
//! that runs jobs, and the one-shot cells their results come back through.
//!
//! The seam between scheduling and backends is [`Workers`]. Everything above
//! it (chunking, ordering results, `AsyncResult` and `TaskFuture`, close,
//! terminate and shutdown states, error mapping) only hands it "run this task
//! on these arguments" or "run this task over this chunk", each with a
//! [`reply`] to deliver the outcome to, and never looks at how it runs.
//! On threads (`thread.rs`) a job is a boxed closure that calls
//! [`Task::call`](crate::Task) and delivers the outcome itself. On processes
//! (`process.rs`) it is the task's name and the serialized arguments, sent to
//! a child; the reply is kept until the child answers and gets the decoded
//! outcome. A reply dropped undelivered (a job discarded, a child gone)
//! reports the job as lost, so no caller ever waits on an outcome that cannot
//! come.

pub(crate) mod completion;
mod error;
mod initializer;
mod job_queue;
#[cfg(feature = "mpi")]
mod mpi;
mod options;
pub(crate) mod placement;
mod process;
pub(crate) mod reply;
mod stats;
mod thread;

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use error::task_error_accessors;
pub(crate) use initializer::Initializer;
pub(crate) use options::CrewOptions;
pub use stats::PoolStats;

use crate::backend::{Backend, BackendError, try_get_backend};
use crate::task::{RegistryError, Task, TaskError};
use reply::{ChunkReply, OneReply};

/// Why a job produced no value. Each public error type maps it to its own variants.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// The task panicked.
    Task(TaskError),
    /// A worker's initializer panicked, which breaks the whole crew.
    Initializer(TaskError),
    /// The crew was terminated before the job ran.
    Terminated,
    /// The job was cancelled: before it started, or on processes while it
    /// ran, by killing its worker.
    Cancelled,
    /// The job passed its deadline and its worker process was killed for it.
    DeadlineExceeded,
    /// The crew's workers could not be started.
    Spawn(Arc<io::Error>),
    /// The backend could not be chosen or is not available.
    Backend(BackendError),
    /// A crew of no workers was asked for.
    ZeroWorkers,
    /// Workers replaced after zero tasks were asked for.
    ZeroMaxTasks,
    /// The initializer is not registered under a unique name.
    Registry(RegistryError),
}

/// A job that was not accepted because the crew no longer takes any.
#[derive(Debug)]
pub(crate) struct Refused;

/// The workers of one pool or executor, on whichever backend the program runs.
pub(crate) enum Workers {
    Thread(thread::Crew),
    Process(process::Crew),
    #[cfg(feature = "mpi")]
    Mpi(mpi::Crew),
}

impl Workers {
    /// Starts `size` workers named `<prefix>_<i>`, each running `initializer`
    /// first, on `backend`, or on the program's backend when it is `None`.
    pub(crate) fn start(
        prefix: &str,
        size: usize,
        initializer: Option<&Initializer>,
        backend: Option<Backend>,
        max_jobs: Option<usize>,
    ) -> Result<Workers, Failure> {
        // A worker whose `main` forgot `init()` takes over here.
        crate::entry::take_over_if_worker();
        let backend = match backend {
            Some(backend) if !backend.is_available() => {
                return Err(Failure::Backend(BackendError::Unavailable(backend)));
            }
            Some(backend) => backend,
            None => try_get_backend().map_err(Failure::Backend)?,
        };
        if backend == Backend::Mpi && try_get_backend() != Ok(Backend::Mpi) {
            // Worker ranks take over only in a program started on MPI.
            return Err(Failure::Spawn(Arc::new(io::Error::new(
                io::ErrorKind::Unsupported,
                "a pool on the mpi backend needs a program started on it: \
                 FREETHREADING_BACKEND=mpi, under mpirun or srun",
            ))));
        }
        match backend {
            Backend::Threading => thread::Crew::start(prefix, size, initializer, max_jobs)
                .map(Workers::Thread)
                .map_err(|e| Failure::Spawn(Arc::new(e))),
            Backend::Multiprocessing => {
                process::Crew::start(prefix, size, initializer, max_jobs).map(Workers::Process)
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi => mpi::Crew::start(prefix, size, initializer, max_jobs).map(Workers::Mpi),
            #[cfg(not(feature = "mpi"))]
            Backend::Mpi => Err(Failure::Backend(BackendError::Unavailable(backend))),
        }
    }

    /// Workers that never run anything: every job fails with `why`.
    pub(crate) fn unavailable(why: Failure) -> Workers {
        Workers::Thread(thread::Crew::unavailable(why))
    }

    /// How many workers were started.
    pub(crate) fn size(&self) -> usize {
        match self {
            Workers::Thread(crew) => crew.size(),
            Workers::Process(crew) => crew.size(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.size(),
        }
    }

    /// Why the crew can no longer run jobs, if it cannot.
    pub(crate) fn broken(&self) -> Option<Failure> {
        match self {
            Workers::Thread(crew) => crew.broken(),
            Workers::Process(crew) => crew.broken(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.broken(),
        }
    }

    /// Queues one call of `task`, whose outcome goes to `reply`.
    pub(crate) fn run_one<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
    ) -> Result<(), Refused> {
        self.run_one_by(task, args, reply, None)
    }

    /// As [`run_one`](Self::run_one), for a job whose worker process is
    /// killed if it has not answered by `deadline`. Threads cannot be
    /// stopped: there the caller stops waiting, and the task runs on.
    pub(crate) fn run_one_by<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
        deadline: Option<std::time::Instant>,
    ) -> Result<(), Refused> {
        let reply = reply.counted(self.counters());
        match self {
            Workers::Thread(crew) => crew.run_one(task, args, reply),
            Workers::Process(crew) => crew.run_one(task, args, reply, deadline),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.run_one(task, args, reply),
        }
    }

    /// Runs `task(args)` and waits for its outcome, for a caller that
    /// waits at once: a worker process that is idle is then used from the
    /// calling thread, which saves two thread wake-ups, and an idle MPI
    /// worker rank too, without even a job to hand the outcome over.
    pub(crate) fn apply<T: Task>(
        &self,
        task: T,
        args: T::Args,
    ) -> Result<Result<T::Output, Failure>, Refused> {
        match self {
            Workers::Thread(crew) => {
                reply::run_and_wait(crew.counters(), |reply| crew.run_one(task, args, reply))
            }
            Workers::Process(crew) => {
                reply::run_and_wait(crew.counters(), |reply| crew.run_one_now(task, args, reply))
            }
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.apply(task, args),
        }
    }

    /// Queues `task` over a chunk of `len` arguments (a vector, or a piece of
    /// a range that the worker generates itself), whose results go to `reply`
    /// in order.
    pub(crate) fn run_chunk<T, C>(
        &self,
        task: T,
        chunk: C,
        len: usize,
        reply: ChunkReply<T::Output>,
    ) -> Result<(), Refused>
    where
        T: Task,
        C: IntoIterator<Item = T::Args> + Send + 'static,
    {
        let reply = reply.counted(self.counters());
        match self {
            Workers::Thread(crew) => crew.run_chunk(task, chunk, len, reply),
            Workers::Process(crew) => crew.run_chunk(task, chunk, len, reply),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.run_chunk(task, chunk, len, reply),
        }
    }

    /// The crew's counters, which the replies of its jobs count in.
    fn counters(&self) -> &Arc<stats::Counters> {
        match self {
            Workers::Thread(crew) => crew.counters(),
            Workers::Process(crew) => crew.counters(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.counters(),
        }
    }

    /// The crew's counters now.
    pub(crate) fn stats(&self) -> PoolStats {
        self.counters().snapshot(self.size())
    }

    /// Takes no more jobs; the workers finish the queued ones, then exit.
    pub(crate) fn close(&self) {
        match self {
            Workers::Thread(crew) => crew.close(),
            Workers::Process(crew) => crew.close(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.close(),
        }
    }

    /// Fails every queued job that has not started with `why`.
    pub(crate) fn discard_pending(&self, why: &Failure) {
        match self {
            Workers::Thread(crew) => crew.discard_pending(why),
            Workers::Process(crew) => crew.discard_pending(why),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.discard_pending(why),
        }
    }

    /// Closes and fails the queued jobs as terminated; running ones finish on
    /// threads, and are killed with their workers on processes.
    pub(crate) fn terminate(&self) {
        match self {
            Workers::Thread(crew) => crew.terminate(),
            Workers::Process(crew) => crew.terminate(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.terminate(),
        }
    }

    /// Waits for every worker to exit; call after [`close`](Self::close).
    pub(crate) fn join(&self) {
        match self {
            Workers::Thread(crew) => crew.join(),
            Workers::Process(crew) => crew.join(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => crew.join(),
        }
    }
}

impl fmt::Debug for Workers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Workers::Thread(crew) => f
                .debug_struct("Workers")
                .field("backend", &"threading")
                .field("size", &crew.size())
                .finish_non_exhaustive(),
            Workers::Process(crew) => f
                .debug_struct("Workers")
                .field("backend", &"multiprocessing")
                .field("size", &crew.size())
                .finish_non_exhaustive(),
            #[cfg(feature = "mpi")]
            Workers::Mpi(crew) => f
                .debug_struct("Workers")
                .field("backend", &"mpi")
                .field("size", &crew.size())
                .finish_non_exhaustive(),
        }
    }
}

/// The number of workers when none is given: the cores this program may
/// use, or on MPI the worker ranks (`backend` is the crew's own, if any).
pub(crate) fn default_size(backend: Option<Backend>) -> usize {
    #[cfg(feature = "mpi")]
    if backend.map_or_else(try_get_backend, Ok) == Ok(Backend::Mpi) {
        // An MPI that cannot start, or a job of rank 0 alone, is reported
        // as the crew starts.
        return crate::mpi::worker_ranks().map_or(1, |ranks| ranks.max(1));
    }
    let _ = backend;
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The next number for a pool's or executor's thread names, counted per kind.
pub(crate) fn next_serial(counter: &AtomicUsize) -> usize {
    counter.fetch_add(1, Ordering::Relaxed)
}

/// The instant `timeout` from now; `None` (no limit) when that is past the
/// clock's range, so an enormous timeout means waiting forever, not a panic.
pub(crate) fn deadline(timeout: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(timeout)
}
