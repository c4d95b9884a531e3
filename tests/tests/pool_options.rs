//! A pool's and an executor's options beyond Python's basics: workers
//! replaced after a quota of tasks (`max_tasks_per_worker`), and the
//! counters of `stats()`.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::cell::Cell;
use std::collections::HashSet;

use freethreading::{
    ExecutorError, PoolError, WorkerPool, WorkerPoolExecutor, get_ident, worker_fn,
};

thread_local! {
    /// How often the initializer ran on this worker.
    static INITIALIZED: Cell<u32> = const { Cell::new(0) };
}

#[worker_fn]
fn initialize() {
    INITIALIZED.with(|count| count.set(count.get() + 1));
}

/// The worker that ran it (a thread or a process), and how often the
/// initializer ran there.
#[worker_fn]
fn whoami(_item: u64) -> (u64, u32) {
    (get_ident(), INITIALIZED.with(Cell::get))
}

#[worker_fn]
fn abort_worker() {
    std::process::abort();
}

#[worker_fn]
fn fail(x: u64) -> u64 {
    panic!("failed on {x}")
}

freethreading_tests::backend_tests! {
    fn a_worker_is_replaced_after_its_quota_of_tasks() {
        let pool = WorkerPool::builder()
            .workers(1)
            .max_tasks_per_worker(3)
            .initializer(initialize, ())
            .build()
            .unwrap();
        let seen: Vec<(u64, u32)> = (0..10).map(|i| pool.apply(whoami, (i,)).unwrap()).collect();
        let workers: HashSet<u64> = seen.iter().map(|&(worker, _)| worker).collect();
        assert_eq!(workers.len(), 4, "{seen:?}");
        // Each replacement ran the initializer once, afresh.
        assert!(seen.iter().all(|&(_, initialized)| initialized == 1), "{seen:?}");
        for chunk in seen.chunks(3) {
            assert!(chunk.iter().all(|&(worker, _)| worker == chunk[0].0), "{seen:?}");
        }
        assert_eq!(pool.stats().workers_retired, 3);
    }

    fn a_map_under_a_quota_keeps_every_result_in_order() {
        let pool = WorkerPool::builder().workers(2).max_tasks_per_worker(7).build().unwrap();
        let seen = pool.map_chunked(whoami, 0..100, 1).unwrap();
        assert_eq!(seen.len(), 100);
        // 100 jobs, at most 7 each: at least 15 workers took part.
        let workers: HashSet<u64> = seen.iter().map(|&(worker, _)| worker).collect();
        assert!(workers.len() >= 15, "{} workers", workers.len());
        let stats = pool.stats();
        assert!(stats.workers_retired >= 13, "{stats:?}");
        assert_eq!((stats.jobs_submitted, stats.jobs_finished), (100, 100));
    }

    fn a_quota_of_zero_is_an_error() {
        let error = WorkerPool::builder().max_tasks_per_worker(0).build().unwrap_err();
        assert!(matches!(error, PoolError::ZeroMaxTasks), "{error}");
        let error = WorkerPoolExecutor::builder().max_tasks_per_child(0).build().unwrap_err();
        assert!(matches!(error, ExecutorError::ZeroMaxTasks), "{error}");
    }

    fn stats_count_jobs_failures_included() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.stats().jobs_submitted, 0);
        pool.map_chunked(whoami, 0..10, 3).unwrap();
        assert!(pool.apply(fail, (1,)).is_err());
        let stats = pool.stats();
        // Four chunks and one call, all finished.
        assert_eq!((stats.jobs_submitted, stats.jobs_finished, stats.jobs_pending()), (5, 5, 0));
        assert_eq!((stats.workers, stats.workers_died, stats.workers_retired), (2, 0, 0));
        let executor = WorkerPoolExecutor::builder().max_workers(1).max_tasks_per_child(2).build().unwrap();
        for i in 0..5 {
            executor.submit(whoami, (i,)).unwrap().result().unwrap();
        }
        assert_eq!(executor.stats().jobs_finished, 5);
        assert_eq!(executor.stats().workers_retired, 2);
    }
}

freethreading_tests::process_tests! {
    fn stats_count_a_worker_that_died() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(abort_worker, ()).unwrap_err();
        assert!(error.task_error().is_some_and(freethreading::TaskError::is_worker_death), "{error}");
        assert_eq!(pool.apply(whoami, (1,)).unwrap().1, 0);
        let stats = pool.stats();
        assert_eq!((stats.workers_died, stats.jobs_finished), (1, 2));
    }
}

#[worker_fn]
fn nap(millis: u64) -> u64 {
    std::thread::sleep(std::time::Duration::from_millis(millis));
    millis
}

mod deadlines {
    use std::time::{Duration, Instant};

    use freethreading::{
        Backend, ExecutorError, PoolError, WorkerPool, WorkerPoolExecutor, get_backend,
    };

    use super::{nap, whoami};

    /// A task long enough to pass any deadline here: on threads, which wait
    /// for it at the end of the test, not much longer.
    fn long() -> u64 {
        match get_backend() {
            Backend::Multiprocessing => 5_000,
            // Threads and MPI ranks cannot be stopped: the test waits for it.
            _ => 400,
        }
    }

    freethreading_tests::backend_tests! {
        fn apply_timeout_gives_up_at_the_deadline_and_the_pool_goes_on() {
            let pool = WorkerPool::new(2).unwrap();
            let start = Instant::now();
            let late = pool.apply_timeout(nap, (long(),), Duration::from_millis(100));
            assert!(matches!(late, Err(PoolError::Timeout)), "{late:?}");
            assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
            assert_eq!(pool.apply_timeout(nap, (1,), Duration::from_secs(30)).unwrap(), 1);
            if get_backend() == Backend::Multiprocessing {
                // The worker was killed for it (by its driver, at the same
                // deadline) and replaced: the pool is whole.
                let deadline = Instant::now() + Duration::from_secs(5);
                while pool.stats().workers_killed == 0 {
                    assert!(Instant::now() < deadline, "{:?}", pool.stats());
                    std::thread::sleep(Duration::from_millis(5));
                }
                let stats = pool.stats();
                assert_eq!((stats.workers_killed, stats.workers_died), (1, 0), "{stats:?}");
                assert_eq!(pool.map_chunked(whoami, 0..4, 1).unwrap().len(), 4);
            }
        }

        fn a_task_queued_past_its_deadline_never_starts() {
            let pool = WorkerPool::new(1).unwrap();
            let busy = pool.apply_async(nap, (300,)).unwrap();
            let queued = pool.apply_timeout(nap, (1,), Duration::from_millis(50));
            assert!(matches!(queued, Err(PoolError::Timeout)), "{queued:?}");
            assert_eq!(busy.get().unwrap(), 300);
            let stats = pool.stats();
            assert_eq!(stats.workers_killed, 0, "{stats:?}");
        }

        fn submit_timeout_stops_a_process_task_and_leaves_a_thread_task() {
            let executor = WorkerPoolExecutor::new(1).unwrap();
            let future = executor.submit_timeout(nap, (400,), Duration::from_millis(50)).unwrap();
            match get_backend() {
                Backend::Multiprocessing => {
                    assert!(matches!(future.result(), Err(ExecutorError::Timeout)));
                    assert_eq!(executor.stats().workers_killed, 1);
                }
                // Threads and MPI ranks cannot be stopped.
                _ => assert_eq!(future.result().unwrap(), 400),
            }
            assert_eq!(executor.submit(nap, (1,)).unwrap().result().unwrap(), 1);
        }

        fn a_submission_queued_past_its_deadline_never_starts() {
            let executor = WorkerPoolExecutor::new(1).unwrap();
            let busy = executor.submit(nap, (300,)).unwrap();
            let queued = executor.submit_timeout(nap, (1,), Duration::from_millis(50)).unwrap();
            let outcome = queued.result();
            assert_eq!(busy.result().unwrap(), 300);
            if get_backend() == Backend::Multiprocessing {
                assert!(matches!(outcome, Err(ExecutorError::Timeout)), "{outcome:?}");
                // Failed before it was sent: no worker was killed for it.
                assert_eq!(executor.stats().workers_killed, 0);
            }
        }

        fn a_cancelled_task_never_reports_success() {
            let executor = WorkerPoolExecutor::new(1).unwrap();
            for millis in [5, 15, 25] {
                let future = executor.submit(nap, (millis,)).unwrap();
                let deadline = Instant::now() + Duration::from_secs(10);
                while !future.running() && !future.done() {
                    assert!(Instant::now() < deadline, "the task never started");
                    std::thread::yield_now();
                }
                // Whatever the race with the reply, a cancel that said yes wins.
                if future.cancel() {
                    assert!(matches!(future.result(), Err(ExecutorError::Cancelled)));
                } else {
                    assert_eq!(future.result().unwrap(), millis);
                }
            }
        }

        fn an_executor_map_dropped_early_lets_running_tasks_finish() {
            let executor = WorkerPoolExecutor::new(2).unwrap();
            let mut results = executor.map(nap, [50, 200, 200, 200]).unwrap();
            assert_eq!(results.next().unwrap().unwrap(), 50);
            drop(results);
            executor.shutdown(true, false);
            assert_eq!(executor.stats().workers_killed, 0, "{:?}", executor.stats());
        }

        fn cancel_stops_a_running_task_only_on_processes() {
            let executor = WorkerPoolExecutor::new(1).unwrap();
            let future = executor.submit(nap, (long(),)).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !future.running() {
                assert!(Instant::now() < deadline, "the task never started");
                std::thread::sleep(Duration::from_millis(1));
            }
            if get_backend() == Backend::Multiprocessing {
                let start = Instant::now();
                assert!(future.cancel());
                assert!(matches!(future.result(), Err(ExecutorError::Cancelled)));
                assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
                assert_eq!(executor.stats().workers_killed, 1);
                assert_eq!(executor.submit(nap, (1,)).unwrap().result().unwrap(), 1);
            } else {
                // Threads and MPI ranks cannot be stopped.
                assert!(!future.cancel());
                assert!(future.running());
            }
        }
    }
}
