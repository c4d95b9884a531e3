//! Cutting a call's input into chunks.
//!
//! A chunk is the unit of work: one job, one allocation, however many items.
//! The caller reads its input into chunks and queues each as soon as it is
//! full, so workers start while the input is still being read. A worker maps
//! its chunk into a vector of results (in the chunk's own buffer when sizes
//! match) and hands it to the call's sink.

use std::ops::Range;
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
    items: impl Iterator<Item = T::Args>,
    chunksize: usize,
    sink: &Arc<S>,
) -> usize
where
    T: Task,
    S: ChunkSink<T::Output> + 'static,
{
    // A chunk must never end early: an iterator may yield again after `None`.
    let mut items = items.fuse();
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
        let len = chunk.len();
        // A refused chunk's reply reports it as terminated, which ends the call.
        if workers.run_chunk(task, chunk, len, reply).is_err() {
            break;
        }
    }
    index
}

/// Cuts `range` into sub-ranges of `chunksize` and queues each on `workers`,
/// which generate their own items: nothing is read or copied on this thread.
/// Returns how many chunks were queued, as [`dispatch`] does.
pub(crate) fn dispatch_range<T, A, S>(
    workers: &Workers,
    task: T,
    range: Range<A>,
    chunksize: usize,
    sink: &Arc<S>,
) -> usize
where
    T: Task<Args = (A,)>,
    A: RangeItem,
    Range<A>: Iterator<Item = A>,
    S: ChunkSink<T::Output> + 'static,
{
    let len = A::range_len(&range);
    let (mut index, mut done) = (0, 0);
    while done < len && sink.wanted(index) {
        let n = chunksize.min(len - done);
        let piece = A::offset(range.start, done)..A::offset(range.start, done + n);
        let reply = ChunkReply::new(Arc::clone(sink) as Arc<dyn ChunkSink<T::Output>>, index);
        index += 1;
        done += n;
        if workers
            .run_chunk(task, piece.map(|item| (item,)), n, reply)
            .is_err()
        {
            break;
        }
    }
    index
}

/// An integer type whose ranges a pool can cut into pieces by arithmetic.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, WorkerPool};
///
/// #[worker_fn]
/// fn halve(x: i16) -> i16 {
///     x / 2
/// }
///
/// // Every primitive integer type but the 128-bit ones.
/// let pool = WorkerPool::new(2)?;
/// assert_eq!(pool.map_range(halve, -4..4)?, [-2, -1, -1, 0, 0, 0, 1, 1]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
pub trait RangeItem: Copy + Send + 'static + crate::TaskValue {
    /// How many items `range` holds (0 when it is empty or reversed), capped at `usize::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::RangeItem;
    ///
    /// assert_eq!(u64::range_len(&(3..10)), 7);
    /// assert_eq!(i32::range_len(&(-5..5)), 10);
    /// assert_eq!(u8::range_len(&(9..2)), 0); // reversed: empty
    /// ```
    fn range_len(range: &Range<Self>) -> usize;
    /// `start` advanced by `by` items, which the caller keeps within the range.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::RangeItem;
    ///
    /// assert_eq!(u64::offset(10, 5), 15);
    /// assert_eq!(i8::offset(-100, 200), 100);
    /// ```
    fn offset(start: Self, by: usize) -> Self;
}

macro_rules! range_item {
    ($($int:ty),*) => {$(
        impl RangeItem for $int {
            fn range_len(range: &Range<Self>) -> usize {
                if range.end <= range.start {
                    return 0;
                }
                usize::try_from(range.end.abs_diff(range.start)).unwrap_or(usize::MAX)
            }

            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_possible_wrap,
                clippy::cast_lossless,
                clippy::cast_sign_loss,
                reason = "`by` never passes the range's end, so the sum fits in the type, \
                          and i128 holds every start plus every usize"
            )]
            fn offset(start: Self, by: usize) -> Self {
                (start as i128 + by as i128) as Self
            }
        }
    )*};
}

range_item!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

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

#[cfg(test)]
mod range_tests {
    use super::RangeItem;

    #[test]
    fn ranges_measure_and_offset_exactly() {
        assert_eq!(u64::range_len(&(3..10)), 7);
        let (high, low) = (10_u64, 3_u64);
        assert_eq!(u64::range_len(&(high..low)), 0, "a reversed range is empty");
        assert_eq!(i64::range_len(&(i64::MIN..i64::MAX)), usize::MAX);
        assert_eq!(i32::range_len(&(-5..5)), 10);
        assert_eq!(i32::offset(-5, 7), 2);
        assert_eq!(u8::offset(250, 5), 255);
        assert_eq!(i64::offset(i64::MIN, 1), i64::MIN + 1);
    }
}
