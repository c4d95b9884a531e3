//! `Lock`: the guard, explicit acquire and release, timeouts, non-blocking
//! attempts, release from another worker, and mutual exclusion.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::{Lock, ReleaseError};

const SHORT: Duration = Duration::from_millis(50);
/// Long enough never to pass on a loaded machine when something is wrong.
const GENEROUS: Duration = Duration::from_secs(30);

freethreading_tests::backend_tests! {
    fn the_guard_toggles_locked() {
        let lock = Lock::new();
        assert!(!lock.locked());
        {
            let _guard = lock.lock();
            assert!(lock.locked());
        }
        assert!(!lock.locked());
    }

    fn acquire_and_release_explicitly() {
        let lock = Lock::default();
        lock.acquire();
        assert!(lock.locked());
        assert_eq!(lock.release(), Ok(()));
        assert!(!lock.locked());
    }

    fn a_timed_acquire_of_a_held_lock_gives_up_after_the_timeout() {
        let lock = Lock::new();
        let _held = lock.lock();
        let start = Instant::now();
        assert!(!lock.acquire_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        let start = Instant::now();
        assert!(lock.lock_timeout(SHORT).is_none());
        assert!(start.elapsed() >= SHORT);
        assert!(lock.locked(), "a failed attempt leaves the lock held");
    }

    fn a_timed_acquire_of_a_free_lock_succeeds() {
        let lock = Lock::new();
        assert!(lock.acquire_timeout(GENEROUS));
        assert_eq!(lock.release(), Ok(()));
        let guard = lock.lock_timeout(GENEROUS);
        assert!(guard.is_some() && lock.locked());
        drop(guard);
        // A timeout too large for the clock means "forever", not a panic.
        assert!(lock.acquire_timeout(Duration::MAX));
    }

    fn a_non_blocking_acquire_does_not_wait() {
        let lock = Lock::new();
        assert!(lock.try_acquire());
        assert!(!lock.try_acquire());
        assert!(lock.try_lock().is_none());
        assert!(lock.locked(), "a failed try_lock must not release the lock");
        assert_eq!(lock.release(), Ok(()));
        let guard = lock.try_lock();
        assert!(guard.is_some());
        assert!(lock.locked());
    }

    fn releasing_an_unlocked_lock_is_an_error() {
        let lock = Lock::new();
        assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
        lock.acquire();
        assert_eq!(lock.release(), Ok(()));
        let error = lock.release().unwrap_err();
        assert_eq!(error, ReleaseError::Unlocked);
        assert_eq!(error.to_string(), "release unlocked lock");
    }

    fn a_guard_outliving_an_explicit_release_leaves_the_lock_alone() {
        let lock = Lock::new();
        let guard = lock.lock();
        assert_eq!(lock.release(), Ok(()));
        drop(guard); // nothing left to release: no panic, no error
        assert!(!lock.locked());
    }

    fn another_thread_may_release_the_lock() {
        let lock = Lock::new();
        lock.acquire();
        let other = lock.clone();
        std::thread::spawn(move || other.release())
            .join()
            .expect("releasing thread")
            .expect("release from another thread");
        assert!(!lock.locked());
        assert!(lock.try_acquire());
    }

    fn a_blocked_acquire_resumes_when_another_thread_releases() {
        let lock = Lock::new();
        lock.acquire();
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _guard = lock.lock();
                sender.send(()).expect("main thread listening");
            });
            assert!(
                receiver.recv_timeout(SHORT).is_err(),
                "the lock is held: the thread must still be waiting"
            );
            assert_eq!(lock.release(), Ok(()));
            receiver.recv_timeout(GENEROUS).expect("the thread got the lock");
        });
        assert!(!lock.locked());
    }

    fn only_one_thread_at_a_time_holds_the_lock() {
        let lock = Lock::new();
        let inside = AtomicUsize::new(0);
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..500 {
                        let _guard = lock.lock();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        // A read-modify-write in two steps: lost updates if not exclusive.
                        let seen = total.load(Ordering::Relaxed);
                        total.store(seen + 1, Ordering::Relaxed);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 2000);
        assert!(!lock.locked());
    }

    fn clones_share_one_lock_and_debug_shows_its_state() {
        let lock = Lock::new();
        let copy = lock.clone();
        let guard = copy.lock();
        assert!(lock.locked());
        assert_eq!(format!("{lock:?}"), "Lock { locked: true }");
        assert!(format!("{guard:?}").starts_with("LockGuard"));
        drop(guard);
        assert_eq!(format!("{copy:?}"), "Lock { locked: false }");
    }
}
