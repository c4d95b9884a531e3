//! Process workers for a pool or executor: one long-lived child process per
//! worker, reached through a [`Link`] in a slot of its own, each slot served
//! by a driver thread of the parent, all fed from one multi-consumer channel
//! of jobs (crossbeam's unbounded list channel).
//!
//! A job is a task's name with its arguments already serialized (by the
//! caller's thread, so an argument that cannot be serialized fails its own
//! call at once) and a reply that decodes the answer and delivers it
//! (`job.rs`). A driver waits for a job without holding its slot, then holds
//! the slot while it writes jobs and reads replies (`link.rs`), until no job
//! is left. A synchronous call (`WorkerPool::apply`) that finds a slot idle
//! takes it instead and does the round trip itself, which saves the two
//! thread wake-ups of going through a driver.
//!
//! A child that dies (a crash, a signal, out of memory) is an end of file on
//! its channel: the job it was running fails with the exit status or signal,
//! the jobs written behind it go to its replacement, which is started at
//! once. Termination hangs up every channel, which makes the children exit
//! on their own (their hang-up watcher) and fails what was in flight as
//! terminated.

mod job;
mod link;

use std::collections::VecDeque;
use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::{Mutex, RwLock};

use super::reply::{ChunkReply, OneReply};
use super::{Failure, Initializer, Refused};
use crate::codec;
use crate::current::register_process;
use crate::process::spawn::{Identity, NotReady, WorkerProcess};
use crate::process::wire::{FrameReader, SPIN};
use crate::sys::process::Channel;
use crate::task::{Task, TaskError};
use job::Job;
use link::{Link, Went};

pub(crate) struct Crew {
    /// `None` once closed: senders never outlive it, so closing disconnects.
    sender: RwLock<Option<Sender<Job>>>,
    /// Kept to discard queued jobs on terminate or cancel.
    receiver: Receiver<Job>,
    shared: Arc<Shared>,
    slots: Vec<Arc<Slot>>,
    drivers: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

/// What the drivers, the direct callers and the crew share.
struct Shared {
    terminated: AtomicBool,
    broken: OnceLock<Failure>,
    initializer: Option<(&'static str, Vec<u8>)>,
}

/// One worker: its link, and a second handle on its channel to hang up.
struct Slot {
    name: String,
    link: Mutex<Link>,
    /// Locked apart from `link`, which a driver holds while it waits for
    /// replies: terminate must not wait for that.
    hangup: Mutex<Option<Channel>>,
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

    /// Starts a child for `slot`, greets it, and attaches it to `link`; a
    /// child that cannot serve breaks the crew.
    fn start_child(&self, slot: &Slot, link: &mut Link) {
        if self.refusal().is_some() {
            return;
        }
        let identity = Identity {
            name: &slot.name,
            daemon: true,
            initializer: self
                .initializer
                .as_ref()
                .map(|(task, args)| (*task, args.as_slice())),
            one_shot: false,
        };
        let failure = match WorkerProcess::spawn(&identity) {
            Ok(mut process) => {
                let live = register_process(slot.name.clone(), process.pid(), true);
                *slot.hangup.lock() = process.channel.try_clone().ok();
                if self.terminated.load(Ordering::Acquire) {
                    let _ = process.channel.shutdown(Shutdown::Both);
                }
                let mut reader = FrameReader::new();
                let greeted = process.await_hello(&mut reader);
                link.attach((process, live), reader);
                match greeted {
                    Ok(()) => return,
                    Err(NotReady::Initializer(error)) => Failure::Initializer(error),
                    Err(NotReady::Lost(error) | NotReady::WrongBuild(error)) => {
                        Failure::Spawn(Arc::new(error))
                    }
                }
            }
            Err(error) => Failure::Spawn(Arc::new(error)),
        };
        let _ = self.broken.set(failure);
    }

    /// Writes `job` (and, from a driver, more jobs from `more`) to the child
    /// of `slot` and delivers replies until nothing is in flight. A driver
    /// replaces the child each time it dies; a direct caller leaves that to
    /// the driver, since a child dies with the thread that started it.
    fn serve(&self, slot: &Slot, link: &mut Link, job: Job, more: Option<&Receiver<Job>>) {
        let driver = more.is_some();
        let mut waiting: VecDeque<Job> = VecDeque::from([job]);
        loop {
            let written_before = usize::from(link.is_busy());
            while link.has_room() {
                let next = waiting
                    .pop_front()
                    .or_else(|| more.and_then(|jobs| jobs.try_recv().ok()));
                let Some(mut job) = next else { break };
                if let Some(why) = self.refusal() {
                    job.fail(why);
                    continue;
                }
                if !link.is_busy() && link.child_exited() {
                    let went = Went::Unread;
                    waiting.extend(link.bury(&went, None));
                }
                if !link.has_child() && driver {
                    self.start_child(slot, link);
                }
                if job.is_nudge() {
                    continue;
                }
                if !link.has_child() {
                    job.fail(self.refusal().unwrap_or(Failure::Terminated));
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
                    return;
                }
                continue;
            }
            let went = link.exchange(written_before);
            if !matches!(went, Went::Fine) {
                let unstarted = link.bury(&went, self.refusal());
                waiting.extend(unstarted);
                if driver {
                    self.start_child(slot, link);
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
        let (sender, receiver) = crossbeam_channel::unbounded();
        let mut crew = Crew {
            sender: RwLock::new(Some(sender)),
            receiver,
            shared: Arc::new(Shared {
                terminated: AtomicBool::new(false),
                broken: OnceLock::new(),
                initializer,
            }),
            slots: Vec::new(),
            drivers: Mutex::new(Vec::new()),
            size,
        };
        for i in 0..size {
            if let Err(error) = crew.add_worker(format!("{prefix}_{i}")) {
                crew.terminate();
                crew.join();
                return Err(Failure::Spawn(Arc::new(error)));
            }
        }
        Ok(crew)
    }

    /// Starts one driver, which starts its child (a child dies with the
    /// thread that started it), and waits until it has: a pool that cannot
    /// start its workers fails to build. The driver reads the hello.
    fn add_worker(&mut self, name: String) -> io::Result<()> {
        let slot = Arc::new(Slot {
            name,
            link: Mutex::new(Link::new()),
            hangup: Mutex::new(None),
        });
        let driver = Driver {
            slot: Arc::clone(&slot),
            receiver: self.receiver.clone(),
            shared: Arc::clone(&self.shared),
        };
        let (started_tx, started) = std::sync::mpsc::sync_channel(1);
        let handle = thread::Builder::new()
            .name(format!("{} (driver)", slot.name))
            .spawn(move || driver.run(&started_tx))?;
        self.drivers.lock().push(handle);
        match started.recv() {
            Ok(Ok(())) => {
                self.slots.push(slot);
                Ok(())
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other(
                "a worker's driver ended before starting it",
            )),
        }
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

    /// As [`run_one`](Self::run_one), for a caller about to wait for the
    /// outcome: on an idle worker the round trip is made on this thread.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "the same signature as the thread crew's, which moves the arguments"
    )]
    pub(crate) fn run_one_now<T: Task>(
        &self,
        task: T,
        args: T::Args,
        reply: OneReply<T::Output>,
    ) -> Result<(), Refused> {
        let Some(mut job) = job_of(task, &args, reply) else {
            return Ok(());
        };
        if self.sender.read().is_none() {
            return Err(Refused);
        }
        for slot in &self.slots {
            let Some(mut link) = slot.link.try_lock() else {
                continue;
            };
            if !link.is_idle() {
                continue;
            }
            if !job.start() {
                job.dismiss();
                return Ok(());
            }
            self.shared.serve(slot, &mut link, job, None);
            if !link.has_child() {
                // The child died on this thread's watch; its driver replaces it.
                drop(link);
                let _ = self.submit(Job::nudge());
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
        match codec::encode(&items) {
            Ok(args) => self.submit(Job::chunk(name, args, reply, len)),
            Err(e) => {
                let error = TaskError::serialization(format!("arguments of `{name}`: {e}"));
                reply.deliver(Err(Failure::Task(error)));
                Ok(())
            }
        }
    }

    pub(crate) fn close(&self) {
        self.sender.write().take();
    }

    pub(crate) fn discard_pending(&self, why: &Failure) {
        while let Ok(job) = self.receiver.try_recv() {
            job.fail(why.clone());
        }
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
            if driver.thread().id() != me {
                let _ = driver.join();
            }
        }
    }
}

/// The job of one call; `None` when the arguments cannot be serialized,
/// which has failed the call already.
fn job_of<T: Task>(task: T, args: &T::Args, reply: OneReply<T::Output>) -> Option<Job> {
    let name = task.name();
    match codec::encode(args) {
        Ok(args) => Some(Job::one(name, args, reply)),
        Err(e) => {
            let error = TaskError::serialization(format!("arguments of `{name}`: {e}"));
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
            let identity = Identity {
                name: &self.slot.name,
                daemon: true,
                initializer: self
                    .shared
                    .initializer
                    .as_ref()
                    .map(|(task, args)| (*task, args.as_slice())),
                one_shot: false,
            };
            let mut process = match WorkerProcess::spawn(&identity) {
                Ok(process) => process,
                Err(error) => {
                    let _ = started.send(Err(error));
                    return;
                }
            };
            let live = register_process(self.slot.name.clone(), process.pid(), true);
            *self.slot.hangup.lock() = process.channel.try_clone().ok();
            let _ = started.send(Ok(()));
            let mut reader = FrameReader::new();
            let greeted = process.await_hello(&mut reader);
            link.attach((process, live), reader);
            let failure = match greeted {
                Ok(()) => None,
                Err(NotReady::Initializer(error)) => Some(Failure::Initializer(error)),
                Err(NotReady::Lost(error) | NotReady::WrongBuild(error)) => {
                    Some(Failure::Spawn(Arc::new(error)))
                }
            };
            if let Some(failure) = failure {
                let _ = self.shared.broken.set(failure);
            }
        }
        // Waits for a job without holding the slot, so that a direct caller
        // may use the idle worker meanwhile.
        while let Some(job) = self.next_job() {
            let mut link = self.slot.link.lock();
            link.settle();
            self.shared
                .serve(&self.slot, &mut link, job, Some(&self.receiver));
        }
        self.slot.hangup.lock().take();
        self.slot.link.lock().close();
    }

    /// The next job, polling for [`SPIN`] before sleeping: back-to-back
    /// calls (the chunks of successive maps) then never wait for this thread
    /// to wake, which costs tens of microseconds on some virtual machines.
    /// `None` once the crew is closed and the queue drained.
    fn next_job(&self) -> Option<Job> {
        let start = Instant::now();
        while start.elapsed() < SPIN {
            match self.receiver.try_recv() {
                Ok(job) => return Some(job),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => thread::yield_now(),
            }
        }
        self.receiver.recv().ok()
    }
}
