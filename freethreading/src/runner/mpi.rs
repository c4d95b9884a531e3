//! MPI workers for a pool or executor: one link per worker, each on a
//! worker rank of its own (`mpi/link.rs`), served by a driver thread of
//! rank 0, all fed from one queue of jobs (`runner/job_queue.rs`, shared
//! with the process crew) — the process crew's shape without its children.
//!
//! A job is the process backend's (`runner/process/job.rs`): the task's
//! name, its arguments serialized by the caller's thread, and a reply that
//! decodes the answer, which is the process backend's reply frame. A driver
//! holds its link while it sends a job and waits for its answer, one job at
//! a time; a synchronous call (`WorkerPool::apply`) that finds a link idle
//! does the round trip itself, saving two thread wake-ups.
//!
//! What MPI cannot do: a rank cannot be killed alone, nor started again.
//! So a deadline (`apply_timeout`) stops the caller's wait, as on threads,
//! while the task runs on; `terminate` fails the queued jobs and lets the
//! running ones finish; `max_tasks_per_worker` is refused as unsupported.
//! A rank that dies ends the whole MPI job, rank 0 with it (`mpirun` says
//! which rank died and how): no job waits for a dead rank.

use std::cell::Cell;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};

use crossbeam_channel::Receiver;
use parking_lot::Mutex;

use super::job_queue::JobQueue;
use super::process::job::Job;
use super::reply::{ChunkReply, OneReply, run_and_wait};
use super::stats::Counters;
use super::{Failure, Initializer, Refused};
use crate::codec;
use crate::codec::message::{self, Lent, Message, Route};
use crate::mpi::{NotReady, RankLink};
use crate::process::reply::{Torn, decode_reply};
use crate::task::{Task, TaskError, TaskValue};

thread_local! {
    /// The arguments of this thread's last `apply` call, encoded: the
    /// buffer is kept for the next (let go after one over
    /// [`KEPT_ENCODED`] bytes).
    static ENCODED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The most encoded arguments a thread keeps room for.
const KEPT_ENCODED: usize = 64 * 1024;

pub(crate) struct Crew {
    jobs: JobQueue,
    shared: Arc<Shared>,
    slots: Vec<Arc<Slot>>,
    drivers: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    terminated: AtomicBool,
    broken: OnceLock<Failure>,
    counters: Arc<Counters>,
}

impl Shared {
    fn refusal(&self) -> Option<Failure> {
        if self.terminated.load(Ordering::Acquire) {
            Some(Failure::Terminated)
        } else {
            self.broken.get().cloned()
        }
    }

    /// Runs `job` on `link`, and delivers its outcome.
    fn serve(&self, link: &mut RankLink, mut job: Job) {
        if let Some(why) = self.refusal() {
            return job.fail(why);
        }
        if !job.start() {
            return job.dismiss();
        }
        let (task, chunk, args) = (job.task, job.chunk, std::mem::take(&mut job.args));
        let mut job = Some(job);
        let delivered = self.round_trip(link, task, chunk, &args, |frame| {
            let Some(job) = job.take() else { return };
            // Decoding runs the user's `Deserialize`: a panic there must not
            // take the driver down; the reply reports it.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // A rank's results are inline, never torn.
                if let Err(torn) = job.finish(frame) {
                    let job = *torn;
                    let error = Torn::error(job.task);
                    job.fail(Failure::Task(error));
                }
            }));
        });
        if let (Err(failure), Some(job)) = (delivered, job) {
            job.fail(failure);
        }
    }

    /// Sends the job of `task` on `link` with its encoded `args`, and
    /// returns what `read` makes of its reply frame. MPI failing breaks the
    /// crew, and fails the job.
    fn round_trip<R>(
        &self,
        link: &mut RankLink,
        task: &'static str,
        chunk: bool,
        args: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Failure> {
        if !crate::mpi::fits(args.len()) {
            return Err(Failure::Task(TaskError::arguments(
                task,
                format!("{} bytes, over what one MPI message may carry", args.len()),
            )));
        }
        link.send_job(task, chunk, args)
            .and_then(|()| link.reply(read))
            .map_err(|error| {
                let failure = Failure::Spawn(Arc::new(io::Error::new(
                    error.kind(),
                    format!("worker rank {}: {error}", link.rank()),
                )));
                let _ = self.broken.set(failure.clone());
                failure
            })
    }
}

/// One worker: its link, `None` once closed.
struct Slot {
    link: Mutex<Option<RankLink>>,
}

impl Crew {
    pub(crate) fn start(
        prefix: &str,
        size: usize,
        initializer: Option<&Initializer>,
        max_jobs: Option<usize>,
    ) -> Result<Crew, Failure> {
        if max_jobs.is_some() {
            return Err(Failure::Spawn(Arc::new(io::Error::new(
                io::ErrorKind::Unsupported,
                "max_tasks_per_worker is not supported on the mpi backend: \
                 a worker rank cannot be replaced",
            ))));
        }
        let initializer = match initializer {
            Some(init) => Some((
                init.name(),
                init.serialized_args().map_err(Failure::Initializer)?,
            )),
            None => None,
        };
        let names: Vec<String> = (0..size).map(|i| format!("{prefix}_{i}")).collect();
        let shared = Arc::new(Shared {
            terminated: AtomicBool::new(false),
            broken: OnceLock::new(),
            counters: Arc::default(),
        });
        // Welcomed, not yet greeted: each driver reads its greeting first,
        // so that building a pool never waits for a rank busy with another
        // pool's task.
        let links = RankLink::open_many(&names, true, initializer)
            .map_err(|error| Failure::Spawn(Arc::new(error)))?;
        let slots: Vec<Arc<Slot>> = links
            .into_iter()
            .map(|link| {
                Arc::new(Slot {
                    link: Mutex::new(Some(link)),
                })
            })
            .collect();
        let crew = Crew {
            jobs: JobQueue::new(),
            shared,
            slots,
            drivers: Mutex::new(Vec::new()),
        };
        for (i, slot) in crew.slots.iter().enumerate() {
            let (slot, receiver, shared) = (
                Arc::clone(slot),
                crew.jobs.receiver(),
                Arc::clone(&crew.shared),
            );
            let spawned = thread::Builder::new()
                .name(format!("{prefix}_{i}-driver"))
                .spawn(move || drive(&slot, &receiver, &shared));
            match spawned {
                Ok(handle) => crew.drivers.lock().push(handle),
                Err(error) => {
                    crew.terminate();
                    crew.join();
                    return Err(Failure::Spawn(Arc::new(error)));
                }
            }
        }
        Ok(crew)
    }

    pub(crate) fn size(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn broken(&self) -> Option<Failure> {
        self.shared.broken.get().cloned()
    }

    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.shared.counters
    }

    fn submit(&self, job: Job) -> Result<(), Refused> {
        if let Some(why) = self.shared.broken.get() {
            job.fail(why.clone());
            return Ok(());
        }
        self.jobs.submit(job)
    }

    #[allow(
        clippy::needless_pass_by_value,
        reason = "the same signature as the thread crew's, which moves the arguments"
    )]
    pub(crate) fn run_one<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
    ) -> Result<(), Refused> {
        match job_of(task, &args, reply) {
            Some(job) => self.submit(job),
            None => Ok(()),
        }
    }

    /// Runs `task(args)` and waits for its outcome: on an idle worker the
    /// round trip is made on this thread, with neither a job nor a
    /// completion to hand the outcome over (a quick task's round trip is
    /// a microsecond, of which those took a sixth); with every worker busy,
    /// as a queued job.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the same signature as the other crews', which move the arguments"
    )]
    pub(crate) fn apply<T: Task>(
        &self,
        task: T,
        args: T::Args,
    ) -> Result<Result<T::Output, Failure>, Refused> {
        let name = task.name();
        let counters = &self.shared.counters;
        if self.jobs.is_closed() {
            return Err(Refused);
        }
        // Encoded before a worker is taken, since the arguments' own
        // `Serialize` may call into this pool; into a buffer the thread
        // keeps, taken out meanwhile.
        let mut encoded = ENCODED.try_with(Cell::take).unwrap_or_default();
        encoded.clear();
        let written =
            crate::mpi::encoding_for_rank(|| message::encode_inline_into(&args, &mut encoded));
        if let Err(error) = written {
            // Counted as a call that failed, as on the other backends.
            counters.submitted();
            counters.finished();
            return Ok(Err(Failure::Task(TaskError::arguments(name, error))));
        }
        let Some(outcome) = self.apply_on_idle_link::<T::Output>(name, &encoded) else {
            // Every worker busy: a queued job, as `run_one`'s.
            let args = Message {
                wire: encoded,
                lent: Lent::default(),
            };
            return run_and_wait(counters, |reply| {
                self.submit(Job::one_unkillable(name, args, reply))
            });
        };
        if encoded.capacity() <= KEPT_ENCODED {
            let _ = ENCODED.try_with(|kept| kept.set(encoded));
        }
        Ok(outcome)
    }

    /// The round trip of a call of `task` whose arguments are `encoded`,
    /// made on this thread on a worker idle now; `None` if none is.
    fn apply_on_idle_link<R: TaskValue>(
        &self,
        task: &'static str,
        encoded: &[u8],
    ) -> Option<Result<R, Failure>> {
        let counters = &self.shared.counters;
        for slot in &self.slots {
            let Some(mut link) = slot.link.try_lock() else {
                continue;
            };
            // A link its driver has not greeted yet is the driver's.
            let Some(link) = link.as_mut().filter(|link| link.is_ready()) else {
                continue;
            };
            counters.submitted();
            let outcome = if let Some(why) = self.shared.refusal() {
                Err(why)
            } else {
                self.shared
                    .round_trip(link, task, false, encoded, |frame| {
                        // A rank's results are inline, never torn.
                        decode_reply::<R>(frame, task)
                            .unwrap_or_else(|Torn| Err(Torn::error(task)))
                            .map_err(Failure::Task)
                    })
                    .and_then(|outcome| outcome)
            };
            counters.finished();
            return Some(outcome);
        }
        None
    }

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
        let name = task.name();
        let items: Vec<T::Args> = chunk.into_iter().collect();
        match crate::mpi::encoding_for_rank(|| {
            codec::encode_arguments(name, &items, Route::InlineOnly)
        }) {
            Ok(args) => self.submit(Job::chunk(name, args, reply, len)),
            Err(error) => {
                reply.deliver(Err(Failure::Task(error)));
                Ok(())
            }
        }
    }

    pub(crate) fn close(&self) {
        self.jobs.close();
    }

    pub(crate) fn discard_pending(&self, why: &Failure) {
        self.jobs.discard(why);
    }

    /// Closes and fails the queued jobs; a running task cannot be stopped
    /// on a rank, and finishes.
    pub(crate) fn terminate(&self) {
        self.shared.terminated.store(true, Ordering::Release);
        self.close();
        self.discard_pending(&Failure::Terminated);
    }

    pub(crate) fn join(&self) {
        let drivers = std::mem::take(&mut *self.drivers.lock());
        let me = thread::current().id();
        for driver in drivers {
            // A pool dropped by a callback on one of its own drivers cannot
            // wait for it; it ends on its own once closed.
            if driver.thread().id() != me {
                let _ = driver.join();
            }
        }
    }
}

/// A driver's life: the greeting, jobs until the crew is closed, then the
/// link closes. A link the rank refused (its initializer failed, another
/// build) breaks the crew, like a process crew's worker that cannot start.
fn drive(slot: &Slot, receiver: &Receiver<Job>, shared: &Shared) {
    if let Some(link) = slot.link.lock().as_mut() {
        let failure = match link.ready() {
            Ok(()) => None,
            Err(NotReady::Initializer(error)) => Some(Failure::Initializer(error)),
            Err(NotReady::Lost(error)) => Some(Failure::Spawn(Arc::new(error))),
        };
        if let Some(failure) = failure {
            let _ = shared.broken.set(failure);
        }
    }
    for job in receiver {
        let mut link = slot.link.lock();
        match link.as_mut() {
            Some(link) => shared.serve(link, job),
            None => job.fail(Failure::Terminated),
        }
    }
    // Dropping the link closes it, after any job the rank is running.
    slot.link.lock().take();
}

/// The job of one call; `None` when the arguments cannot be serialized,
/// which has failed the call already.
fn job_of<T: Task>(task: T, args: &T::Args, reply: OneReply<T::Output>) -> Option<Job> {
    let name = task.name();
    match crate::mpi::encoding_for_rank(|| codec::encode_arguments(name, args, Route::InlineOnly)) {
        Ok(args) => Some(Job::one_unkillable(name, args, reply)),
        Err(error) => {
            reply.deliver(Err(Failure::Task(error)));
            None
        }
    }
}
