//! Futex-style wait and wake on a word of an arena shared between processes.
//!
//! `WaitOnAddress` only reaches threads of one process, so a word inside an
//! arena view parks on a named event instead. The parking region before the
//! arena (see [`memfd`](super::memfd)) holds 4096 buckets, picked by a hash
//! of the word's offset; each counts its waiters and wakes. A waiter of
//! bucket `b` that read wake count `g` sleeps on the manual-reset event
//! `Local\freethreading-<arena id>-<b>-<g>`, which it creates (or opens); a
//! waker bumps the count to `g + 1` and sets the event of `g` if it exists.
//! The waiter re-reads the count after creating its event, so a wake either
//! comes before that (it does not sleep) or finds the event (it is woken):
//! none is lost. An event is set once and freed with its last handle.
//!
//! Uncontended, nothing calls the kernel: a waker sees no waiter in the
//! bucket. Words outside every arena (in one process only) use
//! `WaitOnAddress` directly.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::Duration;

use parking_lot::RwLock;
use windows_sys::Win32::Foundation::{FALSE, TRUE};
use windows_sys::Win32::System::Threading::{
    CreateEventW, EVENT_MODIFY_STATE, INFINITE, OpenEventW, SetEvent, WaitForSingleObject,
    WaitOnAddress, WakeByAddressAll, WakeByAddressSingle,
};

use super::memfd::PARKING;

/// Where the buckets start in the parking region (after the header).
const BUCKETS_AT: usize = 4096;
const BUCKETS: usize = 4096;

/// One parking bucket, shared by every process mapping the arena.
#[repr(C)]
struct Bucket {
    /// Threads between announcing a wait and leaving it.
    waiters: AtomicU32,
    /// Wakes so far: names the event of the next one.
    wakes: AtomicU32,
}

const _: () = assert!(BUCKETS_AT + BUCKETS * size_of::<Bucket>() <= PARKING);

/// An arena view of this process: its address range and its id.
#[derive(Clone, Copy)]
struct Region {
    start: usize,
    len: usize,
    id: u64,
}

static REGIONS: RwLock<Vec<Region>> = RwLock::new(Vec::new());

/// Records a view of `len` bytes at `start` (the parking region first).
pub(crate) fn register(start: NonNull<u8>, len: usize, id: u64) {
    REGIONS.write().push(Region {
        start: start.as_ptr() as usize,
        len,
        id,
    });
}

/// Forgets the view at `start`, before it is unmapped.
pub(crate) fn unregister(start: NonNull<u8>) {
    REGIONS
        .write()
        .retain(|r| r.start != start.as_ptr() as usize);
}

/// The region holding `word`, its bucket and the bucket's index.
fn bucket_of(word: &AtomicU32) -> Option<(Region, &'static Bucket, usize)> {
    let at = std::ptr::from_ref(word) as usize;
    let region = *REGIONS
        .read()
        .iter()
        .find(|r| at >= r.start + PARKING && at < r.start + r.len)?;
    // Fibonacci hashing of the word index: neighbours land far apart.
    let index = ((at - region.start) / 4).wrapping_mul(0x9E37_79B9) % BUCKETS;
    let place = region.start + BUCKETS_AT + index * size_of::<Bucket>();
    // SAFETY: `place` is inside the parking region of a live, registered
    // view (`word` borrows the arena, so the view outlives this call), aligned,
    // and a bucket is atomics only. The `'static` is only for this call.
    let bucket = unsafe { &*(place as *const Bucket) };
    Some((region, bucket, index))
}

fn event_name(region: Region, index: usize, wakes: u32) -> Vec<u16> {
    super::wide(format!(
        r"Local\freethreading-{:x}-{index}-{wakes}",
        region.id
    ))
}

fn millis(timeout: Option<Duration>) -> u32 {
    timeout.map_or(INFINITE, |t| {
        let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
        u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
    })
}

/// Sleeps while `word` holds `expected`, at most `timeout` (forever for
/// `None`). May return early; callers re-check their condition in a loop.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let Some((region, bucket, index)) = bucket_of(word) else {
        // SAFETY: both pointers are to live 4-byte words.
        unsafe {
            WaitOnAddress(
                std::ptr::from_ref(word).cast(),
                std::ptr::from_ref(&expected).cast(),
                4,
                millis(timeout),
            )
        };
        return;
    };
    bucket.waiters.fetch_add(1, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    let wakes = bucket.wakes.load(Ordering::SeqCst);
    if word.load(Ordering::SeqCst) == expected {
        let name = event_name(region, index, wakes);
        // SAFETY: plain call with a NUL-terminated name.
        let event = unsafe { CreateEventW(std::ptr::null(), TRUE, FALSE, name.as_ptr()) };
        if let Ok(event) = super::owned(event) {
            if bucket.wakes.load(Ordering::SeqCst) == wakes {
                // SAFETY: a live event handle.
                unsafe {
                    WaitForSingleObject(
                        std::os::windows::io::AsRawHandle::as_raw_handle(&event),
                        millis(timeout),
                    )
                };
            }
        } else {
            // No event (out of handles): a short nap keeps the caller's loop
            // from spinning hot.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    bucket.waiters.fetch_sub(1, Ordering::SeqCst);
}

/// Wakes threads sleeping in [`wait`] on `word`: at most `n` for a word of
/// one process; in an arena, every sleeper of its bucket (each re-checks
/// its own word, so the extra ones go back to sleep).
pub(crate) fn wake(word: &AtomicU32, n: u32) {
    let Some((region, bucket, index)) = bucket_of(word) else {
        let address = std::ptr::from_ref(word).cast();
        // SAFETY: `address` is a live word.
        unsafe {
            if n == 1 {
                WakeByAddressSingle(address);
            } else {
                WakeByAddressAll(address);
            }
        }
        return;
    };
    fence(Ordering::SeqCst);
    if bucket.waiters.load(Ordering::SeqCst) == 0 {
        return;
    }
    let wakes = bucket.wakes.fetch_add(1, Ordering::SeqCst);
    let name = event_name(region, index, wakes);
    // SAFETY: plain call with a NUL-terminated name; a missing event (every
    // waiter of that count gone already) is a null handle.
    let event = unsafe { OpenEventW(EVENT_MODIFY_STATE, FALSE, name.as_ptr()) };
    if let Ok(event) = super::owned(event) {
        // SAFETY: a live event handle with EVENT_MODIFY_STATE.
        unsafe { SetEvent(std::os::windows::io::AsRawHandle::as_raw_handle(&event)) };
    }
}

#[cfg(test)]
mod tests {
    use std::os::windows::io::AsHandle;
    use std::time::Instant;

    use super::*;
    use crate::sys::windows::memfd::{Mapping, create};

    /// Two views of one section stand for two processes: the word has two
    /// addresses, which `WaitOnAddress` would never connect.
    #[test]
    fn a_wake_through_one_view_reaches_a_sleeper_on_another() {
        let section = create(1 << 16).unwrap();
        let a = Mapping::new(section.as_handle(), 1 << 16).unwrap();
        let b = Mapping::new(section.as_handle(), 1 << 16).unwrap();
        // SAFETY: offset 64 of each arena, aligned, inside both views.
        let (wa, wb) = unsafe {
            (
                &*a.base().add(64).cast::<AtomicU32>().as_ptr(),
                &*b.base().add(64).cast::<AtomicU32>().as_ptr(),
            )
        };
        std::thread::scope(|s| {
            let sleeper = s.spawn(|| {
                let start = Instant::now();
                while wb.load(Ordering::SeqCst) == 0 {
                    wait(wb, 0, Some(Duration::from_secs(20)));
                }
                start.elapsed()
            });
            std::thread::sleep(Duration::from_millis(100));
            wa.store(1, Ordering::SeqCst);
            wake(wa, 1);
            assert!(
                sleeper.join().unwrap() < Duration::from_secs(10),
                "woken, not timed out"
            );
        });
    }

    #[test]
    fn a_changed_word_or_a_timeout_ends_a_wait() {
        let section = create(1 << 16).unwrap();
        let a = Mapping::new(section.as_handle(), 1 << 16).unwrap();
        // SAFETY: offset 0 of the arena, aligned.
        let word = unsafe { &*a.base().cast::<AtomicU32>().as_ptr() };
        wait(word, 5, None);
        let start = Instant::now();
        wait(word, 0, Some(Duration::from_millis(50)));
        assert!(start.elapsed() >= Duration::from_millis(40));
        let local = AtomicU32::new(0);
        wait(&local, 0, Some(Duration::from_millis(10)));
        wake(&local, 1);
    }
}
