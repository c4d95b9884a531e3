//! `Event`: set and clear, waiting with and without a timeout, and waking
//! every waiter across threads.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::Event;

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

/// Three threads wait on `event` with `wait`; once all three are about to
/// wait, and then long enough to be asleep in it, `release` runs, and every
/// one must return `true`. (Timing the threads' start alone failed under
/// load: a thread not yet waiting when the event is set and cleared at once
/// rightly waits on.)
fn three_waiters(
    event: &Event,
    wait: impl Fn(&Event) -> bool + Sync,
    release: impl FnOnce(&Event),
) {
    let (sender, receiver) = mpsc::channel();
    let (ready, all_ready) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..3 {
            let (sender, ready, wait) = (sender.clone(), ready.clone(), &wait);
            s.spawn(move || {
                ready.send(()).expect("main thread listening");
                sender.send(wait(event)).expect("main thread listening");
            });
        }
        for _ in 0..3 {
            all_ready
                .recv_timeout(GENEROUS)
                .expect("every waiter starts");
        }
        assert!(
            receiver.recv_timeout(SHORT).is_err(),
            "nobody passes before release"
        );
        release(event);
        for _ in 0..3 {
            assert_eq!(receiver.recv_timeout(GENEROUS), Ok(true));
        }
    });
}

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
        three_waiters(
            &event,
            |event| {
                event.wait();
                event.wait_timeout(GENEROUS)
            },
            Event::set,
        );
    }

    fn a_set_cleared_at_once_still_releases_every_waiting_thread() {
        let event = Event::new();
        three_waiters(&event, |event| event.wait_timeout(GENEROUS), |event| {
            event.set();
            event.clear();
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
