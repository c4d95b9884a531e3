//! A job for a process worker: the task's name with its arguments serialized
//! (a `map` chunk's by the driver that sends it, [`Job::ready`]), and the
//! [`Reply`] that decodes the answer and delivers it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use super::super::Failure;
use super::super::reply::{ChunkReply, OneReply};
use crate::codec;
use crate::codec::message::{Lent, Message, Route};
use crate::process::reply::decode_reply;
use crate::task::unwind::payload_message;
use crate::task::{TaskError, TaskValue};

/// A job with its arguments serialized, and where its answer goes.
pub(in crate::runner) struct Job {
    pub(in crate::runner) task: &'static str,
    pub(in crate::runner) chunk: bool,
    /// Shared, so that a big one is written from where it lies.
    pub(in crate::runner) args: bytes::Bytes,
    /// The shared-memory block the arguments lend, if they went that way:
    /// freed with the job (its reply in, its worker dead, or never sent)
    /// unless the worker freed it as it read it. A streamed one is
    /// [filled](Self::fill) once the job is sent.
    pub(in crate::runner) lent: Lent,
    pub(in crate::runner) reply: Box<dyn Reply>,
    /// How to serialize the arguments, until [`ready`](Self::ready) has.
    encode: Option<Box<dyn FnOnce() -> Result<Message, TaskError> + Send>>,
    /// Whether it was started once already: sent to a child that died
    /// before it could begin it, and now waiting for the replacement.
    pub(in crate::runner) started: bool,
    /// When its worker is killed if it has not answered (`apply_timeout`,
    /// `submit_timeout`).
    pub(in crate::runner) deadline: Option<Instant>,
}

impl Job {
    pub(in crate::runner) fn one<R: TaskValue>(
        task: &'static str,
        args: Message,
        reply: OneReply<R>,
    ) -> Self {
        Self::one_in(task, args, reply, true)
    }

    /// As [`one`](Self::one), for a worker that cannot be killed (an MPI
    /// rank): once it runs, a cancel cannot stop it, as on threads.
    #[cfg(feature = "mpi")]
    pub(in crate::runner) fn one_unkillable<R: TaskValue>(
        task: &'static str,
        args: Message,
        reply: OneReply<R>,
    ) -> Self {
        Self::one_in(task, args, reply, false)
    }

    fn one_in<R: TaskValue>(
        task: &'static str,
        args: Message,
        reply: OneReply<R>,
        killable: bool,
    ) -> Self {
        Job {
            task,
            chunk: false,
            args: args.wire.into(),
            lent: args.lent,
            reply: Box::new(One { reply, killable }),
            encode: None,
            started: false,
            deadline: None,
        }
    }

    pub(in crate::runner) fn chunk<R: TaskValue>(
        task: &'static str,
        args: Message,
        reply: ChunkReply<R>,
        len: usize,
    ) -> Self {
        Job {
            task,
            chunk: true,
            args: args.wire.into(),
            lent: args.lent,
            reply: Box::new(Chunk { reply, len }),
            encode: None,
            started: false,
            deadline: None,
        }
    }

    /// The job of a `map` chunk, whose items are serialized by the driver
    /// that takes it ([`ready`](Self::ready)) rather than by the caller: the
    /// caller only cuts the input into chunks, and the drivers, one per
    /// worker, serialize them side by side. Over tiny items, the caller's
    /// thread is what bounds a big pool.
    pub(in crate::runner) fn chunk_encoded_later<A, R>(
        task: &'static str,
        items: Vec<A>,
        reply: ChunkReply<R>,
        len: usize,
    ) -> Self
    where
        A: serde::Serialize + Send + 'static,
        R: TaskValue,
    {
        Job {
            encode: Some(Box::new(move || {
                codec::encode_arguments(task, &items, Route::MayShare)
            })),
            ..Self::chunk(
                task,
                Message {
                    wire: Vec::new(),
                    lent: Lent::default(),
                },
                reply,
                len,
            )
        }
    }

    /// Serializes the arguments if that was left to the driver: `None` when
    /// they cannot be, which has failed the job. A `Serialize` that panics
    /// is that job's error, and the driver that ran it goes on.
    pub(in crate::runner) fn ready(mut self) -> Option<Self> {
        let Some(encode) = self.encode.take() else {
            return Some(self);
        };
        let encoded = catch_unwind(AssertUnwindSafe(encode)).unwrap_or_else(|panic| {
            Err(TaskError::arguments(
                self.task,
                format!("serializing them panicked: {}", payload_message(&*panic)),
            ))
        });
        match encoded {
            Ok(message) => {
                self.args = message.wire.into();
                self.lent = message.lent;
                Some(self)
            }
            Err(error) => {
                self.fail(Failure::Task(error));
                None
            }
        }
    }

    /// Writes the arguments' block if they are streamed and it is not
    /// written yet: once the job is sent, while the worker copies them out.
    pub(in crate::runner) fn fill(&mut self) {
        self.lent.fill();
    }

    /// Whether its arguments are streamed and not yet written.
    pub(in crate::runner) fn is_unfilled(&self) -> bool {
        self.lent.is_unfilled()
    }

    /// Marks the job started, once; `false` (and the job dropped) when it was
    /// cancelled or is no longer wanted.
    pub(in crate::runner) fn start(&mut self) -> bool {
        if self.started {
            return true;
        }
        self.started = self.reply.start();
        self.started
    }

    /// Whether its deadline has passed by `now`.
    pub(in crate::runner) fn overdue(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline)
    }

    /// Whether a cancel asked for its worker to be killed.
    pub(in crate::runner) fn kill_requested(&self) -> bool {
        self.reply.kill_requested()
    }

    /// Whether it can be cancelled while it runs, so its link must look now
    /// and then whether it was.
    pub(in crate::runner) fn killable(&self) -> bool {
        self.reply.killable()
    }

    /// Delivers the answer in a reply frame; gives the job back if the
    /// worker died while it streamed the result, for its link to fail it
    /// as the worker's death.
    pub(in crate::runner) fn finish(mut self, frame: &[u8]) -> Result<(), Box<Job>> {
        // The reply moves out for `finish`, and back in if it gives itself back.
        match self.reply.finish(frame, self.task) {
            Ok(()) => Ok(()),
            Err(reply) => {
                self.reply = reply;
                Err(Box::new(self))
            }
        }
    }

    pub(in crate::runner) fn fail(self, why: Failure) {
        self.reply.fail(why);
    }

    pub(in crate::runner) fn dismiss(self) {
        self.reply.dismiss();
    }
}

/// The far end of a job: decodes its answer, or reports why there is none.
pub(in crate::runner) trait Reply: Send {
    /// Marks the job started; `false` when it was cancelled or is no longer wanted.
    fn start(&mut self) -> bool;
    /// Delivers the answer in a reply frame; gives itself back, delivering
    /// nothing, if the worker died while it streamed the result.
    fn finish(self: Box<Self>, frame: &[u8], task: &str) -> Result<(), Box<dyn Reply>>;
    /// Delivers a failure instead.
    fn fail(self: Box<Self>, why: Failure);
    /// Drops a job that [`start`](Reply::start) refused, without an outcome.
    fn dismiss(self: Box<Self>);
    /// Whether a cancel may stop it while it runs.
    fn killable(&self) -> bool {
        false
    }
    /// Whether a cancel asked for its worker to be killed.
    fn kill_requested(&self) -> bool {
        false
    }
}

struct One<R: Send> {
    reply: OneReply<R>,
    /// Whether its worker may be killed to stop it once it runs.
    killable: bool,
}

impl<R: TaskValue> Reply for One<R> {
    fn start(&mut self) -> bool {
        if self.killable {
            self.reply.start_in_process()
        } else {
            self.reply.start()
        }
    }

    fn killable(&self) -> bool {
        self.killable && self.reply.is_cancellable()
    }

    fn kill_requested(&self) -> bool {
        self.reply.kill_requested()
    }

    fn finish(self: Box<Self>, frame: &[u8], task: &str) -> Result<(), Box<dyn Reply>> {
        let Ok(outcome) = decode_reply::<R>(frame, task) else {
            return Err(self);
        };
        self.reply.deliver(outcome.map_err(Failure::Task));
        Ok(())
    }

    fn fail(self: Box<Self>, why: Failure) {
        self.reply.deliver(Err(why));
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

    fn finish(self: Box<Self>, frame: &[u8], task: &str) -> Result<(), Box<dyn Reply>> {
        let Ok(outcome) = decode_reply::<Vec<R>>(frame, task) else {
            return Err(self);
        };
        let outcome = outcome.and_then(|results| {
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
        Ok(())
    }

    fn fail(self: Box<Self>, why: Failure) {
        self.reply.deliver(Err(why));
    }

    fn dismiss(self: Box<Self>) {
        self.reply.dismiss();
    }
}
