//! Collecting a `map`'s chunks into one vector, in input order.
//!
//! Each chunk's results are moved into their own range of a pre-sized output
//! ([`Placement`]) by the worker that made them, in parallel; a chunk past the
//! output's capacity (the input outran its size hint) waits to be appended at
//! the end. The call is decided when every chunk is in, or when every chunk
//! before the first failed one is: the error is then the first failure in
//! input order, whatever order the chunks finished in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::{Mutex, MutexGuard};

use crate::runner::Failure;
use crate::runner::completion::Completion;
use crate::runner::placement::{Placement, Slot};
use crate::runner::reply::ChunkSink;

pub(crate) struct MapSink<R: Send> {
    placement: Placement<R>,
    inner: Mutex<Assembly<R>>,
    /// The index of the first failed chunk so far, `usize::MAX` if none:
    /// chunks after it are not worth running.
    failed_at: AtomicUsize,
    completion: Arc<Completion<Vec<R>>>,
}

struct Assembly<R> {
    /// Chunks that did not fit in the placement, to append in order at the end.
    overflow: BTreeMap<usize, Vec<R>>,
    /// Which chunks are in, succeeded or failed.
    finished: Vec<bool>,
    /// Every chunk before this one is in.
    prefix: usize,
    /// How many chunks there are, once the input is read.
    total: Option<usize>,
    failure: Option<(usize, Failure)>,
    done: bool,
}

impl<R: Send + 'static> MapSink<R> {
    /// A sink for about `capacity` results in chunks of `chunksize`.
    pub(crate) fn new(
        completion: Arc<Completion<Vec<R>>>,
        capacity: usize,
        chunksize: usize,
    ) -> Self {
        MapSink {
            placement: Placement::new(capacity, chunksize),
            inner: Mutex::new(Assembly {
                overflow: BTreeMap::new(),
                finished: Vec::new(),
                prefix: 0,
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

    /// Publishes the outcome once it is decided.
    fn settle(&self, mut inner: MutexGuard<'_, Assembly<R>>) {
        if inner.done {
            return;
        }
        let outcome = match &inner.failure {
            Some((index, failure)) if inner.prefix >= *index => Err(failure.clone()),
            None if inner.total == Some(inner.prefix) => self.assemble(&mut inner),
            // Chunks that decide the outcome are still out.
            _ => return,
        };
        inner.done = true;
        drop(inner);
        self.completion.publish(outcome);
    }

    /// The whole output: the placed prefix, then the chunks that overflowed.
    fn assemble(&self, inner: &mut Assembly<R>) -> Result<Vec<R>, Failure> {
        // Placed chunks always form a prefix of the input, so this fails only
        // if a worker returned fewer results than its chunk had items.
        let mut output = self.placement.take().ok_or(Failure::Terminated)?;
        for (_, mut results) in std::mem::take(&mut inner.overflow) {
            output.append(&mut results);
        }
        Ok(output)
    }
}

impl<R: Send + 'static> ChunkSink<R> for MapSink<R> {
    fn wanted(&self, index: usize) -> bool {
        index < self.failed_at.load(Ordering::Relaxed)
    }

    fn slot(&self, index: usize, len: usize) -> Option<Slot<'_, R>> {
        self.placement.slot(index, len)
    }

    fn placed(&self, index: usize) {
        self.record(index, Ok(None));
    }

    fn deliver(&self, index: usize, outcome: Result<Vec<R>, Failure>) {
        // Moving results into place is the bulk of the work: do it before
        // taking the lock, so that workers do it side by side.
        let outcome = match outcome {
            Ok(results) if self.wanted(index) => Ok(self.placement.place(index, results).err()),
            Ok(_) => Ok(None),
            Err(failure) => Err(failure),
        };
        self.record(index, outcome);
    }
}

impl<R: Send + 'static> MapSink<R> {
    /// Marks chunk `index` in: placed (`Ok(None)`), to append (`Ok(Some)`), or failed.
    fn record(&self, index: usize, outcome: Result<Option<Vec<R>>, Failure>) {
        let mut inner = self.inner.lock();
        match outcome {
            Ok(Some(overflow)) => {
                inner.overflow.insert(index, overflow);
            }
            Ok(None) => {}
            Err(failure) => {
                if inner
                    .failure
                    .as_ref()
                    .is_none_or(|(first, _)| index < *first)
                {
                    inner.failure = Some((index, failure));
                    self.failed_at.fetch_min(index, Ordering::Relaxed);
                }
            }
        }
        if inner.finished.len() <= index {
            inner.finished.resize(index + 1, false);
        }
        inner.finished[index] = true;
        while inner.finished.get(inner.prefix).copied().unwrap_or(false) {
            inner.prefix += 1;
        }
        self.settle(inner);
    }
}
