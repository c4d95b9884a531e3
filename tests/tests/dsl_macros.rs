//! The DSL macros: `parallel_map!` with named tasks and inline closures,
//! `spawn!` and `submit!`, their options, and their errors.

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{Task, WorkerPoolExecutor, parallel_map, spawn, submit, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[worker_fn]
fn countdown(n: u32) -> String {
    let steps: Vec<String> = (1..=n).rev().map(|i| format!("{i}...")).collect();
    format!("{} go!", steps.join(" "))
}

#[worker_fn]
fn answer() -> u64 {
    42
}

/// Panics on multiples of 10 above 0, naming the item.
#[worker_fn]
fn fragile(x: u64) -> u64 {
    assert!(x == 0 || x % 10 != 0, "boom {x}");
    x
}

mod tasks {
    /// A task reached through a path, not a name in scope.
    #[freethreading::worker_fn]
    pub fn double(x: i64) -> i64 {
        2 * x
    }
}

freethreading_tests::backend_tests! {
    fn parallel_map_of_a_named_task_keeps_order() {
        assert_eq!(parallel_map!(square, 0..5).unwrap(), [0, 1, 4, 9, 16]);
        let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
        assert_eq!(parallel_map!(square, 0..100).unwrap(), expected);
    }

    fn parallel_map_of_a_task_by_path() {
        assert_eq!(parallel_map!(tasks::double, vec![-1, 0, 4]).unwrap(), [-2, 0, 8]);
    }

    fn parallel_map_of_an_empty_input_is_empty() {
        assert!(parallel_map!(square, Vec::<u64>::new()).unwrap().is_empty());
        assert!(parallel_map!(|x: u64| x + 1, 0..0, workers = 2).unwrap().is_empty());
    }

    fn parallel_map_with_options() {
        let expected: Vec<u64> = (0..20).map(|x| x * x).collect();
        assert_eq!(parallel_map!(square, 0..20, workers = 4).unwrap(), expected);
        assert_eq!(parallel_map!(square, 0..20, chunksize = 3).unwrap(), expected);
        assert_eq!(
            parallel_map!(square, 0..20, chunksize = 8, workers = 2).unwrap(),
            expected
        );
    }

    fn parallel_map_of_a_closure_of_one_parameter() {
        assert_eq!(parallel_map!(|x: u64| x * x * x, 0..5).unwrap(), [0, 1, 8, 27, 64]);
        let lengths = parallel_map!(|word: String| word.len(), ["a", "bb", "ccc"].map(String::from));
        assert_eq!(lengths.unwrap(), [1, 2, 3]);
    }

    fn parallel_map_of_a_closure_of_two_parameters_takes_tuples() {
        let pairs = vec![(1, 2), (3, 4), (5, 6)];
        assert_eq!(parallel_map!(|a: i32, b: i32| a * b, pairs).unwrap(), [2, 12, 30]);
        let labelled = parallel_map!(
            |n: u32, label: String| format!("{label}{n}"),
            vec![(1, "a".to_owned()), (2, "b".to_owned())],
            chunksize = 1,
            workers = 2,
        );
        assert_eq!(labelled.unwrap(), ["a1", "b2"]);
    }

    fn parallel_map_of_a_named_task_of_two_parameters_takes_tuples() {
        let pairs = vec![(1, 2), (3, 4), (-5, 5)];
        assert_eq!(parallel_map!(add, pairs.clone()).unwrap(), [3, 7, 0]);
        assert_eq!(parallel_map!(add, pairs, chunksize = 1, workers = 2).unwrap(), [3, 7, 0]);
    }

    fn parallel_map_closure_can_call_tasks_and_patterns() {
        // A closure may call a `#[worker_fn]`: naming an item is no capture.
        assert_eq!(parallel_map!(|x: u64| square(x) + 1, 0..3).unwrap(), [1, 2, 5]);
        let sums = parallel_map!(|(a, b): (u8, u8)| u16::from(a) + u16::from(b), vec![(1, 2)]);
        assert_eq!(sums.unwrap(), [3]);
    }

    fn parallel_map_closure_is_registered_under_a_distinct_name() {
        // Two closures on one line: the names differ by column and by code.
        let (a, b) = (parallel_map!(|x: u8| x, [1]), parallel_map!(|x: u8| x + 1, [1]));
        assert_eq!((a.unwrap(), b.unwrap()), (vec![1], vec![2]));
        let closures: Vec<&str> = freethreading::registered_tasks()
            .into_iter()
            .map(freethreading::TaskEntry::name)
            .filter(|name| name.contains("{closure@"))
            .collect();
        assert!(closures.iter().all(|name| name.starts_with("dsl_macros::")), "{closures:?}");
        let unique: std::collections::HashSet<_> = closures.iter().collect();
        assert_eq!(unique.len(), closures.len(), "{closures:?}");
        for name in &closures {
            assert!(freethreading::lookup_task(name).is_ok(), "{name} is ambiguous");
        }
    }

    fn parallel_map_of_a_panicking_task_is_an_error() {
        let error = parallel_map!(fragile, 0..25).unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom 10"));
        let error = parallel_map!(|x: u64| fragile(x + 10), 0..3, workers = 2).unwrap_err();
        assert!(error.is_panic());
        // The pool goes on.
        assert_eq!(parallel_map!(fragile, 1..4).unwrap(), [1, 2, 3]);
    }

    fn parallel_map_with_zero_workers_or_chunksize_is_an_error() {
        assert!(parallel_map!(square, 0..3, workers = 0).is_err());
        assert!(parallel_map!(square, 0..3, chunksize = 0).is_err());
    }

    fn spawn_starts_a_named_daemon_worker() {
        let worker = spawn!(countdown(3), name = "Worker-0", daemon = true).unwrap();
        assert_eq!(worker.name(), "Worker-0");
        assert!(worker.daemon());
        assert_eq!(worker.join().unwrap(), "3... 2... 1... go!");
    }

    fn spawn_with_default_options_and_no_arguments() {
        let worker = spawn!(answer()).unwrap();
        assert!(!worker.daemon());
        assert_eq!(worker.join().unwrap(), 42);
        let names: Vec<String> = (0..2).map(|i| format!("Worker-{i}")).collect();
        let workers: Vec<_> = names
            .iter()
            .map(|name| spawn!(tasks::double(2), name = name.as_str()).unwrap())
            .collect();
        for (worker, name) in workers.into_iter().zip(&names) {
            assert_eq!(worker.name(), name);
            assert_eq!(worker.join().unwrap(), 4);
        }
    }

    fn spawn_of_a_panicking_task_joins_with_the_panic() {
        let worker = spawn!(fragile(10)).unwrap();
        let error = worker.join().unwrap_err();
        let task_error = error.task_error().expect("a task error");
        assert_eq!(task_error.panic_message(), Some("boom 10"));
    }

    fn submit_returns_the_future_result() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        let future = submit!(executor, add(2, 3)).unwrap();
        assert_eq!(future.result().unwrap(), 5);
        let by_reference = &executor;
        let futures: Vec<_> = (0..4).map(|i| submit!(by_reference, add(i, i)).unwrap()).collect();
        let sums: Vec<i32> = futures.into_iter().map(|f| f.result().unwrap()).collect();
        assert_eq!(sums, [0, 2, 4, 6]);
    }

    fn submit_of_a_panicking_task_is_an_error() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let error = submit!(executor, fragile(20)).unwrap().result().unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom 20"));
        assert_eq!(submit!(executor, answer()).unwrap().result().unwrap(), 42);
    }

    fn macros_accept_the_crate_option() {
        assert_eq!(parallel_map!(square, [3], crate = ::freethreading).unwrap(), [9]);
        let worker = spawn!(answer(), crate = freethreading).unwrap();
        assert_eq!(worker.join().unwrap(), 42);
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let future = submit!(executor, add(1, 1), crate = ::freethreading).unwrap();
        assert_eq!(future.result().unwrap(), 2);
    }

    fn task_expressions_are_evaluated_once() {
        let mut evaluations = 0;
        let mut pick = || {
            evaluations += 1;
            square
        };
        assert_eq!(parallel_map!(pick(), 0..3).unwrap(), [0, 1, 4]);
        assert_eq!(evaluations, 1);
        assert_eq!(square.name(), "dsl_macros::square");
    }
}
