//! `RLock`: reentrancy, ownership, release by a non-owner, timeouts, and
//! handing the lock over between threads.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::{RLock, ReleaseError};

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

fn countdown(rlock: &RLock, n: u32, trail: &mut Vec<u32>) {
    let _guard = rlock.lock();
    trail.push(n);
    if n > 0 {
        countdown(rlock, n - 1, trail);
    }
}

/// Runs `f` on another thread and returns its result.
fn elsewhere<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().expect("helper thread"))
}

freethreading_tests::backend_tests! {
    fn the_holder_may_take_it_again() {
        let rlock = RLock::new();
        rlock.acquire();
        rlock.acquire();
        assert!(rlock.try_acquire());
        assert!(rlock.acquire_timeout(SHORT));
        assert!(rlock.is_owned());
        for _ in 0..4 {
            assert_eq!(rlock.release(), Ok(()));
        }
        assert!(!rlock.is_owned());
        assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
    }

    fn nested_guards_release_level_by_level() {
        let rlock = RLock::default();
        let mut trail = Vec::new();
        countdown(&rlock, 3, &mut trail);
        assert_eq!(trail, [3, 2, 1, 0]);
        assert!(!rlock.is_owned());

        let outer = rlock.lock();
        let inner = rlock.try_lock().expect("the holder takes it again");
        drop(inner);
        assert!(rlock.is_owned(), "one level is still held");
        assert!(!elsewhere(|| rlock.try_acquire()));
        drop(outer);
        assert!(elsewhere(|| {
            let taken = rlock.try_acquire();
            rlock.release().expect("the taker releases");
            taken
        }));
    }

    fn another_thread_cannot_take_a_held_rlock() {
        let rlock = RLock::new();
        let _guard = rlock.lock();
        let (taken, waited) = elsewhere(|| {
            assert!(!rlock.is_owned());
            assert!(!rlock.try_acquire());
            assert!(rlock.try_lock().is_none());
            let start = Instant::now();
            let taken = rlock.acquire_timeout(SHORT) || rlock.lock_timeout(SHORT).is_some();
            (taken, start.elapsed())
        });
        assert!(!taken);
        assert!(waited >= 2 * SHORT);
        assert!(rlock.is_owned(), "failed attempts leave the holder's levels alone");
    }

    fn only_the_holder_may_release() {
        let rlock = RLock::new();
        assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
        rlock.acquire();
        let error = elsewhere(|| rlock.release()).unwrap_err();
        assert_eq!(error, ReleaseError::NotOwner);
        assert_eq!(error.to_string(), "cannot release un-acquired lock");
        assert!(rlock.is_owned());
        assert_eq!(rlock.release(), Ok(()));
    }

    fn a_waiter_gets_the_lock_only_once_every_level_is_released() {
        let rlock = RLock::new();
        rlock.acquire();
        rlock.acquire();
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _guard = rlock.lock();
                sender.send(rlock.is_owned()).expect("main thread listening");
            });
            assert_eq!(rlock.release(), Ok(()));
            assert!(
                receiver.recv_timeout(SHORT).is_err(),
                "one level is still held: the thread must still be waiting"
            );
            assert_eq!(rlock.release(), Ok(()));
            assert_eq!(receiver.recv_timeout(GENEROUS), Ok(true));
        });
        assert!(rlock.try_acquire(), "free again after the thread's guard");
    }

    fn a_timed_acquire_of_a_free_rlock_succeeds_even_with_a_huge_timeout() {
        let rlock = RLock::new();
        assert!(rlock.acquire_timeout(Duration::MAX));
        let guard = rlock.lock_timeout(Duration::MAX);
        assert!(guard.is_some());
        drop(guard);
        assert_eq!(rlock.release(), Ok(()));
        assert!(!rlock.is_owned());
    }

    fn clones_share_one_rlock_and_debug_shows_the_count() {
        let rlock = RLock::new();
        let copy = rlock.clone();
        let outer = copy.lock();
        let inner = rlock.lock();
        let shown = format!("{rlock:?}");
        assert!(shown.contains("count: 2"), "{shown}");
        assert!(format!("{inner:?}").starts_with("RLockGuard"));
        drop((inner, outer));
        assert!(format!("{copy:?}").contains("owner: None"));
    }
}
