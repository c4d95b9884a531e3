//! Where a job's outcome goes, whichever backend ran it.
//!
//! A reply is a drop guard: delivered, it hands the outcome on; dropped
//! undelivered (the job was discarded or lost with its worker), it reports
//! [`Failure::Terminated`], so nobody waits for an outcome that cannot come.

use std::sync::Arc;

use super::completion::Completion;
use super::placement::Slot;
use super::stats::Counters;
use super::{Failure, Refused};

/// Counts its job finished, once: however a reply ends (delivered, dismissed,
/// or dropped with a lost job), its job is done. Counted before the outcome
/// is handed on, so a caller who has it sees the job counted.
struct Finish(Option<Arc<Counters>>);

impl Finish {
    fn now(&mut self) {
        if let Some(counters) = self.0.take() {
            counters.finished();
        }
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.now();
    }
}

/// The reply of a job that runs a task once, to a [`Completion`].
pub(crate) struct OneReply<R: Send> {
    completion: Option<Arc<Completion<R>>>,
    finish: Finish,
    /// Whether a cancel may stop the job while it runs (an executor's).
    cancellable: bool,
}

impl<R: Send> OneReply<R> {
    pub(crate) fn new(completion: Arc<Completion<R>>) -> Self {
        OneReply {
            completion: Some(completion),
            finish: Finish(None),
            cancellable: false,
        }
    }

    /// The reply of a job whose handle can cancel it while it runs.
    pub(crate) fn cancellable(mut self) -> Self {
        self.cancellable = true;
        self
    }

    /// Whether a cancel may stop the job while it runs.
    pub(crate) fn is_cancellable(&self) -> bool {
        self.cancellable
    }

    /// The reply, counting its job in `counters`.
    pub(crate) fn counted(mut self, counters: &Arc<Counters>) -> Self {
        counters.submitted();
        self.finish = Finish(Some(Arc::clone(counters)));
        self
    }

    /// Marks the job started; `false` when it was cancelled and must not run.
    pub(crate) fn start(&self) -> bool {
        self.completion.as_ref().is_some_and(|c| c.start(false))
    }

    /// As [`start`](Self::start), for a job in a worker process: a
    /// cancellable one may be stopped by killing that process from the moment
    /// it runs.
    pub(crate) fn start_in_process(&self) -> bool {
        self.completion
            .as_ref()
            .is_some_and(|c| c.start(self.cancellable))
    }

    /// Whether a cancel asked for the running job's worker to be killed.
    pub(crate) fn kill_requested(&self) -> bool {
        self.completion.as_ref().is_some_and(|c| c.kill_requested())
    }

    pub(crate) fn deliver(mut self, outcome: Result<R, Failure>) {
        self.finish.now();
        if let Some(completion) = self.completion.take() {
            completion.publish(outcome);
        }
    }
}

impl<R: Send> Drop for OneReply<R> {
    fn drop(&mut self) {
        self.finish.now();
        if let Some(completion) = self.completion.take() {
            completion.publish(Err(Failure::Terminated));
        }
    }
}

/// Runs one job through `run`, its reply counted in `counters`, and waits
/// for its outcome: a call that waits at once (`apply`).
pub(crate) fn run_and_wait<R: Send>(
    counters: &Arc<Counters>,
    run: impl FnOnce(OneReply<R>) -> Result<(), Refused>,
) -> Result<Result<R, Failure>, Refused> {
    let completion = Arc::new(Completion::new());
    run(OneReply::new(Arc::clone(&completion)).counted(counters))?;
    Ok(completion.take())
}

/// What collects the results of the chunks of one call (`map`, `imap`, ...).
pub(crate) trait ChunkSink<R>: Send + Sync {
    /// Whether chunk `index` is still worth running: a `map` that already
    /// failed before it does not need it.
    fn wanted(&self, index: usize) -> bool;

    /// Receives the results of chunk `index`, in the chunk's order.
    fn deliver(&self, index: usize, outcome: Result<Vec<R>, Failure>);

    /// Where chunk `index`'s `len` results may be written in place, when the
    /// sink has such a place; [`placed`](Self::placed) then reports success.
    fn slot(&self, _index: usize, _len: usize) -> Option<Slot<'_, R>> {
        None
    }

    /// Chunk `index` wrote all its results through its [`slot`](Self::slot).
    fn placed(&self, _index: usize) {}
}

/// The reply of a job that runs a task over chunk `index` of a call.
pub(crate) struct ChunkReply<R> {
    sink: Option<Arc<dyn ChunkSink<R>>>,
    index: usize,
    finish: Finish,
}

impl<R> ChunkReply<R> {
    pub(crate) fn new(sink: Arc<dyn ChunkSink<R>>, index: usize) -> Self {
        ChunkReply {
            sink: Some(sink),
            index,
            finish: Finish(None),
        }
    }

    /// The reply, counting its job in `counters`.
    pub(crate) fn counted(mut self, counters: &Arc<Counters>) -> Self {
        counters.submitted();
        self.finish = Finish(Some(Arc::clone(counters)));
        self
    }

    pub(crate) fn wanted(&self) -> bool {
        self.sink.as_ref().is_some_and(|s| s.wanted(self.index))
    }

    pub(crate) fn deliver(mut self, outcome: Result<Vec<R>, Failure>) {
        self.finish.now();
        if let Some(sink) = self.sink.take() {
            sink.deliver(self.index, outcome);
        }
    }

    /// Where the chunk's `len` results may be written in place, if anywhere.
    pub(crate) fn slot(&self, len: usize) -> Option<Slot<'_, R>> {
        self.sink.as_ref().and_then(|s| s.slot(self.index, len))
    }

    /// Reports that the chunk wrote all its results through its slot.
    pub(crate) fn deliver_placed(mut self) {
        self.finish.now();
        if let Some(sink) = self.sink.take() {
            sink.placed(self.index);
        }
    }

    /// Drops the reply without an outcome, for a chunk nobody wants any more.
    pub(crate) fn dismiss(mut self) {
        self.sink = None;
    }
}

impl<R> Drop for ChunkReply<R> {
    fn drop(&mut self) {
        self.finish.now();
        if let Some(sink) = self.sink.take() {
            sink.deliver(self.index, Err(Failure::Terminated));
        }
    }
}
