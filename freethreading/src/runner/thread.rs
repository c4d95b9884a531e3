//! Thread workers: a fixed crew of threads taking boxed jobs from one
//! multi-consumer channel (crossbeam's unbounded list channel).
//!
//! A job is a closure that runs a task (or a chunk of calls) and delivers the
//! outcome to its reply itself, so the crew knows nothing about tasks. It is
//! called with [`Run::Now`] to run, or with [`Run::Abandon`] to fail without
//! running: when the crew is terminated, broken by an initializer's panic, or
//! when pending jobs are cancelled. Closing drops the only sender, so each
//! worker finishes the queue and sees the channel disconnect.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::{Mutex, RwLock};

use super::initializer::{InitCall, InitCalls};
use super::reply::{ChunkReply, OneReply};
use super::stats::Counters;
use super::{Failure, Initializer, Refused};
use crate::current::{LiveWorker, register_worker};
use crate::task::{Task, unwind};

/// What a worker tells a job to do.
pub(crate) enum Run {
    Now,
    Abandon(Failure),
}

type Job = Box<dyn FnOnce(Run) + Send>;

pub(crate) struct Crew {
    /// `None` once closed: senders never outlive it, so closing disconnects.
    sender: RwLock<Option<Sender<Job>>>,
    /// Kept to discard queued jobs on terminate or cancel.
    receiver: Receiver<Job>,
    shared: Arc<Shared>,
    size: usize,
}

/// What the workers read before each job, and what a retiring worker needs
/// to start its successor.
struct Shared {
    terminated: AtomicBool,
    broken: OnceLock<Failure>,
    counters: Arc<Counters>,
    /// Jobs after which a worker hands over to a fresh thread.
    max_jobs: Option<usize>,
    initializer: Option<InitCalls>,
    /// Every worker thread started, successors included: grown as threads
    /// start, so a huge `size` fails as a spawn error, not an allocation.
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn verdict(&self) -> Run {
        if self.terminated.load(Ordering::Acquire) {
            Run::Abandon(Failure::Terminated)
        } else if let Some(why) = self.broken.get() {
            Run::Abandon(why.clone())
        } else {
            Run::Now
        }
    }
}

impl Crew {
    fn empty(size: usize, initializer: Option<InitCalls>, max_jobs: Option<usize>) -> Crew {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Crew {
            sender: RwLock::new(Some(sender)),
            receiver,
            shared: Arc::new(Shared {
                terminated: AtomicBool::new(false),
                broken: OnceLock::new(),
                counters: Arc::default(),
                max_jobs,
                initializer,
                handles: Mutex::new(Vec::new()),
            }),
            size,
        }
    }

    pub(crate) fn start(
        prefix: &str,
        size: usize,
        initializer: Option<&Initializer>,
        max_jobs: Option<usize>,
    ) -> io::Result<Crew> {
        let crew = Crew::empty(size, initializer.map(Initializer::calls), max_jobs);
        for i in 0..size {
            if let Err(error) = spawn_worker(format!("{prefix}_{i}"), &crew.receiver, &crew.shared)
            {
                crew.terminate();
                crew.join();
                return Err(error);
            }
        }
        Ok(crew)
    }

    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.shared.counters
    }

    pub(crate) fn unavailable(why: Failure) -> Crew {
        let crew = Crew::empty(0, None, None);
        let _ = crew.shared.broken.set(why);
        crew.close();
        crew
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn broken(&self) -> Option<Failure> {
        self.shared.broken.get().cloned()
    }

    fn submit(&self, job: Job) -> Result<(), Refused> {
        match &*self.sender.read() {
            Some(sender) => sender.send(job).map_err(|_| Refused),
            None => Err(Refused),
        }
    }

    pub(crate) fn run_one<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
    ) -> Result<(), Refused> {
        self.submit(Box::new(move |run| match run {
            Run::Now => {
                // A cancelled job's outcome is already published.
                if reply.start() {
                    reply.deliver(crate::strict::call(task, args).map_err(Failure::Task));
                }
            }
            Run::Abandon(why) => reply.deliver(Err(why)),
        }))
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
        self.submit(Box::new(move |run| match run {
            Run::Now if reply.wanted() => map_chunk(task, chunk, len, reply),
            Run::Now => reply.dismiss(),
            Run::Abandon(why) => reply.deliver(Err(why)),
        }))
    }

    pub(crate) fn close(&self) {
        self.sender.write().take();
    }

    pub(crate) fn discard_pending(&self, why: &Failure) {
        while let Ok(job) = self.receiver.try_recv() {
            job(Run::Abandon(why.clone()));
        }
    }

    pub(crate) fn terminate(&self) {
        self.shared.terminated.store(true, Ordering::Release);
        self.close();
        self.discard_pending(&Failure::Terminated);
    }

    pub(crate) fn join(&self) {
        let me = thread::current().id();
        // Until no thread is left: a worker that retires adds its successor
        // before it ends.
        loop {
            let handles = std::mem::take(&mut *self.shared.handles.lock());
            if handles.is_empty() {
                break;
            }
            for handle in handles {
                // A pool dropped by a callback running on one of its own workers
                // cannot wait for that worker; it exits on its own once closed.
                if handle.thread().id() != me {
                    let _ = handle.join();
                }
            }
        }
    }
}

/// Runs `task` over a chunk: straight into the output when the reply offers
/// a place there, else into a vector of results.
fn map_chunk<T, C>(task: T, chunk: C, len: usize, reply: ChunkReply<T::Output>)
where
    T: Task,
    C: IntoIterator<Item = T::Args>,
{
    if crate::strict::enabled() {
        // Item by item, as a worker process would decode and encode them.
        let outcome: Result<Vec<_>, _> = chunk
            .into_iter()
            .map(|args| crate::strict::call(task, args))
            .collect();
        reply.deliver(outcome.map_err(Failure::Task));
        return;
    }
    let placed = match reply.slot(len) {
        Some(mut slot) => Ok(unwind::catch(move || {
            slot.fill(chunk.into_iter().map(|args| task.call(args)));
            slot.commit()
        })),
        None => Err(chunk),
    };
    match placed {
        Ok(Ok(true)) => reply.deliver_placed(),
        // A task maps one argument tuple to one result, so a slot is always filled.
        Ok(Ok(false)) => reply.deliver(Err(Failure::Terminated)),
        Ok(Err(error)) => reply.deliver(Err(Failure::Task(error))),
        Err(chunk) => {
            // Collecting a `vec::IntoIter` map reuses the chunk's buffer when
            // arguments and results have the same size.
            let outcome = unwind::catch(|| chunk.into_iter().map(|args| task.call(args)).collect());
            reply.deliver(outcome.map_err(Failure::Task));
        }
    }
}

/// Starts the worker thread `name`, registered as alive before it runs.
fn spawn_worker(name: String, receiver: &Receiver<Job>, shared: &Arc<Shared>) -> io::Result<()> {
    let live = register_worker(name.clone(), true);
    let receiver = receiver.clone();
    let worker_shared = Arc::clone(shared);
    let init = shared.initializer.as_ref().map(|calls| calls());
    let handle = thread::Builder::new()
        .name(name.clone())
        .spawn(move || work(name, live, &receiver, &worker_shared, init))?;
    let mut handles = shared.handles.lock();
    // Retired threads that have ended are joined here, or each would keep
    // its stack until the crew's `join`.
    let (ended, running): (Vec<_>, Vec<_>) = handles.drain(..).partition(JoinHandle::is_finished);
    *handles = running;
    handles.push(handle);
    drop(handles);
    for thread in ended {
        let _ = thread.join();
    }
    Ok(())
}

/// A worker's life: initializer, then jobs until the channel disconnects or,
/// with `max_jobs`, until its quota is done and a successor has taken over.
fn work(
    name: String,
    live: LiveWorker,
    receiver: &Receiver<Job>,
    shared: &Arc<Shared>,
    init: Option<InitCall>,
) {
    live.enter();
    if let Some(init) = init {
        if let Err(error) = init() {
            // Like Python's `BrokenThreadPool`: the crew fails every job from now on.
            let _ = shared.broken.set(Failure::Initializer(error));
        }
    }
    // A terminated crew's workers end rather than hand over.
    if !run_jobs(receiver, shared, shared.max_jobs) || shared.terminated.load(Ordering::Acquire) {
        return;
    }
    // Its quota is done. Unregistered first, so that the successor of the
    // same name is the one alive; if it cannot start, this thread goes on.
    drop(live);
    log::info!(target: "freethreading", "worker {name} retired after {} jobs; replacing it", shared.max_jobs.unwrap_or(0));
    // Counted first, so that whoever has the successor's results sees it.
    shared.counters.retired();
    if spawn_worker(name.clone(), receiver, shared).is_err() {
        shared.counters.not_retired();
        let live = register_worker(name, true);
        live.enter();
        run_jobs(receiver, shared, None);
    }
}

/// Runs jobs until the channel disconnects (`false`) or `quota` jobs are
/// done (`true`).
fn run_jobs(receiver: &Receiver<Job>, shared: &Shared, quota: Option<usize>) -> bool {
    for (done, job) in receiver.iter().enumerate() {
        // A job catches its task's panic itself; what can still unwind here is
        // a user type's `Drop` panicking while a discarded result is dropped.
        // The worker must outlive that, or queued jobs would wait forever.
        let verdict = shared.verdict();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(verdict)));
        if quota.is_some_and(|quota| done + 1 >= quota) {
            return true;
        }
    }
    false
}
