//! Cutting a call's input into chunks, and putting a `map`'s results back in order.
//!
//! A chunk is the unit of work: one job, one allocation, however many items.
//! The caller reads its input into chunks and queues each as soon as it is
//! full, so workers start while the input is still being read. A worker maps
//! its chunk into a vector of results (in the chunk's own buffer when sizes
//! match) and hands it to the call's sink. A `map`'s sink appends the chunks
//! to one pre-sized output in order as they come in, on the worker's thread,
//! so the caller is left with nothing to assemble at the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::runner::completion::Completion;
use crate::runner::reply::{ChunkReply, ChunkSink};
use crate::runner::{Failure, Workers};
use crate::task::Task;

/// Python's default chunk size for `map`: the items spread over four
/// chunks per worker, rounded up; 0 for no items.
pub(crate) fn default_chunksize(items: usize, workers: usize) -> usize {
    items.div_ceil(workers.saturating_mul(4).max(1))
}

/// The exact number of items left, when the iterator promises one.
pub(crate) fn exact_len(items: &impl Iterator) -> Option<usize> {
    match items.size_hint() {
        (lower, Some(upper)) if lower == upper => Some(lower),
        _ => None,
    }
}

/// Reads `items` into chunks of `chunksize` and queues each on `workers`,
/// until the input ends, the sink wants no more, or the workers refuse one.
/// Returns how many chunks were queued, the refused one included.
pub(crate) fn dispatch<T, S>(
    workers: &Workers,
    task: T,
    mut items: impl Iterator<Item = T::Args>,
    chunksize: usize,
    sink: &Arc<S>,
) -> usize
where
    T: Task,
    S: ChunkSink<T::Output> + 'static,
{
    let mut index = 0;
    while sink.wanted(index) {
        let mut chunk = Vec::new();
        // `try_reserve`: a size hint is only a hint, and a huge one must not abort.
        let _ = chunk.try_reserve(chunksize.min(items.size_hint().0.max(1)));
        chunk.extend(items.by_ref().take(chunksize));
        if chunk.is_empty() {
            break;
        }
        let reply = ChunkReply::new(Arc::clone(sink) as Arc<dyn ChunkSink<T::Output>>, index);
        index += 1;
        // A refused chunk's reply reports it as terminated, which ends the call.
        if workers.run_chunk(task, chunk, reply).is_err() {
            break;
        }
    }
    index
}

/// The sink of a `map`: results appended in order to one output vector.
pub(crate) struct MapSink<R: Send> {
    inner: Mutex<Assembly<R>>,
    /// The index of the first failed chunk so far, `usize::MAX` if none:
    /// chunks after it are not worth running.
    failed_at: AtomicUsize,
    completion: Arc<Completion<Vec<R>>>,
}

struct Assembly<R> {
    output: Vec<R>,
    /// Chunks that arrived before an earlier one.
    parked: BTreeMap<usize, Vec<R>>,
    /// The index of the next chunk to append.
    next: usize,
    /// How many chunks there are, once the input is read.
    total: Option<usize>,
    failure: Option<(usize, Failure)>,
    done: bool,
}

impl<R: Send + 'static> MapSink<R> {
    pub(crate) fn new(completion: Arc<Completion<Vec<R>>>, capacity: usize) -> Self {
        let mut output = Vec::new();
        let _ = output.try_reserve_exact(capacity);
        MapSink {
            inner: Mutex::new(Assembly {
                output,
                parked: BTreeMap::new(),
                next: 0,
                total: None,
                failure: None,
                done: false,
            }),
            failed_at: AtomicUsize::new(usize::MAX),
            completion,
        }
    }

    /// Records that the input is read and cut into `total` chunks.
    pub(crate) fn dispatched(&self, total: usize) {
        let mut inner = self.inner.lock();
        inner.total = Some(total);
        self.settle(inner);
    }

    /// Publishes the outcome once it is decided: every chunk appended, or every
    /// chunk before the first failed one.
    fn settle(&self, mut inner: parking_lot::MutexGuard<'_, Assembly<R>>) {
        if inner.done {
            return;
        }
        let outcome = match &inner.failure {
            Some((index, failure)) if inner.next >= *index => Err(failure.clone()),
            Some(_) => return,
            None if inner.total == Some(inner.next) => Ok(std::mem::take(&mut inner.output)),
            None => return,
        };
        inner.done = true;
        inner.parked.clear();
        drop(inner);
        self.completion.publish(outcome);
    }
}

impl<R: Send + 'static> ChunkSink<R> for MapSink<R> {
    fn wanted(&self, index: usize) -> bool {
        index < self.failed_at.load(Ordering::Relaxed)
    }

    fn deliver(&self, index: usize, outcome: Result<Vec<R>, Failure>) {
        let mut inner = self.inner.lock();
        if inner.done {
            return;
        }
        match outcome {
            Ok(mut results) if index == inner.next => {
                inner.output.append(&mut results);
                inner.next += 1;
                let inner = &mut *inner;
                while let Some(mut results) = inner.parked.remove(&inner.next) {
                    inner.output.append(&mut results);
                    inner.next += 1;
                }
            }
            Ok(results) => {
                inner.parked.insert(index, results);
            }
            Err(failure) => {
                if inner.failure.as_ref().is_none_or(|(first, _)| index < *first) {
                    inner.failure = Some((index, failure));
                    self.failed_at.fetch_min(index, Ordering::Relaxed);
                }
            }
        }
        self.settle(inner);
    }
}
