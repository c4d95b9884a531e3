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
