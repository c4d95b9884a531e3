//! `Worker`: arguments, names, daemons, start, join and its timeout, the
//! misuse errors, panics, and workers that feed one another.
//!
//! A worker that must stay alive until the test says so waits at a [`Gate`].

// Task arguments are owned, even when only read: they cross to the worker by value.
#![allow(clippy::needless_pass_by_value)]

// Worker processes of this test binary start here.
freethreading::test_support!();

mod gate;

use std::time::{Duration, Instant};

use freethreading::{RegistryError, Task, Worker, WorkerError, current_worker, worker_fn};
use serde::{Deserialize, Serialize};

use gate::{Gate, pass_gate};

#[worker_fn]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[worker_fn]
fn describe(label: String, count: u32, factor: f64, flags: Vec<bool>) -> String {
    format!("{label}:{count}:{factor}:{flags:?}")
}

/// Python's `kwargs` become a struct passed as one argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Options {
    base: u64,
    exponent: u32,
    label: String,
}

#[worker_fn]
fn power(options: Options) -> (String, u64) {
    (options.label, options.base.pow(options.exponent))
}

#[worker_fn]
fn nothing() {}

#[worker_fn]
fn identity() -> (String, bool) {
    let me = current_worker();
    (me.name().to_owned(), me.is_daemon())
}

#[worker_fn]
fn summary(items: Vec<u64>) -> (usize, u64, Option<u64>) {
    (items.len(), items.iter().sum(), items.iter().copied().max())
}

#[worker_fn]
fn explode(what: String) -> u64 {
    panic!("cannot handle {what}")
}

#[worker_fn]
fn merge(mut left: Vec<u64>, right: Vec<u64>) -> Vec<u64> {
    left.extend(right);
    left.sort_unstable();
    left
}

/// Starts a worker of its own, with the default daemon flag, and returns
/// what the inner worker saw of itself.
#[worker_fn]
fn start_inner(name: String) -> (String, bool) {
    let inner = Worker::new(identity, ()).with_name(name);
    inner.start().expect("starting the inner worker");
    inner.join().expect("joining the inner worker")
}

// Two tasks under one name: a process could not tell which to run.
#[worker_fn(name = "worker_lifecycle::twin")]
fn first_twin() -> u8 {
    1
}

#[worker_fn(name = "worker_lifecycle::twin")]
fn second_twin() -> u8 {
    2
}

/// A task written by hand, without `#[worker_fn]`: never registered.
#[derive(Clone, Copy)]
struct Unregistered;

impl Task for Unregistered {
    type Args = ();
    type Output = u8;

    fn name(self) -> &'static str {
        "worker_lifecycle::unregistered"
    }

    fn call(self, (): ()) -> u8 {
        0
    }
}

fn run<R: freethreading::TaskValue>(worker: Worker<R>) -> R {
    worker.start().expect("starting a worker");
    worker.join().expect("joining a worker")
}

fn default_number(worker: &Worker<impl Sized>) -> u64 {
    let number = worker
        .name()
        .strip_prefix("Worker-")
        .expect("a default name");
    number.parse().expect("a number after `Worker-`")
}

freethreading_tests::backend_tests! {
    fn worker_passes_its_arguments() {
        assert_eq!(run(Worker::new(add, (2, 3))), 5);
        let flags = vec![true, false];
        let text = run(Worker::new(describe, ("x".to_owned(), 7, 1.5, flags)));
        assert_eq!(text, "x:7:1.5:[true, false]");
        run(Worker::new(nothing, ()));
    }

    fn worker_takes_a_struct_where_python_takes_kwargs() {
        let options = Options { base: 3, exponent: 4, label: "three".to_owned() };
        assert_eq!(run(Worker::new(power, (options,))), ("three".to_owned(), 81));
    }

    fn join_returns_the_task_value() {
        let items: Vec<u64> = (1..=100).collect();
        assert_eq!(run(Worker::new(summary, (items,))), (100, 5050, Some(100)));
        assert_eq!(run(Worker::new(summary, (Vec::new(),))), (0, 0, None));
    }

    fn worker_has_a_default_name_counted_from_one() {
        let first = Worker::new(nothing, ());
        let second = Worker::new(nothing, ());
        assert!(default_number(&first) >= 1);
        assert!(default_number(&second) > default_number(&first));
        let name = first.name().to_owned();
        first.start().unwrap();
        assert_eq!(first.name(), name);
        first.join().unwrap();
    }

    fn worker_has_the_name_it_is_given() {
        let worker = Worker::new(identity, ()).with_name("Named");
        assert_eq!(worker.name(), "Named");
        assert_eq!(run(worker).0, "Named");

        let mut worker = Worker::new(identity, ());
        worker.set_name("Renamed").unwrap();
        assert_eq!(worker.name(), "Renamed");
        assert_eq!(run(worker).0, "Renamed");

        // Any string is a name, even one the OS would not give a thread.
        assert_eq!(run(Worker::new(identity, ()).with_name("a\0b")).0, "a\0b");
        assert_eq!(run(Worker::new(identity, ()).with_name("")).0, "");
    }

    fn worker_daemon_flag_defaults_to_the_creator_and_is_seen_inside() {
        let worker = Worker::new(identity, ());
        assert!(!worker.daemon(), "the caller is not a daemon");
        assert!(!run(worker).1);

        let worker = Worker::new(identity, ()).with_daemon(true);
        assert!(worker.daemon());
        assert!(run(worker).1);

        let mut worker = Worker::new(identity, ());
        worker.set_daemon(true).unwrap();
        worker.set_daemon(false).unwrap();
        assert!(!run(worker).1);

        // A worker made inside a daemon worker is a daemon too, as in Python.
        let outer = Worker::new(start_inner, ("Inner".to_owned(),)).with_daemon(true);
        assert_eq!(run(outer), ("Inner".to_owned(), true));
        let outer = Worker::new(start_inner, ("Inner".to_owned(),));
        assert_eq!(run(outer), ("Inner".to_owned(), false));
    }

    fn is_alive_follows_the_task() {
        let gate = Gate::closed();
        let worker = Worker::new(pass_gate, (gate.path(), 9));
        assert!(!worker.is_alive());
        assert!(!worker.is_started());
        worker.start().unwrap();
        assert!(worker.is_alive(), "alive as soon as start returns");
        assert!(worker.is_started());
        gate.open();
        assert!(worker.join_timeout(Duration::from_secs(60)).unwrap());
        assert!(!worker.is_alive());
        assert!(worker.is_started());
        assert_eq!(worker.join().unwrap(), 9);
    }

    fn join_timeout_returns_false_while_running_and_true_once_finished() {
        let gate = Gate::closed();
        let worker = Worker::new(pass_gate, (gate.path(), 4));
        worker.start().unwrap();
        let timeout = Duration::from_millis(100);
        let begun = Instant::now();
        assert!(!worker.join_timeout(timeout).unwrap());
        assert!(begun.elapsed() >= timeout);
        assert!(!worker.join_timeout(Duration::ZERO).unwrap());
        assert!(worker.is_alive());
        gate.open();
        assert!(worker.join_timeout(Duration::from_secs(60)).unwrap());
        assert!(worker.join_timeout(Duration::ZERO).unwrap(), "finished stays finished");
        assert!(worker.join_timeout(Duration::MAX).unwrap(), "no overflow on a huge timeout");
        assert_eq!(worker.join().unwrap(), 4);
    }

    fn starting_twice_is_an_error() {
        let worker = Worker::new(add, (1, 1));
        worker.start().unwrap();
        assert!(matches!(worker.start(), Err(WorkerError::AlreadyStarted)));
        assert_eq!(worker.join().unwrap(), 2, "the first start still runs");

        let worker = Worker::new(add, (1, 2));
        worker.start().unwrap();
        assert!(worker.join_timeout(Duration::from_secs(60)).unwrap());
        assert!(matches!(worker.start(), Err(WorkerError::AlreadyStarted)));
        assert_eq!(worker.join().unwrap(), 3);
    }

    fn joining_before_start_is_an_error() {
        let worker = Worker::new(add, (1, 1));
        assert!(matches!(worker.join_timeout(Duration::ZERO), Err(WorkerError::NotStarted)));
        let error = worker.join().unwrap_err();
        assert!(matches!(error, WorkerError::NotStarted));
        assert_eq!(error.to_string(), "cannot join a worker before it is started");
    }

    fn daemon_and_name_are_fixed_after_start() {
        let gate = Gate::closed();
        let mut worker = Worker::new(pass_gate, (gate.path(), 1)).with_name("Fixed");
        worker.start().unwrap();
        assert!(matches!(worker.set_daemon(true), Err(WorkerError::AlreadyStarted)));
        assert!(matches!(worker.set_name("Other"), Err(WorkerError::AlreadyStarted)));
        assert!(!worker.daemon());
        assert_eq!(worker.name(), "Fixed");
        // The builder methods leave a started worker as it is.
        let worker = worker.with_daemon(true).with_name("Other");
        assert!(!worker.daemon());
        assert_eq!(worker.name(), "Fixed");
        gate.open();
        assert_eq!(worker.join().unwrap(), 1);
    }

    fn a_panic_in_the_task_comes_back_from_join() {
        let worker = Worker::new(explode, ("lava".to_owned(),)).with_name("Fragile");
        worker.start().unwrap();
        let error = worker.join().unwrap_err();
        let task_error = error.task_error().expect("a task error");
        assert!(task_error.is_panic());
        assert_eq!(task_error.panic_message(), Some("cannot handle lava"));
        assert!(error.to_string().contains("cannot handle lava"), "{error}");
        assert!(std::error::Error::source(&error).is_some());
        // The program goes on, and so do other workers.
        assert_eq!(run(Worker::new(add, (20, 22))), 42);
    }

    fn a_task_under_a_duplicated_name_is_rejected_at_start() {
        assert_eq!(first_twin(), 1);
        assert_eq!(second_twin(), 2);
        let worker = Worker::new(first_twin, ());
        let error = worker.start().unwrap_err();
        let WorkerError::Registry(RegistryError::Duplicate { name, definitions }) = &error else {
            panic!("expected a duplicate-name error, got {error:?}");
        };
        assert_eq!(name, "worker_lifecycle::twin");
        assert_eq!(definitions.len(), 2);
        assert!(error.to_string().contains("worker_lifecycle::twin"), "{error}");
        assert!(!worker.is_started());
        assert!(!worker.is_alive());
        assert!(matches!(worker.join(), Err(WorkerError::NotStarted)));
    }

    fn a_task_that_is_not_registered_is_rejected_at_start() {
        let worker = Worker::new(Unregistered, ());
        assert_eq!(worker.task_name(), "worker_lifecycle::unregistered");
        let error = worker.start().unwrap_err();
        assert!(
            matches!(&error, WorkerError::Registry(RegistryError::Unknown { .. })),
            "{error:?}"
        );
        assert!(!worker.is_started());
    }

    fn many_workers_run_at_once() {
        let workers: Vec<Worker<u64>> = (0..200).map(|i| Worker::new(add, (i, i))).collect();
        for worker in &workers {
            worker.start().unwrap();
        }
        let results: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        assert_eq!(results, (0..200).map(|i| 2 * i).collect::<Vec<u64>>());
    }

    fn workers_feed_one_another_through_their_results() {
        let halves = [vec![5, 1, 9], vec![4, 8, 2], vec![7, 3, 6], vec![0]];
        let mut layer: Vec<Vec<u64>> = halves.to_vec();
        while layer.len() > 1 {
            let workers: Vec<Worker<Vec<u64>>> = layer
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => Worker::new(merge, (left.clone(), right.clone())),
                    [single] => Worker::new(merge, (single.clone(), Vec::new())),
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            for worker in &workers {
                worker.start().unwrap();
            }
            layer = workers.into_iter().map(|w| w.join().unwrap()).collect();
        }
        assert_eq!(layer, [(0..10).collect::<Vec<u64>>()]);

        let mut total = 0;
        for step in 1..=10 {
            total = run(Worker::new(add, (total, step)));
        }
        assert_eq!(total, 55);
    }

    fn a_worker_starts_and_joins_a_worker_of_its_own() {
        let outer = Worker::new(start_inner, ("Nested".to_owned(),)).with_name("Outer");
        assert_eq!(run(outer), ("Nested".to_owned(), false));
    }

    fn a_dropped_worker_runs_on() {
        let gate = Gate::closed();
        let worker = Worker::new(pass_gate, (gate.path(), 0)).with_name("Detached-lifecycle");
        worker.start().unwrap();
        drop(worker);
        let listed = || {
            freethreading::enumerate()
                .iter()
                .any(|w| w.name() == "Detached-lifecycle")
        };
        assert!(listed(), "a detached worker is still alive");
        gate.open();
        let deadline = Instant::now() + Duration::from_secs(60);
        while listed() {
            assert!(Instant::now() < deadline, "the detached worker never finished");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn worker_is_debug_and_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        let worker = Worker::new(add, (1, 2)).with_name("Shown");
        assert_send_sync(&worker);
        let text = format!("{worker:?}");
        assert!(text.contains("Shown") && text.contains("unstarted"), "{text}");
        std::thread::scope(|scope| {
            scope.spawn(|| worker.start().unwrap());
        });
        assert!(worker.join_timeout(Duration::from_secs(60)).unwrap());
        assert!(format!("{worker:?}").contains("finished"));
        assert_eq!(worker.join().unwrap(), 3);
    }
}
