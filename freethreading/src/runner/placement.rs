//! An output vector that several workers fill at once, each chunk into its own range.
//!
//! A `map` knows (or estimates) its length before it starts, and every chunk
//! but the last has `chunksize` items, so chunk `i` belongs at
//! `i * chunksize`. Workers move their results there as they finish, in
//! parallel, instead of one thread appending everything in order at the end:
//! that copy, and the page faults of a fresh output, were most of the time of
//! a large `map` of cheap tasks. A chunk that does not fit (the input was
//! longer than its size hint said) is handed back to be appended afterwards.
//!
//! It lives with the runners, below the pool that makes it, because a job's
//! reply writes through its [`Slot`]. This is the runners' one use of
//! `unsafe`: raw writes into the spare capacity of a vector. The bookkeeping
//! under the mutex makes every write go to a range no other write touches,
//! and keeps the allocation alive and unread until every write that started
//! has been recorded.

use std::mem::ManuallyDrop;
use std::ops::Range;
use std::ptr;

use parking_lot::Mutex;

pub(crate) struct Placement<R> {
    /// The allocation of a `Vec<R>` of length 0, owned by this value.
    base: *mut R,
    capacity: usize,
    chunksize: usize,
    book: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    /// Chunk indices that claimed their range, written or not yet.
    claimed: Vec<bool>,
    /// Ranges that hold initialized values.
    written: Vec<Range<usize>>,
    /// Claims whose write has not been recorded yet.
    in_flight: usize,
    /// The buffer was handed out as a `Vec`; nothing may be placed any more.
    taken: bool,
}

// SAFETY: `base` is only written through `place`, each write to a range that
// no other write can claim (see `Book`), and values of `R` move into it from
// whichever thread places them, which `R: Send` allows. Reading the values
// (in `take` and `drop`) happens after every write is recorded under the mutex.
unsafe impl<R: Send> Send for Placement<R> {}
// SAFETY: as above; `&Placement` only offers `place` and `take`, both synchronized.
unsafe impl<R: Send> Sync for Placement<R> {}

impl<R> Placement<R> {
    /// A buffer for `capacity` items (none if that cannot be allocated) in chunks of `chunksize`.
    pub(crate) fn new(capacity: usize, chunksize: usize) -> Self {
        let mut buffer = Vec::new();
        // A size hint is only a hint: a huge one must not abort the program.
        let _ = buffer.try_reserve_exact(capacity);
        let mut buffer = ManuallyDrop::new(buffer);
        Placement {
            base: buffer.as_mut_ptr(),
            capacity: buffer.capacity(),
            chunksize,
            book: Mutex::new(Book::default()),
        }
    }

    /// The range of chunk `index` with `len` items, if it fits in the buffer.
    fn range(&self, index: usize, len: usize) -> Option<Range<usize>> {
        if len > self.chunksize {
            return None;
        }
        let start = index.checked_mul(self.chunksize)?;
        let end = start.checked_add(len)?;
        (end <= self.capacity).then_some(start..end)
    }

    /// Claims the range of chunk `index` for `len` values, if it fits and is
    /// not claimed yet; the values are then written through the [`Slot`].
    pub(crate) fn slot(&self, index: usize, len: usize) -> Option<Slot<'_, R>> {
        let range = self.range(index, len)?;
        let mut book = self.book.lock();
        if book.taken || book.claimed.get(index).copied().unwrap_or(false) {
            return None;
        }
        if book.claimed.len() <= index {
            book.claimed.resize(index + 1, false);
        }
        book.claimed[index] = true;
        book.in_flight += 1;
        Some(Slot {
            placement: self,
            range,
            written: 0,
        })
    }

    /// Moves the results of chunk `index` into place, or gives them back when
    /// they do not fit or the chunk was placed already.
    pub(crate) fn place(&self, index: usize, mut results: Vec<R>) -> Result<(), Vec<R>> {
        let Some(mut slot) = self.slot(index, results.len()) else {
            return Err(results);
        };
        // SAFETY: the slot's range lies in the allocation and is this slot's
        // alone (see `slot` and `Slot`), and holds exactly `results.len()`
        // values; `results` is a different allocation.
        unsafe {
            ptr::copy_nonoverlapping(results.as_ptr(), slot.start(), results.len());
            // The values now live in the buffer; `results` must not drop them.
            results.set_len(0);
        }
        slot.written = slot.range.len();
        slot.commit();
        Ok(())
    }

    /// Records a slot's values as written, or drops what it wrote and gives
    /// its claim up when it is not full.
    fn release(&self, slot: &Slot<'_, R>) {
        let full = slot.written == slot.range.len();
        if !full {
            // SAFETY: the slot wrote its first `written` values and they are
            // not recorded anywhere, so they are dropped here, once.
            unsafe {
                ptr::drop_in_place(ptr::slice_from_raw_parts_mut(slot.start(), slot.written));
            }
        }
        let mut book = self.book.lock();
        if full {
            book.written.push(slot.range.clone());
        }
        book.in_flight -= 1;
    }

    /// The placed values as one vector, when they fill `0..len` exactly and no
    /// write is under way; `None` otherwise. Nothing can be placed afterwards.
    pub(crate) fn take(&self) -> Option<Vec<R>> {
        let mut book = self.book.lock();
        if book.taken || book.in_flight != 0 {
            return None;
        }
        book.written.sort_unstable_by_key(|range| range.start);
        let mut len = 0;
        for range in &book.written {
            if range.start != len {
                return None;
            }
            len = range.end;
        }
        book.taken = true;
        // SAFETY: `base` and `capacity` come from a `Vec<R>` this value owns
        // and has not given away (`taken` was false); `0..len` is covered by
        // written ranges, so initialized; no write is in flight, and none can
        // start now that `taken` is set.
        Some(unsafe { Vec::from_raw_parts(self.base, len, self.capacity) })
    }
}

/// The claimed range of one chunk, written in place by the worker that ran it.
///
/// Committed full, its values belong to the output; dropped otherwise (the
/// task panicked part-way), the values it wrote are dropped and the chunk
/// counts as not placed.
pub(crate) struct Slot<'a, R> {
    placement: &'a Placement<R>,
    range: Range<usize>,
    /// How many values of the range, from its start, are written.
    written: usize,
}

impl<R> Slot<'_, R> {
    fn start(&self) -> *mut R {
        // SAFETY: `range.start <= capacity`, checked by `Placement::range`.
        unsafe { self.placement.base.add(self.range.start) }
    }

    /// Writes `values` into the slot in order, until it is full; the values
    /// beyond that are dropped unread.
    pub(crate) fn fill(&mut self, values: impl Iterator<Item = R>) {
        let len = self.range.len();
        // SAFETY: the range is inside the allocation and claimed by this slot
        // alone, and `MaybeUninit` needs no initialized contents.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(self.start().cast::<std::mem::MaybeUninit<R>>(), len)
        };
        for (place, value) in spare[self.written..].iter_mut().zip(values) {
            place.write(value);
            // Counted as it goes, so a panic in `values` leaves an exact count.
            self.written += 1;
        }
    }

    /// Whether every value of the range is written.
    pub(crate) fn is_full(&self) -> bool {
        self.written == self.range.len()
    }

    /// Hands the written values to the output; `false` (and they are dropped)
    /// unless the slot is full.
    pub(crate) fn commit(self) -> bool {
        let full = self.is_full();
        // `Drop` does the bookkeeping either way.
        drop(self);
        full
    }
}

impl<R> Drop for Slot<'_, R> {
    fn drop(&mut self) {
        self.placement.release(self);
    }
}

impl<R> Drop for Placement<R> {
    fn drop(&mut self) {
        let book = self.book.get_mut();
        if book.taken {
            return;
        }
        // SAFETY: nothing else can reach `self` any more, so every write has
        // finished and is recorded; the written ranges hold initialized values
        // that nobody owns but this buffer. Rebuilding the empty `Vec` frees
        // the allocation it came from.
        unsafe {
            for range in &book.written {
                ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                    self.base.add(range.start),
                    range.len(),
                ));
            }
            drop(Vec::from_raw_parts(self.base, 0, self.capacity));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_placed_out_of_order_make_one_vector() {
        let placement = Placement::new(7, 3);
        assert!(placement.place(2, vec!["g".to_owned()]).is_ok());
        assert!(
            placement
                .place(0, vec!["a".into(), "b".into(), "c".into()])
                .is_ok()
        );
        assert!(
            placement
                .place(1, vec!["d".into(), "e".into(), "f".into()])
                .is_ok()
        );
        assert_eq!(
            placement.take().unwrap(),
            ["a", "b", "c", "d", "e", "f", "g"]
        );
        assert!(placement.place(3, vec!["h".to_owned()]).is_err(), "taken");
    }

    #[test]
    fn what_does_not_fit_is_given_back() {
        let placement = Placement::new(4, 3);
        assert!(placement.place(0, vec![1, 2, 3]).is_ok());
        assert_eq!(
            placement.place(1, vec![4, 5]),
            Err(vec![4, 5]),
            "past capacity"
        );
        assert_eq!(placement.place(0, vec![9]), Err(vec![9]), "placed already");
        assert_eq!(
            placement.place(3, vec![1, 2, 3, 4]),
            Err(vec![1, 2, 3, 4]),
            "too long"
        );
        assert_eq!(placement.take().unwrap(), [1, 2, 3]);
    }

    #[test]
    fn a_gap_is_not_taken_and_drop_frees_what_was_placed() {
        let placement = Placement::new(6, 2);
        assert!(
            placement
                .place(1, vec![String::from("x"), String::from("y")])
                .is_ok()
        );
        assert!(placement.take().is_none());
        drop(placement); // Miri or a leak checker would flag a leak or double drop here.
    }

    #[test]
    fn a_slot_left_part_written_drops_its_values_and_is_not_placed() {
        let placement = Placement::new(4, 2);
        let mut slot = placement.slot(0, 2).unwrap();
        slot.fill(std::iter::once(String::from("only one")));
        assert!(!slot.commit());
        let mut slot = placement.slot(1, 2).unwrap();
        slot.fill(["c", "d", "extra"].map(String::from).into_iter());
        assert!(slot.commit());
        assert!(placement.take().is_none(), "chunk 0 is missing");
    }

    #[test]
    fn a_panic_while_filling_drops_what_was_written() {
        let placement = Placement::new(3, 3);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut slot = placement.slot(0, 3).unwrap();
            slot.fill((0..3).map(|i| {
                assert!(i < 2, "third value fails");
                vec![i]
            }));
        }));
        assert!(result.is_err());
        assert!(placement.slot(0, 3).is_none(), "claimed once only");
        assert!(placement.take().is_some_and(|v| v.is_empty()));
    }

    #[test]
    fn an_enormous_capacity_is_no_capacity() {
        let placement: Placement<u64> = Placement::new(usize::MAX, 2);
        assert_eq!(placement.place(0, vec![1, 2]), Err(vec![1, 2]));
        assert_eq!(placement.take().unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn zero_sized_values_are_placed_too() {
        let placement = Placement::new(5, 2);
        assert!(placement.place(1, vec![(), ()]).is_ok());
        assert!(placement.place(0, vec![(), ()]).is_ok());
        assert!(placement.place(2, vec![()]).is_ok());
        assert_eq!(placement.take().unwrap().len(), 5);
    }
}
