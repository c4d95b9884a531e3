//! Process workers for a pool or executor: one long-lived child process per
//! worker, reached through a [`Link`] in a slot of its own, each slot served
//! by a driver of the parent (on a pooled thread, `process/monitors.rs`), all fed from one queue
//! of jobs (`runner/job_queue.rs`, shared with the MPI crew).
//!
//! A job is a task's name with its arguments already serialized (by the
//! caller's thread, so an argument that cannot be serialized fails its own
//! call at once, and so that the caller serializes the next chunk of a map
//! while a driver sends this one) and a reply that decodes the answer and
//! delivers it (`job.rs`). A driver waits for a job without holding its slot, then holds
//! the slot while it writes jobs and reads replies (`link.rs`), until no job
//! is left. A synchronous call (`WorkerPool::apply`) that finds a slot idle
//! takes it instead and does the round trip itself, which saves the two
//! thread wake-ups of going through a driver.
//!
//! A child that dies (a crash, a signal, out of memory) is an end of file on
//! its channel: the job it was running fails with the exit status or signal,
//! the jobs written behind it go to its replacement, which is started at
//! once. Termination hangs up every channel: each driver then kills its
//! child and fails what was in flight as terminated.

pub(super) mod job;
mod link;

use std::collections::VecDeque;
use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::{Condvar, Mutex};

use super::job_queue::JobQueue;
use super::reply::{ChunkReply, OneReply};
use super::stats::Counters;
use super::{Failure, Initializer, Refused};
use crate::codec;
use crate::codec::message::Route;
use crate::current::{LiveWorker, register_process};
use crate::process::monitors;
use crate::process::spawn::{Identity, NotReady, WorkerProcess};
use crate::process::wire::{FrameReader, SPIN};
use crate::sys::process::Channel;
use crate::task::Task;
use job::Job;

/// How many children in a row may be killed as they start before the crew
/// gives up on starting more.
const START_ATTEMPTS: usize = 3;

/// The target of this crate's log records.
const LOG: &str = "freethreading";

/// How often an idle driver checks that its child still lives.
const IDLE_CHECK: Duration = Duration::from_millis(100);

use link::{Link, Went};

pub(crate) struct Crew {
    jobs: JobQueue,
    shared: Arc<Shared>,
    slots: Vec<Arc<Slot>>,
    drivers: Mutex<Vec<DriverRun>>,
}

/// A driver running on a pooled monitor thread (`process/monitors.rs`):
/// the thread it runs on, and a channel that hangs up when it ends.
struct DriverRun {
    thread: Arc<OnceLock<ThreadId>>,
    done: mpsc::Receiver<()>,
}

/// What the drivers, the direct callers and the crew share.
struct Shared {
    terminated: AtomicBool,
    broken: OnceLock<Failure>,
    initializer: Option<(&'static str, Vec<u8>)>,
    counters: Arc<Counters>,
    /// Jobs after which a child is ended and replaced.
    max_jobs: Option<usize>,
    /// Retired children still being reaped, which `join` waits for.
    reaping: Arc<(Mutex<usize>, Condvar)>,
}

/// One worker: its link, and a second handle on its channel to hang up.
struct Slot {
    name: String,
    link: Mutex<Link>,
    /// Locked apart from `link`, which a driver holds while it waits for
    /// replies: terminate must not wait for that.
    hangup: Mutex<Option<Channel>>,
    /// Tells the slot's driver that its child died under a direct caller,
    /// so that it starts a replacement without waiting for a job.
    nudge: (Sender<()>, Receiver<()>),
}

impl Shared {
    /// Why jobs cannot run now, if they cannot.
    fn refusal(&self) -> Option<Failure> {
        if self.terminated.load(Ordering::Acquire) {
            Some(Failure::Terminated)
        } else {
            self.broken.get().cloned()
        }
    }

    /// Spawns a child for `slot` (on the calling thread, which the child
    /// dies with) and counts it as alive.
    fn spawn_child(&self, slot: &Slot) -> io::Result<(WorkerProcess, LiveWorker)> {
        let identity = Identity {
            name: &slot.name,
            daemon: true,
            initializer: self
                .initializer
                .as_ref()
                .map(|(task, args)| (*task, args.as_slice())),
            one_shot: false,
        };
        let process = WorkerProcess::spawn(&identity)?;
        let live = register_process(slot.name.clone(), process.pid(), true);
        Ok((process, live))
    }

    /// Starts a child for `slot` (or takes `spawned`, one just started),
    /// greets it, and attaches it to `link`. A child killed while it started
    /// is tried again, up to [`START_ATTEMPTS`] times; one that cannot serve
    /// breaks the crew.
    fn start_child(
        &self,
        slot: &Slot,
        link: &mut Link,
        mut spawned: Option<(WorkerProcess, LiveWorker)>,
    ) {
        let mut last_killed = None;
        for _ in 0..START_ATTEMPTS {
            if self.refusal().is_some() {
                // A child started before the crew was terminated (a pool
                // dropped at once) is ended here, or it would stay a zombie.
                if let Some((mut process, live)) = spawned.take() {
                    process.kill_and_reap();
                    drop(live);
                }
                return;
            }
            match spawned.take().map_or_else(|| self.spawn_child(slot), Ok) {
                Ok((process, live)) => match self.greet(slot, link, process, live) {
                    Ok(()) => return,
                    Err(Greeting::Killed(error)) => last_killed = Some(error),
                    Err(Greeting::Failed(failure)) => {
                        return self.break_unless_terminated(failure);
                    }
                },
                Err(error) => return self.break_unless_terminated(Failure::Spawn(Arc::new(error))),
            }
        }
        let last = last_killed.map_or_else(String::new, |error| format!(": {error}"));
        self.break_unless_terminated(Failure::Spawn(Arc::new(io::Error::other(format!(
            "{START_ATTEMPTS} worker processes in a row were killed as they started{last}"
        )))));
    }

    /// Reads the hello of a started child and attaches it to `link`, once
    /// it is ready. Otherwise the child is gone, and the error says whether
    /// another one may be tried ([`Greeting::Killed`]) or not.
    fn greet(
        &self,
        slot: &Slot,
        link: &mut Link,
        mut process: WorkerProcess,
        live: LiveWorker,
    ) -> Result<(), Greeting> {
        *slot.hangup.lock() = process.channel.try_clone().ok();
        if self.terminated.load(Ordering::Acquire) {
            let _ = process.channel.shutdown(Shutdown::Both);
        }
        let mut reader = FrameReader::new();
        match process.await_hello(&mut reader) {
            Ok(()) => {
                log::debug!(target: LOG, "worker {} started as process {}", slot.name, process.pid());
                link.attach((process, live), reader);
                Ok(())
            }
            Err(NotReady::Killed(error)) => Err(Greeting::Killed(error)),
            Err(NotReady::Initializer(error)) => Err(Greeting::Failed(Failure::Initializer(error))),
            Err(NotReady::Lost(error)) => Err(Greeting::Failed(Failure::Spawn(Arc::new(error)))),
        }
    }

    /// Logs and counts why a child was lost: counted before its job's
    /// outcome is delivered, so that whoever has the outcome sees it.
    fn record_loss(&self, slot: &Slot, went: &Went) {
        match went {
            Went::Overdue | Went::Cancelled => {
                log::info!(target: LOG, "worker {} killed: {}; replacing it", slot.name, went.describe());
                self.counters.killed();
            }
            _ if self.refusal().is_none() => {
                log::warn!(target: LOG, "worker {} lost its job ({}); replacing it", slot.name, went.describe());
                self.counters.died();
            }
            _ => {}
        }
    }

    /// Ends the child of `link`, which has answered its quota of jobs.
    fn retire(&self, slot: &Slot, link: &mut Link) {
        log::info!(
            target: LOG,
            "worker {} retired after {} jobs; replacing it",
            slot.name,
            link.jobs_started()
        );
        if let Some(child) = link.retire() {
            self.reap_later(child);
        }
        self.counters.retired();
    }

    /// Reaps a retired child on a monitor thread, so that its successor
    /// need not wait for it to exit; `join` waits for it.
    fn reap_later(&self, child: (WorkerProcess, LiveWorker)) {
        *self.reaping.0.lock() += 1;
        let leaving = Arc::new(Mutex::new(Some(child)));
        let reap = {
            let (leaving, reaping) = (Arc::clone(&leaving), Arc::clone(&self.reaping));
            move || reap_now(&leaving, &reaping)
        };
        if monitors::run(Box::new(reap)).is_err() {
            // No monitor to be had: it is reaped here after all.
            reap_now(&leaving, &self.reaping);
        }
    }

    /// Whether the child of `link` has been written its quota of jobs.
    fn at_quota(&self, link: &Link) -> bool {
        link.has_child() && self.max_jobs.is_some_and(|max| link.jobs_started() >= max)
    }

    /// Marks the crew broken, unless it was terminated: a worker that could
    /// not start because the crew hung up on it is no failure of its own.
    fn break_unless_terminated(&self, failure: Failure) {
        if !self.terminated.load(Ordering::Acquire) {
            log::error!(target: LOG, "the crew is broken and runs no more jobs: {failure:?}");
            let _ = self.broken.set(failure);
        }
    }

    /// Writes `job` (and, from a driver, more jobs from `more`) to the child
    /// of `slot` and delivers replies until nothing is in flight. A driver
    /// replaces the child each time it dies. A direct caller leaves that to
    /// the driver, since a child dies with the thread that started it, and
    /// gets back the jobs it could not run for want of a child.
    fn serve(
        &self,
        slot: &Slot,
        link: &mut Link,
        job: Job,
        more: Option<&Receiver<Job>>,
    ) -> Vec<Job> {
        let driver = more.is_some();
        let mut waiting: VecDeque<Job> = VecDeque::from([job]);
        let mut homeless = Vec::new();
        let mut successor = Successor(None);
        loop {
            while link.has_room() {
                // A child at its quota takes no more from the crew's queue,
                // where an idle worker may take them.
                let at_quota = self.at_quota(link);
                let next = waiting.pop_front().or_else(|| {
                    more.filter(|_| !at_quota)
                        .and_then(|jobs| jobs.try_recv().ok())
                });
                let Some(mut job) = next else { break };
                if let Some(why) = self.refusal() {
                    job.fail(why);
                    continue;
                }
                if !link.fits(&job) {
                    waiting.push_front(job);
                    break;
                }
                if !link.is_busy() && link.child_exited() {
                    log::warn!(target: LOG, "worker {} died while idle; replacing it", slot.name);
                    self.counters.died();
                    waiting.extend(link.bury(&Went::Unread, None));
                }
                if self.at_quota(link) {
                    // Its quota is written: it ends once it has answered.
                    // Meanwhile a driver starts its successor, whose start-up
                    // then overlaps those last jobs.
                    if link.is_busy() {
                        if driver && successor.0.is_none() && self.refusal().is_none() {
                            successor.0 = self.spawn_child(slot).ok();
                        }
                        waiting.push_front(job);
                        break;
                    }
                    self.retire(slot, link);
                }
                if !link.has_child() && driver {
                    self.start_child(slot, link, successor.0.take());
                }
                if !link.has_child() {
                    if driver {
                        job.fail(self.refusal().unwrap_or(Failure::Terminated));
                    } else {
                        homeless.push(job);
                    }
                    continue;
                }
                // Past its deadline, or cancelled after it was sent back from
                // a child that died: it never starts.
                if job.overdue(Instant::now()) {
                    job.fail(Failure::DeadlineExceeded);
                    continue;
                }
                if job.kill_requested() {
                    job.fail(Failure::Cancelled);
                    continue;
                }
                if !job.start() {
                    job.dismiss();
                    continue;
                }
                link.push(job);
            }
            if !link.is_busy() {
                if waiting.is_empty() {
                    return homeless;
                }
                continue;
            }
            let went = link.exchange();
            if !matches!(went, Went::Fine) {
                self.record_loss(slot, &went);
                let unstarted = link.bury(&went, self.refusal());
                waiting.extend(unstarted);
                if driver {
                    self.start_child(slot, link, successor.0.take());
                }
            }
        }
    }
}

impl Crew {
    pub(crate) fn start(
        prefix: &str,
        size: usize,
        initializer: Option<&Initializer>,
        max_jobs: Option<usize>,
    ) -> Result<Crew, Failure> {
        let initializer = match initializer {
            Some(init) => Some((
                init.name(),
                init.serialized_args()
                    .map_err(Failure::Initializer)?
                    .to_vec(),
            )),
            None => None,
        };
        let mut crew = Crew {
            jobs: JobQueue::new(),
            shared: Arc::new(Shared {
                terminated: AtomicBool::new(false),
                broken: OnceLock::new(),
                initializer,
                counters: Arc::default(),
                max_jobs,
                reaping: Arc::default(),
            }),
            slots: Vec::new(),
            drivers: Mutex::new(Vec::new()),
        };
        // Every driver starts its child at once, and only then are they
        // waited for: on a machine with cores to spare the children start
        // side by side, rather than each after the last one's `exec`.
        let mut starting = Vec::with_capacity(size);
        let mut failed = None;
        for i in 0..size {
            match crew.add_worker(format!("{prefix}_{i}")) {
                Ok(started) => starting.push(started),
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
        }
        for started in starting {
            let outcome = started.recv().unwrap_or_else(|_| {
                Err(io::Error::other(
                    "a worker's driver ended before starting it",
                ))
            });
            if let Err(error) = outcome {
                failed.get_or_insert(error);
            }
        }
        if let Some(error) = failed {
            crew.terminate();
            crew.join();
            return Err(Failure::Spawn(Arc::new(error)));
        }
        Ok(crew)
    }

    /// Starts one driver, which starts its child (a child dies with the
    /// thread that started it): the receiver says whether it has. A pool
    /// that cannot start its workers fails to build. The driver reads the
    /// hello.
    fn add_worker(&mut self, name: String) -> io::Result<mpsc::Receiver<io::Result<()>>> {
        let slot = Arc::new(Slot {
            name,
            link: Mutex::new(Link::new()),
            hangup: Mutex::new(None),
            nudge: crossbeam_channel::unbounded(),
        });
        let driver = Driver {
            slot: Arc::clone(&slot),
            receiver: self.jobs.receiver(),
            shared: Arc::clone(&self.shared),
        };
        let (started_tx, started) = mpsc::sync_channel(1);
        let (done_tx, done) = mpsc::channel::<()>();
        let thread = Arc::new(OnceLock::new());
        let on = Arc::clone(&thread);
        // On a pooled thread, like a `Worker`'s monitor: a thread's first
        // `posix_spawn` costs several times the next ones on some virtual
        // machines, which a pool of 8 paid 8 times over.
        monitors::run(Box::new(move || {
            let _ = on.set(thread::current().id());
            driver.run(&started_tx);
            drop(done_tx);
        }))?;
        self.drivers.lock().push(DriverRun { thread, done });
        self.slots.push(slot);
        Ok(started)
    }

    /// Every slot was started, or the crew was not made.
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
        self.jobs.submit(job)
    }

    pub(crate) fn run_one<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
        deadline: Option<Instant>,
    ) -> Result<(), Refused> {
        match job_of(task, args, reply) {
            Some(mut job) => {
                job.deadline = deadline;
                self.submit(job)
            }
            None => Ok(()),
        }
    }

    /// As [`run_one`](Self::run_one), for a caller about to wait for the
    /// outcome: on an idle worker the round trip is made on this thread.
    pub(crate) fn run_one_now<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
    ) -> Result<(), Refused> {
        let Some(mut job) = job_of(task, args, reply) else {
            return Ok(());
        };
        if self.jobs.is_closed() {
            return Err(Refused);
        }
        for slot in &self.slots {
            let Some(mut link) = slot.link.try_lock() else {
                continue;
            };
            if !link.is_idle() {
                continue;
            }
            if link.child_exited() {
                // A child that died idle is for its driver to replace.
                let _ = slot.nudge.0.send(());
                continue;
            }
            if !job.start() {
                job.dismiss();
                return Ok(());
            }
            let homeless = self.shared.serve(slot, &mut link, job, None);
            if !link.has_child() {
                // The child died on this thread's watch; its driver replaces it.
                let _ = slot.nudge.0.send(());
            }
            drop(link);
            for job in homeless {
                self.submit(job)?;
            }
            return Ok(());
        }
        self.submit(job)
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
        match codec::encode_arguments(name, &items, Route::MayShare) {
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

    pub(crate) fn terminate(&self) {
        self.shared.terminated.store(true, Ordering::Release);
        self.close();
        self.discard_pending(&Failure::Terminated);
        for slot in &self.slots {
            if let Some(channel) = slot.hangup.lock().take() {
                let _ = channel.shutdown(Shutdown::Both);
            }
        }
    }

    pub(crate) fn join(&self) {
        let drivers = std::mem::take(&mut *self.drivers.lock());
        let me = thread::current().id();
        for driver in drivers {
            // A pool dropped by a callback running on one of its own drivers
            // cannot wait for that driver; it exits on its own once closed.
            if driver.thread.get() != Some(&me) {
                // Hangs up when the driver is done, or if it panicked.
                let _ = driver.done.recv();
            }
        }
        // And the retired children, which monitor threads reap.
        let (count, reaped) = &*self.shared.reaping;
        let mut left = count.lock();
        while *left > 0 {
            reaped.wait(&mut left);
        }
    }
}

/// The job of one call; `None` when the arguments cannot be serialized,
/// which has failed the call already.
fn job_of<T: Task>(task: T, args: T::Args, reply: OneReply<T::Output>) -> Option<Job> {
    let name = task.name();
    match codec::encode_owned_arguments(name, args, Route::MayShare) {
        Ok(args) => Some(Job::one(name, args, reply)),
        Err(error) => {
            reply.deliver(Err(Failure::Task(error)));
            None
        }
    }
}

/// The thread that serves one slot from the crew's queue of jobs.
struct Driver {
    slot: Arc<Slot>,
    receiver: Receiver<Job>,
    shared: Arc<Shared>,
}

impl Driver {
    fn run(self, started: &std::sync::mpsc::SyncSender<io::Result<()>>) {
        {
            let mut link = self.slot.link.lock();
            let spawned = match self.shared.spawn_child(&self.slot) {
                Ok(spawned) => spawned,
                Err(error) => {
                    let _ = started.send(Err(error));
                    return;
                }
            };
            let _ = started.send(Ok(()));
            self.shared
                .start_child(&self.slot, &mut link, Some(spawned));
        }
        // Waits for a job without holding the slot, so that a direct caller
        // may use the idle worker meanwhile.
        // No poll after an idle check: nothing came in the last 100 ms.
        let mut poll = true;
        loop {
            let next = self.next_job(poll);
            poll = matches!(next, Next::Job(_));
            let mut link = self.slot.link.lock();
            match next {
                Next::Job(job) => {
                    link.settle();
                    self.shared
                        .serve(&self.slot, &mut link, job, Some(&self.receiver));
                }
                Next::Replace => {
                    if !link.is_busy() && link.child_exited() {
                        log::warn!(target: LOG, "worker {} died while idle; replacing it", self.slot.name);
                        self.shared.counters.died();
                        link.bury(&Went::Unread, None);
                    }
                    if !link.has_child() {
                        self.shared.start_child(&self.slot, &mut link, None);
                    }
                }
                Next::Closed => break,
            }
        }
        self.slot.hangup.lock().take();
        self.slot.link.lock().close();
    }

    /// The next job, polling for [`SPIN`] (if `poll`) before sleeping: back-to-back
    /// calls (the chunks of successive maps) then never wait for this thread
    /// to wake, which costs tens of microseconds on some virtual machines.
    fn next_job(&self, poll: bool) -> Next {
        let start = Instant::now();
        while poll && start.elapsed() < SPIN {
            if self.slot.nudge.1.try_recv().is_ok() {
                return Next::Replace;
            }
            match self.receiver.try_recv() {
                Ok(job) => return Next::Job(job),
                Err(TryRecvError::Disconnected) => return Next::Closed,
                Err(TryRecvError::Empty) => thread::yield_now(),
            }
        }
        crossbeam_channel::select! {
            recv(self.receiver) -> job => job.map_or(Next::Closed, Next::Job),
            recv(self.slot.nudge.1) -> _ => Next::Replace,
            // An idle child killed from outside is replaced within this,
            // not only when a job comes for it (as Python's pool checks
            // its workers every 0.1 s).
            default(IDLE_CHECK) => Next::Replace,
        }
    }
}

/// Reaps the retired child left in `leaving`, and counts it off `reaping`.
fn reap_now(
    leaving: &Mutex<Option<(WorkerProcess, LiveWorker)>>,
    reaping: &(Mutex<usize>, Condvar),
) {
    if let Some((mut process, live)) = leaving.lock().take() {
        process.reap();
        drop(live);
    }
    *reaping.0.lock() -= 1;
    reaping.1.notify_all();
}

/// A child started ahead of need, while the one it replaces answers its last
/// jobs; ended and reaped if it is never used.
struct Successor(Option<(WorkerProcess, LiveWorker)>);

impl Drop for Successor {
    fn drop(&mut self) {
        if let Some((mut process, live)) = self.0.take() {
            process.kill_and_reap();
            drop(live);
        }
    }
}

/// Why a started child is not serving.
enum Greeting {
    /// It was killed as it started: another may be tried.
    Killed(io::Error),
    /// It cannot serve (another build, an initializer that failed, a binary
    /// that never takes over): the crew breaks.
    Failed(Failure),
}

/// What wakes a driver.
enum Next {
    Job(Job),
    /// The slot's child died under a direct caller, or the idle check came
    /// due: see whether the child needs replacing.
    Replace,
    /// The crew is closed and its queue drained.
    Closed,
}
