//! `Semaphore` and `BoundedSemaphore`: counting, guards, timeouts, waking
//! waiters, and the bounded one's over-release error.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::{BoundedSemaphore, ReleaseError, Semaphore};

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

freethreading_tests::backend_tests! {
    fn a_semaphore_counts_its_permits() {
        let semaphore = Semaphore::new(2);
        assert_eq!(semaphore.value(), 2);
        semaphore.acquire();
        assert!(semaphore.try_acquire());
        assert!(!semaphore.try_acquire());
        assert_eq!(semaphore.value(), 0);
        semaphore.release();
        assert_eq!(semaphore.value(), 1);
        assert!(semaphore.try_acquire());
    }

    fn a_semaphore_may_be_released_beyond_its_initial_value() {
        let semaphore = Semaphore::new(1);
        semaphore.release();
        semaphore.release();
        assert_eq!(semaphore.value(), 3);
        semaphore.release_n(4);
        assert_eq!(semaphore.value(), 7);
        // The count saturates rather than overflowing.
        semaphore.release_n(usize::MAX);
        assert_eq!(semaphore.value(), usize::MAX);
        assert_eq!(Semaphore::default().value(), 1);
    }

    fn a_bounded_semaphore_refuses_to_exceed_its_initial_value() {
        let semaphore = BoundedSemaphore::new(2);
        assert_eq!(semaphore.bound(), 2);
        let error = semaphore.release().unwrap_err();
        assert_eq!(error, ReleaseError::TooManyReleases);
        assert_eq!(error.to_string(), "semaphore released too many times");
        semaphore.acquire();
        semaphore.acquire();
        assert_eq!(semaphore.release_n(3), Err(ReleaseError::TooManyReleases));
        assert_eq!(semaphore.value(), 0, "a refused release changes nothing");
        assert_eq!(semaphore.release_n(2), Ok(()));
        assert_eq!(semaphore.release(), Err(ReleaseError::TooManyReleases));
        assert_eq!(semaphore.release_n(usize::MAX), Err(ReleaseError::TooManyReleases));
        assert_eq!(semaphore.value(), 2);
        assert_eq!(BoundedSemaphore::default().bound(), 1);
    }

    fn the_guard_holds_a_permit_until_dropped() {
        let semaphore = Semaphore::new(1);
        {
            let _permit = semaphore.access();
            assert_eq!(semaphore.value(), 0);
            assert!(semaphore.try_access().is_none());
            assert_eq!(semaphore.value(), 0, "a failed try_access takes nothing back");
        }
        assert_eq!(semaphore.value(), 1);
        let permit = semaphore.access_timeout(GENEROUS);
        assert!(permit.is_some());
        drop(permit);

        let bounded = BoundedSemaphore::new(1);
        {
            let permit = bounded.try_access();
            assert!(permit.is_some());
            assert_eq!(bounded.value(), 0);
            assert!(bounded.access_timeout(SHORT).is_none());
            assert_eq!(bounded.value(), 0);
        }
        assert_eq!(bounded.value(), 1);
        let permit = bounded.access();
        // Released explicitly meanwhile: dropping the guard then is not an error.
        assert_eq!(bounded.release(), Ok(()));
        drop(permit);
        assert_eq!(bounded.value(), 1);
    }

    fn a_timed_acquire_gives_up_after_the_timeout() {
        let semaphore = Semaphore::new(0);
        let start = Instant::now();
        assert!(!semaphore.acquire_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        let bounded = BoundedSemaphore::new(0);
        let start = Instant::now();
        assert!(!bounded.acquire_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        semaphore.release();
        assert!(semaphore.acquire_timeout(Duration::MAX));
    }

    fn a_release_wakes_a_blocked_acquirer_in_another_thread() {
        let semaphore = Semaphore::new(0);
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                semaphore.acquire();
                sender.send(()).expect("main thread listening");
            });
            assert!(receiver.recv_timeout(SHORT).is_err(), "no permit yet");
            semaphore.release();
            receiver.recv_timeout(GENEROUS).expect("the permit reached the thread");
        });
        assert_eq!(semaphore.value(), 0);
    }

    fn release_n_wakes_as_many_waiters() {
        let semaphore = Semaphore::new(0);
        let passed = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    semaphore.acquire();
                    passed.fetch_add(1, Ordering::SeqCst);
                });
            }
            semaphore.release_n(3);
        });
        assert_eq!(passed.load(Ordering::SeqCst), 3);
        assert_eq!(semaphore.value(), 0);
    }

    fn a_semaphore_bounds_how_many_threads_are_inside() {
        let semaphore = BoundedSemaphore::new(2);
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let _permit = semaphore.access();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(semaphore.value(), 2);
    }

    fn clones_share_permits_and_debug_shows_the_count() {
        let semaphore = Semaphore::new(3);
        let copy = semaphore.clone();
        let permit = copy.access();
        assert_eq!(format!("{semaphore:?}"), "Semaphore { value: 2 }");
        assert!(format!("{permit:?}").starts_with("SemaphoreGuard"));
        let bounded = BoundedSemaphore::new(1);
        bounded.clone().acquire();
        assert_eq!(format!("{bounded:?}"), "BoundedSemaphore { value: 0, bound: 1 }");
    }
}
