//! The parent's link to one worker process: the child, the buffers of its
//! channel, and the jobs written to it that wait for their replies.
//!
//! Replies come back in the order of the jobs. While the jobs are quick
//! (under [`QUICK`] each in the child), the link lets more of them be in
//! flight at once, doubling up to [`PIPELINE`], so that many small jobs
//! share each system call and each wake-up; one slow job brings it back to
//! one at a time, so that a long task never holds back queued jobs while
//! another worker is idle. Jobs written but not answered never add up to
//! more than [`UNANSWERED_BYTES`] (one job alone may be any size): the child
//! then always has room to read them while its replies wait for us, so
//! neither side can block the other's writes for good.

use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::job::Job;
use crate::current::LiveWorker;
use crate::process::reply::discard_reply;
use crate::process::spawn::WorkerProcess;
use crate::process::wire::{FrameReader, FrameWriter, JobHeader, ReplyHeader, SPIN, split};
use crate::runner::Failure;
use crate::task::TaskError;

/// The most jobs in flight to a child whose jobs are quick.
const PIPELINE: usize = 64;
/// A job that took less than this in its child counts as quick.
const QUICK: Duration = Duration::from_micros(100);
/// How often a link waiting for a job that a cancel may stop looks whether
/// one did.
const CANCEL_CHECK: Duration = Duration::from_millis(20);
/// The most bytes of jobs in flight to one child, but for a job alone: far
/// less than a socket's buffer.
const UNANSWERED_BYTES: usize = 64 * 1024;

/// A job written to the child, waiting for its reply.
struct InFlight {
    id: u64,
    job: Job,
    sent: Instant,
    /// The size of its frame.
    bytes: usize,
    /// Where its frame ends in the batch not yet written; `None` once written.
    batch_end: Option<usize>,
}

/// What came of an exchange with the child.
pub(super) enum Went {
    /// Replies arrived (or nothing was in flight).
    Fine,
    /// The channel ended or broke: the child is gone.
    Lost,
    /// The child wrote something that is not a reply: it cannot be trusted.
    Garbled(String),
    /// The job it runs passed its deadline: the child is killed for it.
    Overdue,
    /// The job it runs was cancelled: the child is killed for it.
    Cancelled,
    /// The child was gone before the jobs could be written: none started.
    Unread,
}

impl Went {
    /// What happened, in words, for a log record.
    pub(super) fn describe(&self) -> String {
        match self {
            Went::Fine => "nothing".to_owned(),
            Went::Lost => "its process ended".to_owned(),
            Went::Garbled(what) => format!("it sent {what}"),
            Went::Unread => "its process ended before reading its jobs".to_owned(),
            Went::Overdue => "its task passed its deadline".to_owned(),
            Went::Cancelled => "its task was cancelled".to_owned(),
        }
    }
}

pub(super) struct Link {
    child: Option<(WorkerProcess, LiveWorker)>,
    reader: FrameReader,
    writer: FrameWriter,
    in_flight: VecDeque<InFlight>,
    /// The frame bytes of the jobs in flight.
    unanswered_bytes: usize,
    /// How many of the written jobs may wait for replies at once.
    depth: usize,
    next_id: u64,
    last_reply: Instant,
    /// Jobs written to the present child.
    jobs_started: usize,
}

/// A streamed result its child died writing (see `deliver_replies`).
enum TornResult {
    /// Of this job, given back to be failed as the child's death.
    Of(Box<Job>),
    /// Of a cancelled job, already failed as cancelled.
    OfCancelledJob,
}

impl Link {
    pub(super) fn new() -> Self {
        Link {
            child: None,
            reader: FrameReader::new(),
            writer: FrameWriter::default(),
            in_flight: VecDeque::new(),
            unanswered_bytes: 0,
            depth: 1,
            next_id: 0,
            last_reply: Instant::now(),
            jobs_started: 0,
        }
    }

    /// Makes `child`, already greeted with `reader`, the one this link serves.
    pub(super) fn attach(&mut self, child: (WorkerProcess, LiveWorker), reader: FrameReader) {
        self.child = Some(child);
        self.reader = reader;
        self.writer = FrameWriter::default();
        self.depth = 1;
        self.jobs_started = 0;
    }

    /// How many jobs were written to the present child.
    pub(super) fn jobs_started(&self) -> usize {
        self.jobs_started
    }

    pub(super) fn has_child(&self) -> bool {
        self.child.is_some()
    }

    /// Whether the child is there and has nothing to do.
    pub(super) fn is_idle(&self) -> bool {
        self.child.is_some() && self.in_flight.is_empty()
    }

    pub(super) fn is_busy(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// Whether another job may be written before the replies come.
    /// A job whose streamed arguments are not yet written ends its batch:
    /// the child may wait for them before it reads further, and they are
    /// written only once the whole batch is sent, so nothing may follow
    /// them (on a small pipe, it could fill it and never be read).
    pub(super) fn has_room(&self) -> bool {
        self.in_flight.is_empty()
            || (self.in_flight.len() < self.depth
                && self.unanswered_bytes < UNANSWERED_BYTES
                && !self.ends_with_a_stream())
    }

    /// Whether `job` fits beside the jobs in flight (any job fits alone).
    pub(super) fn fits(&self, job: &Job) -> bool {
        self.in_flight.is_empty()
            || (self.unanswered_bytes + job.args.len() <= UNANSWERED_BYTES
                && !self.ends_with_a_stream())
    }

    fn ends_with_a_stream(&self) -> bool {
        self.in_flight
            .back()
            .is_some_and(|waiting| waiting.job.is_unfilled())
    }

    /// Starts over at one job in flight, as after a pause.
    pub(super) fn settle(&mut self) {
        self.depth = 1;
    }

    /// Whether the child has exited on its own, as a child that was killed
    /// while idle has: it is replaced before it is handed a job it would be
    /// blamed for.
    pub(super) fn child_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|(process, _)| process.has_exited())
    }

    /// Adds a started job to what the next [`exchange`](Self::exchange) writes.
    pub(super) fn push(&mut self, job: Job) {
        let header = JobHeader {
            id: self.next_id,
            task: job.task,
            chunk: job.chunk,
        };
        let start = self.writer.len();
        if let Err(too_big) = self.writer.push_shared(&header, &job.args) {
            let error = TaskError::arguments(job.task, too_big.0);
            job.fail(Failure::Task(error));
            return;
        }
        let end = self.writer.len();
        self.unanswered_bytes += end - start;
        self.in_flight.push_back(InFlight {
            id: self.next_id,
            job,
            sent: Instant::now(),
            bytes: end - start,
            batch_end: Some(end),
        });
        self.next_id += 1;
        self.jobs_started += 1;
    }

    /// Writes the pushed jobs, then reads until at least one job in flight
    /// is answered, and delivers every reply that has arrived.
    pub(super) fn exchange(&mut self) -> Went {
        let Some((process, _)) = self.child.as_ref() else {
            return Went::Lost;
        };
        let sent = self.writer.send_to(&process.channel);
        let whole = match &sent {
            Ok(()) => usize::MAX,
            Err((_, sent)) => *sent,
        };
        for waiting in &mut self.in_flight {
            if waiting.batch_end.is_some_and(|end| end > whole) {
                continue;
            }
            waiting.batch_end = None;
            if sent.is_ok() {
                // Streamed arguments: the child copies them out behind
                // this copy in.
                waiting.job.fill();
            }
        }
        if sent.is_err() {
            // The child is gone. It may have answered jobs before it went,
            // and those answers are delivered; the job it was running is
            // the first one left, if that arrived whole; unless it died
            // writing the result of a cancelled job, before any other.
            if let Went::Unread = self.deliver_replies(true) {
                return Went::Unread;
            }
            return match self.in_flight.front() {
                Some(front) if front.batch_end.is_none() => Went::Lost,
                _ => Went::Unread,
            };
        }
        self.deliver_replies(false)
    }

    /// Reads replies until at least one job in flight is answered (or, when
    /// `to_the_end`, until the channel ends), and delivers every reply that
    /// has arrived.
    fn deliver_replies(&mut self, to_the_end: bool) -> Went {
        let Some((process, _)) = self.child.as_ref() else {
            return Went::Lost;
        };
        let mut answered = false;
        loop {
            loop {
                let frame = match self.reader.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(garbled) => return Went::Garbled(garbled.0),
                };
                let Some(front) = self.in_flight.front() else {
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
                let done = self.in_flight.pop_front().expect("a job in flight");
                self.unanswered_bytes -= done.bytes;
                let now = Instant::now();
                self.depth = if now - done.sent.max(self.last_reply) < QUICK {
                    (self.depth * 2).min(PIPELINE)
                } else {
                    1
                };
                self.last_reply = now;
                let InFlight {
                    id,
                    job,
                    sent,
                    bytes,
                    ..
                } = done;
                // Decoding runs the user's `Deserialize` and may drop the
                // user's values: a panic there must not take the driver, and
                // with it the jobs in flight, down. The reply reports it.
                // A cancel that came too late to kill the child still wins:
                // whoever cancelled was told the task would not complete.
                let torn = catch_unwind(AssertUnwindSafe(|| {
                    if job.kill_requested() {
                        let written = discard_reply(frame);
                        job.fail(Failure::Cancelled);
                        written.err().map(|_| TornResult::OfCancelledJob)
                    } else {
                        job.finish(frame).err().map(TornResult::Of)
                    }
                }));
                match torn {
                    // The child died while it streamed a result: the job is
                    // lost with it (the jobs behind it never started), and
                    // fails as a death once the child is reaped.
                    Ok(Some(TornResult::Of(job))) => {
                        self.unanswered_bytes += bytes;
                        self.in_flight.push_front(InFlight {
                            id,
                            job: *job,
                            sent,
                            bytes,
                            batch_end: None,
                        });
                        return Went::Lost;
                    }
                    Ok(Some(TornResult::OfCancelledJob)) => return Went::Unread,
                    _ => {}
                }
                answered = true;
            }
            if !to_the_end && (answered || self.in_flight.is_empty()) {
                return Went::Fine;
            }
            if to_the_end && self.in_flight.is_empty() {
                return Went::Lost;
            }
            let wake = self.wake_at();
            match process.fill_until(&mut self.reader, SPIN, wake) {
                Ok(true) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Went::Garbled(e.to_string());
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    if let Some(running) = self.in_flight.front() {
                        if running.job.overdue(Instant::now()) {
                            return Went::Overdue;
                        }
                        if running.job.kill_requested() {
                            return Went::Cancelled;
                        }
                    }
                }
                Ok(false) | Err(_) => return Went::Lost,
            }
        }
    }

    /// When a wait for the running job's reply must stop to look at it: its
    /// deadline, or soon, if a cancel may stop it. `None`: no need.
    fn wake_at(&self) -> Option<Instant> {
        let running = &self.in_flight.front()?.job;
        let cancel_check = running.killable().then(|| Instant::now() + CANCEL_CHECK);
        match (running.deadline, cancel_check) {
            (Some(deadline), Some(check)) => Some(deadline.min(check)),
            (deadline, check) => deadline.or(check),
        }
    }

    /// After an exchange that did not go fine: reaps the child, fails the
    /// job it was running (with `refusal` if the crew no longer runs jobs,
    /// else with what killed it), and returns the jobs that never started.
    pub(super) fn bury(&mut self, went: &Went, refusal: Option<Failure>) -> Vec<Job> {
        self.unanswered_bytes = 0;
        let Some((mut process, live)) = self.child.take() else {
            return self
                .in_flight
                .drain(..)
                .map(|waiting| waiting.job)
                .collect();
        };
        let status = process.kill_and_reap();
        drop(live);
        let pid = process.pid();
        // Barriers it took part in must not wait for it any more.
        process.report_death();
        self.writer = FrameWriter::default();
        let mut lost = self.in_flight.drain(..);
        let running = if let Went::Unread = went {
            None
        } else {
            lost.next()
        };
        if let Some(running) = running {
            let why = refusal.unwrap_or_else(|| match went {
                Went::Overdue => Failure::DeadlineExceeded,
                Went::Cancelled => Failure::Cancelled,
                Went::Garbled(what) => Failure::Task(TaskError::serialization(format!(
                    "the reply of worker process {pid}, which sent {what} and was replaced"
                ))),
                _ => Failure::Task(TaskError::worker_died(pid, status.as_ref())),
            });
            let _ = catch_unwind(AssertUnwindSafe(|| running.job.fail(why)));
        }
        lost.map(|waiting| waiting.job).collect()
    }

    /// Ends the child gracefully, as [`close`](Self::close) does, without
    /// waiting for it to exit: the caller has it reaped elsewhere, while the
    /// driver starts its successor (a worker retired after its quota).
    pub(super) fn retire(&mut self) -> Option<(WorkerProcess, LiveWorker)> {
        let (process, live) = self.child.take()?;
        let _ = process.channel.shutdown(std::net::Shutdown::Write);
        Some((process, live))
    }

    /// Ends the child gracefully: the end of its stream is its cue to exit.
    pub(super) fn close(&mut self) {
        if let Some((mut process, live)) = self.child.take() {
            let _ = process.channel.shutdown(std::net::Shutdown::Write);
            process.reap();
            drop(live);
        }
    }
}
