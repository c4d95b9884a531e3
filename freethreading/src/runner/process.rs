//! Process workers for a pool or executor: one long-lived child process per
//! worker, each served by a driver thread of the parent, all fed from one
//! multi-consumer channel of jobs (crossbeam's unbounded list channel).
//!
//! A job is a task's name with its arguments already serialized (by the
//! caller's thread, so an argument that cannot be serialized fails its own
//! call at once) and a [`Reply`] that decodes the answer and delivers it. A
//! driver takes a job when its child is idle, writes it, and reads the
//! reply; replies come back in the order of the jobs.
//!
//! While its jobs are quick (under [`QUICK`] each), a driver keeps up to
//! [`PIPELINE`] of them in flight: many small jobs then share each system
//! call and each wake-up of the child. A slow job brings it back to one at a
//! time, so that a long task never holds back queued jobs while another
//! worker is idle.
//!
//! A child that dies (a crash, a signal, out of memory) is an end of file on
//! its channel: the job it was running fails with the exit status or signal,
//! the jobs queued behind it go to its replacement, which the driver starts
//! at once. Termination hangs up every channel, which makes the children exit
//! on their own (their hang-up watcher) and the drivers fail what was in
//! flight as terminated.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::{Mutex, RwLock};

use super::reply::{ChunkReply, OneReply};
use super::{Failure, Initializer, Refused};
use crate::codec;
use crate::current::{LiveWorker, register_process};
use crate::process::spawn::{Identity, NotReady, WorkerProcess};
use crate::process::wire::{FrameReader, FrameWriter, JobHeader, ReplyHeader, split};
use crate::sys::Channel;
use crate::task::{Task, TaskError, TaskValue};
use crate::worker::decode_reply;

/// The most jobs a driver keeps in flight to a child whose jobs are quick.
const PIPELINE: usize = 64;
/// A job that took less than this in its child counts as quick.
const QUICK: Duration = Duration::from_micros(100);

/// A job with its arguments serialized, and where its answer goes.
struct Job {
    task: &'static str,
    chunk: bool,
    args: Vec<u8>,
    reply: Box<dyn Reply>,
    /// Whether it was started once already: sent to a child that died
    /// before it could begin it.
    started: bool,
}

/// The far end of a job: decodes its answer, or reports why there is none.
trait Reply: Send {
    /// Marks the job started; `false` when it was cancelled or is no longer wanted.
    fn start(&mut self) -> bool;
    /// Delivers the answer in a reply frame.
    fn finish(self: Box<Self>, frame: &[u8], task: &str);
    /// Delivers a failure instead.
    fn fail(self: Box<Self>, why: Failure);
    /// Drops a job that [`start`](Reply::start) refused, without an outcome.
    fn dismiss(self: Box<Self>);
}

struct One<R: Send>(OneReply<R>);

impl<R: TaskValue> Reply for One<R> {
    fn start(&mut self) -> bool {
        self.0.start()
    }

    fn finish(self: Box<Self>, frame: &[u8], task: &str) {
        self.0
            .deliver(decode_reply::<R>(frame, task).map_err(Failure::Task));
    }

    fn fail(self: Box<Self>, why: Failure) {
        self.0.deliver(Err(why));
    }

    // A cancelled job's outcome is already published; dropping the reply is a no-op.
    fn dismiss(self: Box<Self>) {}
}

struct Chunk<R> {
    reply: ChunkReply<R>,
    len: usize,
}

impl<R: TaskValue> Reply for Chunk<R> {
    fn start(&mut self) -> bool {
        self.reply.wanted()
    }

    fn finish(self: Box<Self>, frame: &[u8], task: &str) {
        let outcome = decode_reply::<Vec<R>>(frame, task).and_then(|results| {
            if results.len() == self.len {
                Ok(results)
            } else {
                Err(TaskError::serialization(format!(
                    "results of `{task}`: {} for a chunk of {} arguments",
                    results.len(),
                    self.len
                )))
            }
        });
        self.reply.deliver(outcome.map_err(Failure::Task));
    }

    fn fail(self: Box<Self>, why: Failure) {
        self.reply.deliver(Err(why));
    }

    fn dismiss(self: Box<Self>) {
        self.reply.dismiss();
    }
}

pub(crate) struct Crew {
    /// `None` once closed: senders never outlive it, so closing disconnects.
    sender: RwLock<Option<Sender<Job>>>,
    /// Kept to discard queued jobs on terminate or cancel.
    receiver: Receiver<Job>,
    shared: Arc<Shared>,
    drivers: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

/// What the drivers and the crew share.
struct Shared {
    terminated: AtomicBool,
    broken: OnceLock<Failure>,
    /// A second handle on each worker's channel, by worker name, to hang up
    /// on terminate. A replacement's takes the place of the dead child's.
    channels: Mutex<HashMap<String, Channel>>,
    initializer: Option<(&'static str, Vec<u8>)>,
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

    /// Starts a child for worker `name` and waits for its hello.
    fn start_child(&self, name: &str) -> Result<(WorkerProcess, LiveWorker), Failure> {
        let identity = Identity {
            name,
            daemon: true,
            initializer: self
                .initializer
                .as_ref()
                .map(|(task, args)| (*task, args.as_slice())),
        };
        let spawn_failure = |e: io::Error| Failure::Spawn(Arc::new(e));
        let process = WorkerProcess::spawn(&identity).map_err(spawn_failure)?;
        let live = register_process(name.to_owned(), process.pid(), true);
        if let Ok(watch) = process.channel.try_clone() {
            self.channels.lock().insert(name.to_owned(), watch);
        }
        Ok((process, live))
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
        let crew = Crew {
            sender: RwLock::new(Some(sender)),
            receiver,
            shared: Arc::new(Shared {
                terminated: AtomicBool::new(false),
                broken: OnceLock::new(),
                channels: Mutex::new(HashMap::new()),
                initializer,
            }),
            drivers: Mutex::new(Vec::new()),
            size,
        };
        for i in 0..size {
            let name = format!("{prefix}_{i}");
            let started = crew.shared.start_child(&name).and_then(|(process, live)| {
                let driver = Driver {
                    name: name.clone(),
                    receiver: crew.receiver.clone(),
                    shared: Arc::clone(&crew.shared),
                };
                thread::Builder::new()
                    .name(format!("{name} (driver)"))
                    .spawn(move || driver.run(process, live))
                    .map_err(|e| Failure::Spawn(Arc::new(e)))
            });
            match started {
                Ok(handle) => crew.drivers.lock().push(handle),
                Err(failure) => {
                    crew.terminate();
                    crew.join();
                    return Err(failure);
                }
            }
        }
        Ok(crew)
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
        let name = task.name();
        match codec::encode(&args) {
            Ok(args) => self.submit(Job {
                task: name,
                chunk: false,
                args,
                reply: Box::new(One(reply)),
                started: false,
            }),
            Err(e) => {
                let error = TaskError::serialization(format!("arguments of `{name}`: {e}"));
                reply.deliver(Err(Failure::Task(error)));
                Ok(())
            }
        }
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
            Ok(args) => self.submit(Job {
                task: name,
                chunk: true,
                args,
                reply: Box::new(Chunk { reply, len }),
                started: false,
            }),
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
            job.reply.fail(why.clone());
        }
    }

    pub(crate) fn terminate(&self) {
        self.shared.terminated.store(true, Ordering::Release);
        self.close();
        self.discard_pending(&Failure::Terminated);
        for (_, channel) in self.shared.channels.lock().drain() {
            let _ = channel.shutdown(Shutdown::Both);
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

/// A job written to the child, waiting for its reply.
struct InFlight {
    id: u64,
    job: Job,
    sent: Instant,
}

/// The parent's side of one worker: its child, and the jobs sent to it.
struct Driver {
    name: String,
    receiver: Receiver<Job>,
    shared: Arc<Shared>,
}

/// What a driver's child did, as far as the driver could tell.
enum Went {
    /// Replies arrived (or nothing was in flight).
    Fine,
    /// The channel ended or broke: the child is gone.
    Lost,
    /// The child wrote something that is not a reply: it cannot be trusted.
    Garbled(String),
    /// The child was gone before the jobs could be written: none started.
    Unread,
}

impl Driver {
    fn run(self, process: WorkerProcess, live: LiveWorker) {
        let mut current = Some((process, live));
        let mut reader = FrameReader::new();
        let mut retry: VecDeque<Job> = VecDeque::new();
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut writer = FrameWriter::default();
        let mut next_id = 0_u64;
        let mut quick = false;
        let mut last_reply = Instant::now();
        if let Some((process, _)) = current.as_mut() {
            self.greet(process, &mut reader);
        }
        let mut open = true;
        loop {
            // Take jobs while the child may have more.
            let limit = if quick { PIPELINE } else { 1 };
            let waiting_before = in_flight.len();
            while open && in_flight.len() < limit {
                let job = match retry.pop_front() {
                    Some(job) => job,
                    None if in_flight.is_empty() => match self.receiver.recv() {
                        Ok(job) => job,
                        Err(_) => {
                            open = false;
                            break;
                        }
                    },
                    None => match self.receiver.try_recv() {
                        Ok(job) => job,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    },
                };
                let mut job = job;
                if in_flight.is_empty() {
                    // A child that died while idle is replaced before it is
                    // handed a job it would be blamed for.
                    current = self.replace_if_dead(current, &mut reader);
                }
                if let Some(why) = self.shared.refusal() {
                    job.reply.fail(why);
                    continue;
                }
                if current.is_none() {
                    job.reply.fail(Failure::Terminated);
                    continue;
                }
                if !job.started && !job.reply.start() {
                    job.reply.dismiss();
                    continue;
                }
                job.started = true;
                let header = JobHeader {
                    id: next_id,
                    task: job.task,
                    chunk: job.chunk,
                };
                if let Err(too_big) = writer.push(&header, &job.args) {
                    let error = TaskError::serialization(format!(
                        "arguments of `{}`: {}",
                        job.task, too_big.0
                    ));
                    job.reply.fail(Failure::Task(error));
                    continue;
                }
                in_flight.push_back(InFlight {
                    id: next_id,
                    job,
                    sent: Instant::now(),
                });
                next_id += 1;
            }
            if in_flight.is_empty() && retry.is_empty() {
                if open {
                    continue;
                }
                break;
            }
            let Some((process, _)) = current.as_mut() else {
                // No child, and none to be had: the crew is broken.
                let why = self.shared.refusal().unwrap_or(Failure::Terminated);
                for waiting in in_flight.drain(..) {
                    waiting.job.reply.fail(why.clone());
                }
                continue;
            };
            let went = if writer.flush_to(&process.channel).is_ok() {
                Self::collect(
                    process,
                    &mut reader,
                    &mut in_flight,
                    &mut last_reply,
                    &mut quick,
                )
            } else if waiting_before == 0 {
                // The child was gone before it could read any of them.
                Went::Unread
            } else {
                Went::Lost
            };
            if !matches!(went, Went::Fine) {
                let (mut process, live) = current.take().expect("a child was running");
                let status = process.kill_and_reap();
                drop(live);
                let pid = process.pid();
                quick = false;
                writer = FrameWriter::default();
                let mut lost = in_flight.drain(..);
                let blamed = if let Went::Unread = went {
                    None
                } else {
                    lost.next()
                };
                if let Some(running) = blamed {
                    let why = self.shared.refusal().unwrap_or_else(|| {
                        Failure::Task(match went {
                            Went::Garbled(what) => TaskError::serialization(format!(
                                "the reply of worker process {pid}, which sent {what} \
                                 and was replaced"
                            )),
                            _ => TaskError::worker_died(pid, status.as_ref()),
                        })
                    });
                    running.job.reply.fail(why);
                }
                // Jobs behind the one that was running never started: they go
                // to the replacement.
                retry.extend(lost.map(|waiting| waiting.job));
                current = self.replacement(&mut reader);
            }
        }
        self.shared.channels.lock().remove(&self.name);
        if let Some((mut process, live)) = current.take() {
            // No more jobs: the end of the stream is the child's cue to exit.
            let _ = process.channel.shutdown(Shutdown::Write);
            process.reap();
            drop(live);
        }
    }

    /// Replaces the child if it has exited.
    fn replace_if_dead(
        &self,
        current: Option<(WorkerProcess, LiveWorker)>,
        reader: &mut FrameReader,
    ) -> Option<(WorkerProcess, LiveWorker)> {
        let (mut process, live) = current?;
        if !matches!(process.child.try_wait(), Ok(Some(_))) {
            return Some((process, live));
        }
        drop(live);
        self.replacement(reader)
    }

    /// A new child for this worker, greeted; `None` (and the crew broken)
    /// when none can be started.
    fn replacement(&self, reader: &mut FrameReader) -> Option<(WorkerProcess, LiveWorker)> {
        *reader = FrameReader::new();
        if self.shared.refusal().is_some() {
            return None;
        }
        match self.shared.start_child(&self.name) {
            Ok((mut process, live)) => {
                self.greet(&mut process, reader);
                Some((process, live))
            }
            Err(failure) => {
                let _ = self.shared.broken.set(failure);
                None
            }
        }
    }

    /// Reads the hello of a new child; a child that cannot serve breaks the crew.
    fn greet(&self, process: &mut WorkerProcess, reader: &mut FrameReader) {
        let failure = match process.await_hello(reader) {
            Ok(()) => return,
            Err(NotReady::Initializer(error)) => Failure::Initializer(error),
            Err(NotReady::Lost(error) | NotReady::WrongBuild(error)) => {
                Failure::Spawn(Arc::new(error))
            }
        };
        let _ = self.shared.broken.set(failure);
    }

    /// Reads replies until at least one job in flight is answered, and
    /// delivers every reply buffered. `quick` says whether the last job took
    /// under [`QUICK`] in the child: the time from its sending, or from the
    /// reply before it if that came later, to its reply.
    fn collect(
        process: &WorkerProcess,
        reader: &mut FrameReader,
        in_flight: &mut VecDeque<InFlight>,
        last_reply: &mut Instant,
        quick: &mut bool,
    ) -> Went {
        let mut answered = false;
        loop {
            loop {
                let frame = match reader.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(garbled) => return Went::Garbled(garbled.0),
                };
                let Some(front) = in_flight.front() else {
                    return Went::Garbled("a reply to no job".to_owned());
                };
                match split::<ReplyHeader>(frame) {
                    Ok((header, _)) if header.id == front.id => {}
                    Ok((header, _)) => {
                        return Went::Garbled(format!(
                            "a reply to job {} where job {} was due",
                            header.id, front.id
                        ));
                    }
                    Err(garbled) => return Went::Garbled(garbled.0),
                }
                let done = in_flight.pop_front().expect("a job in flight");
                let now = Instant::now();
                *quick = now - done.sent.max(*last_reply) < QUICK;
                *last_reply = now;
                done.job.reply.finish(frame, done.job.task);
                answered = true;
            }
            if answered || in_flight.is_empty() {
                return Went::Fine;
            }
            match reader.fill(&process.channel) {
                Ok(true) => {}
                Ok(false) | Err(_) => return Went::Lost,
            }
        }
    }
}
