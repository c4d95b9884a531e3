//! `Event`: set and clear, waiting with and without a timeout, and waking
//! every waiter across threads.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::Event;

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

freethreading_tests::backend_tests! {
    fn set_and_clear_toggle_the_flag() {
        let event = Event::new();
        assert!(!event.is_set());
        event.set();
        assert!(event.is_set());
        event.set();
        assert!(event.is_set(), "setting twice keeps it set");
        event.clear();
        assert!(!event.is_set());
        event.clear();
        assert!(!Event::default().is_set());
    }

    fn a_timed_wait_on_an_unset_event_returns_false_after_the_timeout() {
        let event = Event::new();
        let start = Instant::now();
        assert!(!event.wait_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        assert!(!event.is_set());
    }

    fn waiting_on_a_set_event_returns_at_once() {
        let event = Event::new();
        event.set();
        event.wait();
        assert!(event.wait_timeout(GENEROUS));
        assert!(event.wait_timeout(Duration::MAX));
        assert!(event.wait_timeout(Duration::ZERO));
    }

    fn setting_wakes_every_waiting_thread() {
        let event = Event::new();
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            for _ in 0..3 {
                let (sender, event) = (sender.clone(), &event);
                s.spawn(move || {
                    event.wait();
                    sender.send(event.wait_timeout(GENEROUS)).expect("main thread listening");
                });
            }
            assert!(receiver.recv_timeout(SHORT).is_err(), "nobody passes before set");
            event.set();
            for _ in 0..3 {
                assert_eq!(receiver.recv_timeout(GENEROUS), Ok(true));
            }
        });
    }

    fn a_set_cleared_at_once_still_releases_every_waiting_thread() {
        let event = Event::new();
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            for _ in 0..3 {
                let (sender, event) = (sender.clone(), &event);
                s.spawn(move || {
                    sender.send(event.wait_timeout(GENEROUS)).expect("main thread listening");
                });
            }
            // Long enough for the waiters to stop polling and sleep.
            assert!(receiver.recv_timeout(SHORT).is_err(), "nobody passes before set");
            event.set();
            event.clear();
            for _ in 0..3 {
                assert_eq!(receiver.recv_timeout(GENEROUS), Ok(true), "released, as in Python");
            }
        });
        assert!(!event.is_set());
    }

    fn a_timed_wait_returns_true_when_set_from_another_thread() {
        let event = Event::new();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| event.wait_timeout(GENEROUS));
            event.set();
            assert!(waiter.join().expect("waiting thread"));
        });
    }

    fn clones_share_the_flag_and_debug_shows_it() {
        let event = Event::new();
        let copy = event.clone();
        assert_eq!(format!("{event:?}"), "Event { set: false }");
        copy.set();
        assert!(event.is_set());
        assert_eq!(format!("{event:?}"), "Event { set: true }");
    }
}
