//! `Barrier`: arrival indices, many rounds, the action, timeouts that break
//! it, `reset`, `abort`, its properties, and construction errors.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use freethreading::{Barrier, BarrierError, BrokenBarrier, worker_fn};

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

static COUNTED_ROUNDS: AtomicUsize = AtomicUsize::new(0);
static ACTION_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

/// Counts the rounds it ends and notes the thread it ran on.
#[worker_fn]
fn count_round() {
    COUNTED_ROUNDS.fetch_add(1, Ordering::SeqCst);
    *ACTION_THREAD.lock().expect("action thread") = Some(std::thread::current().id());
}

#[worker_fn]
fn failing_action() {
    panic!("the barrier action failed");
}

#[worker_fn(name = "sync_barrier::ambiguous")]
fn ambiguous_one() {}

#[worker_fn(name = "sync_barrier::ambiguous")]
fn ambiguous_two() {}

/// Waits, polling, until `ready` holds: only for states no primitive reports,
/// such as a party being inside `wait`.
fn eventually(ready: impl Fn() -> bool) {
    let give_up = Instant::now() + GENEROUS;
    while !ready() {
        assert!(Instant::now() < give_up, "the state never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

freethreading_tests::backend_tests! {
    fn each_party_gets_a_distinct_arrival_index() {
        let barrier = Barrier::new(3).expect("three parties");
        let mut indices: Vec<usize> = std::thread::scope(|s| {
            let others: Vec<_> = (0..2).map(|_| s.spawn(|| barrier.wait())).collect();
            let mine = barrier.wait();
            others
                .into_iter()
                .map(|h| h.join().expect("party"))
                .chain([mine])
                .collect::<Result<_, _>>()
                .expect("nobody broke the barrier")
        });
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        assert!(!barrier.broken());
    }

    fn rounds_follow_one_another_without_mixing() {
        const PARTIES: usize = 4;
        const ROUNDS: usize = 50;
        let barrier = Barrier::new(PARTIES).expect("parties");
        let seen = Mutex::new(vec![Vec::new(); ROUNDS]);
        std::thread::scope(|s| {
            for _ in 0..PARTIES {
                s.spawn(|| {
                    for round in 0..ROUNDS {
                        let index = barrier.wait().expect("unbroken");
                        seen.lock().expect("seen")[round].push(index);
                    }
                });
            }
        });
        for (round, mut indices) in seen.into_inner().expect("seen").into_iter().enumerate() {
            indices.sort_unstable();
            assert_eq!(indices, [0, 1, 2, 3], "round {round}");
        }
    }

    fn the_action_runs_once_per_round_in_the_last_party_before_release() {
        let barrier = Barrier::new(3)
            .expect("three parties")
            .with_action(count_round)
            .expect("a registered action");
        let before = COUNTED_ROUNDS.load(Ordering::SeqCst);
        let results: Vec<(usize, ThreadId, usize)> = std::thread::scope(|s| {
            let parties: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        let index = barrier.wait().expect("unbroken");
                        // The action has run before anyone is let go.
                        let rounds = COUNTED_ROUNDS.load(Ordering::SeqCst) - before;
                        (index, std::thread::current().id(), rounds)
                    })
                })
                .collect();
            parties.into_iter().map(|h| h.join().expect("party")).collect()
        });
        assert_eq!(COUNTED_ROUNDS.load(Ordering::SeqCst) - before, 1);
        assert!(results.iter().all(|&(_, _, rounds)| rounds == 1));
        let last = results.iter().find(|&&(index, _, _)| index == 2).expect("index 2");
        assert_eq!(*ACTION_THREAD.lock().expect("action thread"), Some(last.1));
    }

    fn a_panicking_action_breaks_the_barrier() {
        let barrier = Barrier::new(2)
            .expect("two parties")
            .with_action(failing_action)
            .expect("a registered action");
        let outcomes: Vec<Result<usize, BrokenBarrier>> = std::thread::scope(|s| {
            let other = s.spawn(|| barrier.wait());
            let mine = barrier.wait();
            vec![mine, other.join().expect("a party never panics")]
        });
        assert_eq!(outcomes, [Err(BrokenBarrier), Err(BrokenBarrier)]);
        assert!(barrier.broken());
    }

    fn a_timeout_breaks_the_barrier() {
        let barrier = Barrier::new(2).expect("two parties");
        let start = Instant::now();
        assert_eq!(barrier.wait_timeout(SHORT), Err(BrokenBarrier));
        assert!(start.elapsed() >= SHORT);
        assert!(barrier.broken());
        assert_eq!(barrier.wait(), Err(BrokenBarrier), "broken for later waits too");
        assert_eq!(barrier.wait_timeout(GENEROUS), Err(BrokenBarrier));
    }

    fn the_default_timeout_applies_to_wait() {
        let barrier = Barrier::new(2).expect("two parties").with_timeout(SHORT);
        let start = Instant::now();
        assert_eq!(barrier.wait(), Err(BrokenBarrier));
        assert!(start.elapsed() >= SHORT);
        assert!(barrier.broken());
    }

    fn one_party_timing_out_breaks_the_barrier_for_the_others() {
        let barrier = Barrier::new(3).expect("three parties");
        std::thread::scope(|s| {
            let patient = s.spawn(|| barrier.wait());
            eventually(|| barrier.n_waiting() == 1);
            assert_eq!(barrier.wait_timeout(SHORT), Err(BrokenBarrier));
            assert_eq!(patient.join().expect("party"), Err(BrokenBarrier));
        });
        assert!(barrier.broken());
    }

    fn reset_mends_a_broken_barrier() {
        let barrier = Barrier::new(2).expect("two parties");
        barrier.abort();
        assert!(barrier.broken());
        barrier.reset();
        assert!(!barrier.broken());
        std::thread::scope(|s| {
            let other = s.spawn(|| barrier.wait_timeout(GENEROUS));
            let mine = barrier.wait_timeout(GENEROUS).expect("mended");
            assert_eq!(mine + other.join().expect("party").expect("mended"), 1);
        });
    }

    fn reset_fails_the_waiting_parties_and_starts_a_fresh_round() {
        let barrier = Barrier::new(2).expect("two parties");
        std::thread::scope(|s| {
            let waiting = s.spawn(|| barrier.wait());
            eventually(|| barrier.n_waiting() == 1);
            barrier.reset();
            assert_eq!(waiting.join().expect("party"), Err(BrokenBarrier));
        });
        assert!(!barrier.broken(), "a reset barrier is not broken");
        assert_eq!(barrier.n_waiting(), 0);
        std::thread::scope(|s| {
            let other = s.spawn(|| barrier.wait());
            assert!(barrier.wait().is_ok());
            assert!(other.join().expect("party").is_ok());
        });
    }

    fn abort_fails_waiting_and_later_parties() {
        let barrier = Barrier::new(3).expect("three parties");
        std::thread::scope(|s| {
            let waiting: Vec<_> = (0..2).map(|_| s.spawn(|| barrier.wait())).collect();
            eventually(|| barrier.n_waiting() == 2);
            barrier.abort();
            for party in waiting {
                assert_eq!(party.join().expect("party"), Err(BrokenBarrier));
            }
        });
        assert!(barrier.broken());
        assert_eq!(barrier.wait(), Err(BrokenBarrier));
        assert_eq!(BrokenBarrier.to_string(), "barrier is broken");
    }

    fn the_properties_describe_the_barrier() {
        let barrier = Barrier::new(2).expect("two parties");
        assert_eq!(barrier.parties(), 2);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.broken());
        std::thread::scope(|s| {
            let waiting = s.spawn(|| barrier.wait());
            eventually(|| barrier.n_waiting() == 1);
            let shown = format!("{barrier:?}");
            assert_eq!(shown, "Barrier { parties: 2, n_waiting: 1, broken: false }");
            assert!(barrier.wait().is_ok());
            assert!(waiting.join().expect("party").is_ok());
        });
        assert_eq!(barrier.n_waiting(), 0);
    }

    fn a_barrier_of_one_never_waits() {
        let barrier = Barrier::new(1).expect("one party");
        for _ in 0..3 {
            assert_eq!(barrier.wait(), Ok(0));
        }
        assert_eq!(barrier.wait_timeout(Duration::ZERO), Ok(0));
        assert_eq!(barrier.wait_timeout(Duration::MAX), Ok(0));
    }

    fn a_barrier_needs_a_party_and_a_findable_action() {
        let error = Barrier::new(0).unwrap_err();
        assert_eq!(error, BarrierError::NoParties);
        assert_eq!(error.to_string(), "a barrier needs at least one party");

        let error = Barrier::new(2)
            .expect("two parties")
            .with_action(ambiguous_one)
            .unwrap_err();
        assert!(matches!(error, BarrierError::Action(_)), "{error:?}");
        assert!(error.to_string().contains("sync_barrier::ambiguous"), "{error}");
        let barrier = Barrier::new(1).expect("one party");
        assert!(barrier.with_action(ambiguous_two).is_err(), "neither of the two");
    }

    fn clones_share_the_barrier() {
        let barrier = Barrier::new(2).expect("two parties").with_timeout(GENEROUS);
        let copy = barrier.clone();
        std::thread::scope(|s| {
            let other = s.spawn(move || copy.wait());
            assert!(barrier.wait().is_ok());
            assert!(other.join().expect("party").is_ok());
        });
        barrier.clone().abort();
        assert!(barrier.broken());
    }
}

/// Receives its barrier, then dies before it ever waits.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn die_before_waiting(_barrier: Barrier) {
    std::process::abort();
}

freethreading_tests::process_tests! {
    fn a_party_killed_before_it_waited_breaks_the_barrier() {
        let barrier = Barrier::new(2).unwrap();
        let pool = freethreading::WorkerPool::new(1).unwrap();
        let died = pool.apply(die_before_waiting, (barrier.clone(),)).unwrap_err();
        assert!(died.task_error().is_some_and(freethreading::TaskError::is_worker_death));
        // Told at once, not after the timeout.
        let start = Instant::now();
        assert_eq!(barrier.wait_timeout(Duration::from_secs(30)), Err(BrokenBarrier));
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }
}
