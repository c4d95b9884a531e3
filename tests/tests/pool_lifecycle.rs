//! `WorkerPool`'s life: building, initializers, close, terminate, join, drop.
//!
//! Every test here takes `serial()`, so that those counting live workers see
//! only their own pool start and stop.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::cell::Cell;
use std::time::Duration;

use freethreading::{PoolError, Task, WorkerPool, active_count, current_worker, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn sleepy(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

#[worker_fn]
fn fail() -> u64 {
    panic!("task failed")
}

thread_local! {
    /// How often the initializer ran in this worker, and the offset it was given.
    static INITIALIZED: Cell<(u32, u64)> = const { Cell::new((0, 0)) };
}

#[worker_fn]
fn initialize(offset: u64) {
    INITIALIZED.with(|cell| cell.set((cell.get().0 + 1, offset)));
}

/// The calling worker's initializer count, and the task's input moved by the offset.
#[worker_fn]
fn initialized(x: u64) -> (u32, u64) {
    let (runs, offset) = INITIALIZED.with(Cell::get);
    (runs, x + offset)
}

#[worker_fn]
fn broken_initializer() {
    panic!("initializer failed")
}

#[worker_fn(name = "pool_lifecycle::twice")]
fn first_twice() {}

#[worker_fn(name = "pool_lifecycle::twice")]
fn second_twice() {}

#[worker_fn]
fn my_name() -> String {
    current_worker().name().to_owned()
}

/// The live workers whose name starts like `worker`'s, up to its `_`.
fn siblings_of(worker: &str) -> usize {
    let prefix = format!("{}_", worker.rsplit_once('_').unwrap().0);
    freethreading::enumerate()
        .iter()
        .filter(|w| w.name().starts_with(&prefix))
        .count()
}

freethreading_tests::backend_tests! {
    fn close_then_join_finishes_queued_tasks() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<_> = (0..6).map(|_| pool.apply_async(sleepy, (20,)).unwrap()).collect();
        pool.close();
        pool.join().unwrap();
        for result in results {
            assert!(result.ready(), "join waited for the queued tasks");
            assert_eq!(result.get().unwrap(), 20);
        }
        assert!(matches!(pool.apply(square, (2,)), Err(PoolError::NotRunning)));
        pool.join().unwrap();
    }

    fn terminate_then_use_fails() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        pool.terminate();
        let error = pool.apply(square, (3,)).unwrap_err();
        assert!(matches!(error, PoolError::NotRunning));
        assert_eq!(error.to_string(), "pool not running");
        assert!(matches!(pool.map(square, 0..3), Err(PoolError::NotRunning)));
        assert!(matches!(pool.imap(square, 0..3), Err(PoolError::NotRunning)));
        assert!(matches!(pool.starmap_async(square, [(1,)]), Err(PoolError::NotRunning)));
        pool.join().unwrap();
    }

    fn close_then_use_fails() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(1).unwrap();
        pool.close();
        assert!(matches!(pool.apply_async(square, (1,)), Err(PoolError::NotRunning)));
        pool.terminate();
        pool.join().unwrap();
    }

    fn join_while_running_fails() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.join().unwrap_err();
        assert!(matches!(error, PoolError::StillRunning));
        assert!(error.to_string().contains("close()"));
        assert_eq!(pool.apply(square, (5,)).unwrap(), 25, "still usable");
    }

    fn terminate_drops_queued_tasks_and_never_hangs() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(1).unwrap();
        let results: Vec<_> = (0..5).map(|_| pool.apply_async(sleepy, (300,)).unwrap()).collect();
        let mapped = pool.map_async(square, 0..100).unwrap();
        let streamed = pool.imap(square, 0..3).unwrap();
        pool.terminate();
        pool.join().unwrap();
        let mut terminated = 0;
        for result in results {
            match result.get() {
                Ok(value) => assert_eq!(value, 300),
                Err(PoolError::Terminated) => terminated += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(terminated >= 4, "only the running task may finish");
        assert!(matches!(mapped.get(), Err(PoolError::Terminated)));
        assert!(streamed.into_iter().all(|r| matches!(r, Err(PoolError::Terminated))));
    }

    fn dropping_the_pool_terminates_it() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(1).unwrap();
        let results: Vec<_> = (0..3).map(|_| pool.apply_async(sleepy, (100,)).unwrap()).collect();
        drop(pool);
        for result in results {
            assert!(result.ready(), "drop settles every result");
            assert!(matches!(result.get(), Ok(100) | Err(PoolError::Terminated)));
        }
    }

    fn drop_joins_the_worker_threads() {
        let _serial = freethreading_tests::serial();
        let before = active_count();
        let pool = WorkerPool::new(3).unwrap();
        assert_eq!(active_count(), before + 3);
        assert_eq!(pool.map(square, 0..10).unwrap().len(), 10);
        let worker = pool.apply(my_name, ()).unwrap();
        assert_eq!(siblings_of(&worker), 3);
        drop(pool);
        assert_eq!(siblings_of(&worker), 0);
        assert_eq!(active_count(), before);
    }

    fn join_after_close_joins_the_worker_threads() {
        let _serial = freethreading_tests::serial();
        let before = active_count();
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(active_count(), before + 2);
        let worker = pool.apply(my_name, ()).unwrap();
        pool.close();
        pool.join().unwrap();
        assert_eq!(siblings_of(&worker), 0);
        assert_eq!(active_count(), before);
    }

    fn the_initializer_runs_once_per_worker_before_its_jobs() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::builder().workers(3).initializer(initialize, (1_000,)).build().unwrap();
        for (runs, value) in pool.map_chunked(initialized, 0..60, 1).unwrap() {
            assert_eq!(runs, 1);
            assert!((1_000..1_060).contains(&value));
        }
        assert_eq!(pool.apply(initialized, (5,)).unwrap(), (1, 1_005));
    }

    fn a_panicking_initializer_breaks_the_pool() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::builder().workers(1).initializer(broken_initializer, ()).build().unwrap();
        let error = pool.apply(square, (2,)).unwrap_err();
        let PoolError::Initializer(cause) = &error else { panic!("expected Initializer, got {error:?}") };
        assert_eq!(cause.panic_message(), Some("initializer failed"));
        assert!(matches!(pool.map(square, 0..5), Err(PoolError::Initializer(_))));
    }

    fn an_unregistered_initializer_is_rejected() {
        let _serial = freethreading_tests::serial();
        assert_eq!(first_twice.name(), second_twice.name());
        let error = WorkerPool::builder().workers(1).initializer(first_twice, ()).build().unwrap_err();
        assert!(matches!(error, PoolError::Registry(_)));
    }

    fn a_panicking_task_leaves_the_pool_usable() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(2).unwrap();
        for _ in 0..5 {
            assert!(pool.apply(fail, ()).unwrap_err().is_panic());
        }
        assert_eq!(pool.map(square, 0..100).unwrap().len(), 100);
    }

    fn zero_workers_is_an_error() {
        let _serial = freethreading_tests::serial();
        let error = WorkerPool::new(0).unwrap_err();
        assert!(matches!(error, PoolError::ZeroWorkers));
        assert!(matches!(WorkerPool::builder().workers(0).build(), Err(PoolError::ZeroWorkers)));
    }

    fn the_default_size_is_the_core_count() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::builder().build().unwrap();
        let expected = if freethreading::get_backend() == freethreading::Backend::Mpi {
            // On MPI, the worker ranks: every rank but rank 0 (Open MPI's count).
            std::env::var("OMPI_COMM_WORLD_SIZE").unwrap().parse::<usize>().unwrap() - 1
        } else {
            std::thread::available_parallelism().unwrap().get()
        };
        assert_eq!(pool.workers(), expected);
    }

    fn workers_are_named_after_their_pool() {
        let _serial = freethreading_tests::serial();
        let pool = WorkerPool::new(2).unwrap();
        let names = pool.starmap_chunked(my_name, vec![(); 20], 1).unwrap();
        let prefix = names[0].rsplit_once('_').unwrap().0.to_owned();
        assert!(prefix.starts_with("WorkerPool-"));
        for name in names {
            let (pool_name, index) = name.rsplit_once('_').unwrap();
            assert_eq!(pool_name, prefix);
            assert!(["0", "1"].contains(&index), "{name}");
        }
    }
}

/// A pool used from a thread-local's destructor, as a thread ends.
struct AtThreadEnd {
    pool: std::sync::Arc<WorkerPool>,
    answer: std::sync::Arc<std::sync::Mutex<Option<Result<u64, String>>>>,
}

impl Drop for AtThreadEnd {
    fn drop(&mut self) {
        let answer = self.pool.apply(square, (9,)).map_err(|e| e.to_string());
        *self.answer.lock().unwrap() = Some(answer);
    }
}

thread_local! {
    static AT_THREAD_END: std::cell::RefCell<Option<AtThreadEnd>> = const { std::cell::RefCell::new(None) };
}

freethreading_tests::backend_tests! {
    fn a_pool_answers_a_call_from_a_thread_local_destructor() {
        // On mpi an `apply` makes its round trip on the calling thread,
        // receiving into a buffer kept per thread (`mpi/comm.rs`), which a
        // thread that ends may have destroyed before this destructor runs.
        let _serial = freethreading_tests::serial();
        let pool = std::sync::Arc::new(WorkerPool::new(1).unwrap());
        assert_eq!(pool.apply(square, (2,)).unwrap(), 4);
        let answer = std::sync::Arc::default();
        let (in_thread, seen) = (std::sync::Arc::clone(&pool), std::sync::Arc::clone(&answer));
        std::thread::spawn(move || {
            // Registered first, so destroyed last.
            AT_THREAD_END.with_borrow_mut(|slot| {
                *slot = Some(AtThreadEnd { pool: std::sync::Arc::clone(&in_thread), answer: seen });
            });
            for x in 0..20 {
                assert_eq!(in_thread.apply(square, (x,)).unwrap(), x * x);
            }
        })
        .join()
        .expect("the thread and its thread-locals' destructors ran");
        assert_eq!(*answer.lock().unwrap(), Some(Ok(81)));
    }
}
