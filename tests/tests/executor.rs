//! `WorkerPoolExecutor`: submit, futures, map, cancel, shutdown, drop.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::cell::Cell;
use std::time::{Duration, Instant};

use freethreading::{
    ClosureTask, ExecutorError, TaskFuture, WorkerPoolExecutor, current_worker, enumerate,
    worker_fn,
};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[worker_fn]
fn sleepy(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

#[worker_fn]
fn fragile(x: u64) -> u64 {
    assert!(x != 3, "boom {x}");
    x
}

#[worker_fn]
fn my_name() -> String {
    current_worker().name().to_owned()
}

thread_local! {
    static INITIALIZED: Cell<u32> = const { Cell::new(0) };
}

#[worker_fn]
fn initialize() {
    INITIALIZED.with(|cell| cell.set(cell.get() + 1));
}

#[worker_fn]
fn initialized() -> u32 {
    INITIALIZED.with(Cell::get)
}

#[worker_fn]
fn broken_initializer() {
    panic!("initializer failed")
}

const LONG: Duration = Duration::from_secs(60);

/// Waits, polling, until `condition` holds; panics after a generous deadline.
fn eventually(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + LONG;
    while !condition() {
        assert!(Instant::now() < deadline, "condition never held");
        std::thread::sleep(Duration::from_millis(1));
    }
}

freethreading_tests::backend_tests! {
    fn submit_then_result() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        let future = executor.submit(add, (2, 3)).unwrap();
        assert_eq!(future.result().unwrap(), 5);
        let futures: Vec<TaskFuture<u64>> = (0..10).map(|x| executor.submit(square, (x,)).unwrap()).collect();
        for (x, future) in (0..10).zip(futures) {
            assert_eq!(future.result_timeout(LONG).unwrap(), x * x);
        }
    }

    fn map_is_ordered() {
        let executor = WorkerPoolExecutor::new(4).unwrap();
        let squares: Vec<u64> = executor.map(square, 0..5).unwrap().map(Result::unwrap).collect();
        assert_eq!(squares, [0, 1, 4, 9, 16]);
        let sums: Vec<i32> = executor.starmap(add, [(1, 1), (2, 2)]).unwrap().map(Result::unwrap).collect();
        assert_eq!(sums, [2, 4]);
        assert!(executor.map(square, 0..0).unwrap().next().is_none());
    }

    fn map_waits_for_each_result_in_turn() {
        let executor = WorkerPoolExecutor::new(3).unwrap();
        let mut results = executor.map(sleepy, [300, 0, 0]).unwrap();
        assert_eq!(results.next().unwrap().unwrap(), 300);
        assert_eq!(results.next().unwrap().unwrap(), 0);
        assert_eq!(results.next().unwrap().unwrap(), 0);
        assert!(results.next().is_none());
    }

    fn map_timeout_counts_from_the_call() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let timeout = Duration::from_millis(100);
        let start = Instant::now();
        let mut results = executor.map_timeout(sleepy, [2_000, 0, 0], timeout).unwrap();
        assert!(matches!(results.next(), Some(Err(ExecutorError::Timeout))));
        assert!(start.elapsed() >= timeout);
        assert!(results.next().is_none(), "a timeout ends the iteration");
        let fast: Vec<u64> = executor.map_timeout(square, 0..3, LONG).unwrap().map(Result::unwrap).collect();
        assert_eq!(fast, [0, 1, 4]);
    }

    fn a_failure_ends_the_map() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        let results: Vec<_> = executor.map(fragile, 0..10).unwrap().collect();
        assert_eq!(results.len(), 4);
        assert_eq!(results[3].as_ref().unwrap_err().panic_message(), Some("boom 3"));
    }

    fn submit_after_shutdown_fails() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        executor.shutdown(true, false);
        let error = executor.submit(square, (2,)).unwrap_err();
        assert!(matches!(error, ExecutorError::Shutdown));
        assert!(error.to_string().contains("after shutdown"));
        assert!(matches!(executor.map(square, 0..2), Err(ExecutorError::Shutdown)));
        executor.shutdown(true, false);
    }

    fn cancel_before_start() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let running = executor.submit(sleepy, (1_000,)).unwrap();
        let queued = executor.submit(square, (4,)).unwrap();
        assert!(queued.cancel());
        assert!(queued.cancel(), "cancelling again still says cancelled");
        assert!(queued.cancelled());
        assert!(queued.done());
        assert!(!queued.running());
        assert!(matches!(queued.result(), Err(ExecutorError::Cancelled)));
        eventually(|| running.running() || running.done());
        if freethreading::get_backend() == freethreading::Backend::Multiprocessing {
            // On processes its worker is killed for it (see `pool_options.rs`).
            assert!(running.cancel());
            assert!(matches!(running.result(), Err(ExecutorError::Cancelled)));
        } else {
            // Nor one started on an MPI rank, which cannot be killed alone.
            assert!(!running.cancel(), "a task started on a thread cannot be cancelled");
            assert!(!running.cancelled());
            assert_eq!(running.result().unwrap(), 1_000);
        }
    }

    fn shutdown_can_cancel_pending_futures() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let first = executor.submit(sleepy, (1_500,)).unwrap();
        eventually(|| first.running());
        let pending: Vec<_> = (0..3).map(|x| executor.submit(square, (x,)).unwrap()).collect();
        executor.shutdown(false, true);
        for future in &pending {
            assert!(future.cancelled());
        }
        assert_eq!(first.result().unwrap(), 1_500);
        assert!(matches!(executor.submit(square, (1,)), Err(ExecutorError::Shutdown)));
    }

    fn shutdown_without_cancel_runs_pending_futures() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let futures: Vec<_> = (0..4).map(|_| executor.submit(sleepy, (10,)).unwrap()).collect();
        executor.shutdown(true, false);
        for future in futures {
            assert!(future.done());
            assert_eq!(future.result().unwrap(), 10);
        }
    }

    fn panics_surface_as_task_errors() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let error = executor.submit(fragile, (3,)).unwrap().result().unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom 3"));
        assert_eq!(executor.submit(fragile, (4,)).unwrap().result().unwrap(), 4);
    }

    fn result_timeout_times_out() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let future = executor.submit(sleepy, (2_000,)).unwrap();
        let timeout = Duration::from_millis(50);
        let start = Instant::now();
        assert!(!future.wait_timeout(timeout));
        assert!(start.elapsed() >= timeout);
        assert!(matches!(future.result_timeout(timeout), Err(ExecutorError::Timeout)));
    }

    fn drop_waits_for_submitted_tasks() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        let worker = executor.submit(my_name, ()).unwrap().result().unwrap();
        let prefix = format!("{}_", worker.rsplit_once('_').unwrap().0);
        let siblings = || enumerate().iter().filter(|w| w.name().starts_with(&prefix)).count();
        assert_eq!(siblings(), 2);
        let futures: Vec<_> = (0..4).map(|_| executor.submit(sleepy, (50,)).unwrap()).collect();
        drop(executor);
        assert_eq!(siblings(), 0, "every worker thread is joined");
        for future in futures {
            assert!(future.done());
            assert_eq!(future.result().unwrap(), 50);
        }
    }

    fn a_future_can_be_awaited() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let slow = executor.submit(sleepy, (100,)).unwrap();
        assert_eq!(freethreading_tests::block_on(slow).unwrap(), 100);
        let error = freethreading_tests::block_on(executor.submit(fragile, (3,)).unwrap()).unwrap_err();
        assert!(error.is_panic());
    }

    fn the_initializer_runs_once_per_worker() {
        let executor = WorkerPoolExecutor::builder().max_workers(2).initializer(initialize, ()).build().unwrap();
        for runs in executor.starmap(initialized, vec![(); 20]).unwrap() {
            assert_eq!(runs.unwrap(), 1);
        }
    }

    fn a_panicking_initializer_breaks_the_executor() {
        let executor = WorkerPoolExecutor::builder().max_workers(1).initializer(broken_initializer, ()).build().unwrap();
        // A worker thread may have broken the executor before the submit.
        let error = match executor.submit(square, (2,)) {
            Ok(future) => future.result().unwrap_err(),
            Err(error) => error,
        };
        assert!(matches!(error, ExecutorError::Initializer(_)), "{error}");
        assert!(matches!(executor.submit(square, (2,)), Err(ExecutorError::Initializer(_))));
    }

    fn an_unregistered_task_is_rejected() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let unregistered = ClosureTask::new1("executor::nowhere", |x: u64| x);
        assert!(matches!(executor.submit(unregistered, (1,)), Err(ExecutorError::Registry(_))));
        assert!(matches!(executor.map(unregistered, [1]), Err(ExecutorError::Registry(_))));
    }

    fn zero_workers_is_an_error() {
        assert!(matches!(WorkerPoolExecutor::new(0), Err(ExecutorError::ZeroWorkers)));
        let executor = WorkerPoolExecutor::builder().build().unwrap();
        let expected = if freethreading::get_backend() == freethreading::Backend::Mpi {
            // On MPI, the worker ranks: every rank but rank 0 (Open MPI's count).
            std::env::var("OMPI_COMM_WORLD_SIZE").unwrap().parse::<usize>().unwrap() - 1
        } else {
            std::thread::available_parallelism().unwrap().get()
        };
        assert_eq!(executor.max_workers(), expected);
    }

    fn workers_are_named_after_their_executor() {
        let executor = WorkerPoolExecutor::new(1).unwrap();
        let name = executor.submit(my_name, ()).unwrap().result().unwrap();
        assert!(name.starts_with("WorkerPoolExecutor-") && name.ends_with("_0"), "{name}");
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<WorkerPoolExecutor>();
    assert_send_sync::<ExecutorError>();
    assert_send_sync::<TaskFuture<Vec<u8>>>();
    assert_send_sync::<freethreading::ExecutorMap<u8>>();
}
