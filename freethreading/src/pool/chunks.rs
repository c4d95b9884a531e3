//! Cutting a call's input into chunks.
//!
//! A chunk is the unit of work: one job, one allocation, however many items.
//! The caller reads its input into chunks and queues each as soon as it is
//! full, so workers start while the input is still being read. A worker maps
//! its chunk into a vector of results (in the chunk's own buffer when sizes
//! match) and hands it to the call's sink.

use std::sync::Arc;

use crate::runner::Workers;
use crate::runner::reply::{ChunkReply, ChunkSink};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_chunksize_is_pythons() {
        assert_eq!(default_chunksize(0, 4), 0);
        assert_eq!(default_chunksize(10, 4), 1);
        assert_eq!(default_chunksize(16, 4), 1);
        assert_eq!(default_chunksize(17, 4), 2);
        assert_eq!(default_chunksize(100, 2), 13);
        assert_eq!(default_chunksize(1_000_000, 16), 15_625);
        assert_eq!(default_chunksize(5, usize::MAX), 1);
    }

    #[test]
    fn exact_len_only_trusts_exact_hints() {
        assert_eq!(exact_len(&(0..7)), Some(7));
        assert_eq!(exact_len(&(0..7).filter(|x| x % 2 == 0)), None);
    }
}
