//! `WorkerPool::apply` and `apply_async`: results, callbacks, timeouts, failures.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::{ClosureTask, PoolError, WorkerPool, current_worker, worker_fn};
use serde::{Deserialize, Serialize};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn power(base: u64, exponent: u32) -> u64 {
    base.pow(exponent)
}

/// Python's keyword arguments become a struct.
#[derive(Serialize, Deserialize)]
struct Greeting {
    name: String,
    punctuation: char,
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn greet(greeting: Greeting) -> String {
    format!("hello {}{}", greeting.name, greeting.punctuation)
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn fail(message: String) -> u64 {
    panic!("{message}")
}

/// A task slow enough that a short wait on it times out.
#[worker_fn]
fn sleepy(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

/// Sums `bytes` and returns as many bytes again: megabytes each way.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn echo_reversed(bytes: Vec<u8>) -> (u64, Vec<u8>) {
    let sum = bytes.iter().map(|&b| u64::from(b)).sum();
    (sum, bytes.into_iter().rev().collect())
}

#[worker_fn]
fn my_name() -> String {
    current_worker().name().to_owned()
}

#[worker_fn(name = "pool_apply::twice")]
fn first_twice() -> u8 {
    1
}

#[worker_fn(name = "pool_apply::twice")]
fn second_twice() -> u8 {
    2
}

/// Written as its number; its `Deserialize` panics, so it is never read
/// back where a result crosses to another process.
#[derive(Debug)]
struct Explosive(u32);

impl Serialize for Explosive {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Explosive {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("Explosive blows up as it is read")
    }
}

#[worker_fn]
fn explosive() -> Explosive {
    Explosive(7)
}

thread_local! {
    /// What [`Nested`]'s `Serialize` calls first, on a thread that set it.
    static ON_SERIALIZE: std::cell::RefCell<Option<Box<dyn Fn()>>> =
        std::cell::RefCell::new(None);
}

/// Written as its number, after a call of [`ON_SERIALIZE`]: arguments whose
/// `Serialize` calls into the pool they are sent to.
#[derive(Deserialize)]
struct Nested(u64);

impl Serialize for Nested {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ON_SERIALIZE.with(|call| {
            if let Some(call) = call.borrow().as_ref() {
                call();
            }
        });
        serializer.serialize_u64(self.0)
    }
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn nested_double(nested: Nested) -> u64 {
    nested.0 * 2
}

const LONG: Duration = Duration::from_secs(60);

freethreading_tests::backend_tests! {
    fn an_async_result_can_be_awaited() {
        let pool = WorkerPool::new(1).unwrap();
        let slow = pool.apply_async(sleepy, (50,)).unwrap();
        assert_eq!(freethreading_tests::block_on(slow).unwrap(), 50);
        let error = freethreading_tests::block_on(pool.apply_async(fail, ("no".into(),)).unwrap())
            .unwrap_err();
        assert!(error.to_string().contains("no"), "{error}");
        let squares = pool.map_async(square, 0..4).unwrap();
        assert_eq!(freethreading_tests::block_on(squares).unwrap(), [0, 1, 4, 9]);
    }

    fn megabytes_of_arguments_and_results_come_back_whole() {
        let pool = WorkerPool::new(2).unwrap();
        for megabytes in [1, 12] {
            let bytes: Vec<u8> = (0..megabytes << 20).map(|i: usize| i.to_le_bytes()[0] ^ i.to_le_bytes()[1]).collect();
            let sum = bytes.iter().map(|&b| u64::from(b)).sum::<u64>();
            let (got_sum, reversed) = pool.apply(echo_reversed, (bytes.clone(),)).unwrap();
            assert_eq!(got_sum, sum);
            assert!(reversed.iter().rev().eq(bytes.iter()), "{megabytes} MiB came back whole");
        }
        assert_eq!(pool.apply(square, (7,)).unwrap(), 49);
    }

    fn apply_returns_the_result() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.apply(square, (7,)).unwrap(), 49);
        assert_eq!(pool.apply(power, (2, 10)).unwrap(), 1024);
    }

    fn apply_with_a_struct_for_keyword_arguments() {
        let pool = WorkerPool::new(1).unwrap();
        let greeting = Greeting { name: "pool".to_owned(), punctuation: '!' };
        assert_eq!(pool.apply(greet, (greeting,)).unwrap(), "hello pool!");
    }

    fn apply_async_gives_the_result_later() {
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<_> = (0..10).map(|x| pool.apply_async(square, (x,)).unwrap()).collect();
        for (x, result) in (0..10).zip(results) {
            assert_eq!(result.get().unwrap(), x * x);
        }
    }

    fn apply_async_callback_runs_before_wait_returns() {
        let pool = WorkerPool::new(2).unwrap();
        let (sender, receiver) = mpsc::channel();
        let result = pool.apply_async(square, (5,)).unwrap();
        result.on_ready(move |outcome| sender.send(outcome.copied()).unwrap());
        result.wait();
        assert!(result.ready());
        assert_eq!(receiver.try_recv().unwrap().unwrap(), 25, "callback ran before wait returned");
        assert_eq!(result.get().unwrap(), 25, "the value stays for get");
    }

    fn on_ready_after_ready_runs_at_once() {
        let pool = WorkerPool::new(1).unwrap();
        let result = pool.apply_async(square, (3,)).unwrap();
        result.wait();
        let (sender, receiver) = mpsc::channel();
        result.on_ready(move |outcome| sender.send(outcome.copied()).unwrap());
        assert_eq!(receiver.try_recv().unwrap().unwrap(), 9);
        assert_eq!(result.get().unwrap(), 9);
    }

    fn error_callback_gets_the_panic() {
        let pool = WorkerPool::new(1).unwrap();
        let (sender, receiver) = mpsc::channel();
        let result = pool.apply_async(fail, ("callback boom".to_owned(),)).unwrap();
        result.on_ready(move |outcome| {
            sender.send(outcome.unwrap_err().panic_message().map(str::to_owned)).unwrap();
        });
        result.wait();
        assert_eq!(receiver.try_recv().unwrap().as_deref(), Some("callback boom"));
        assert!(!result.successful().unwrap());
        assert!(result.get().unwrap_err().is_panic());
    }

    fn a_panicking_callback_does_not_hurt_the_pool() {
        let pool = WorkerPool::new(1).unwrap();
        let result = pool.apply_async(square, (2,)).unwrap();
        result.on_ready(|_| panic!("callback panics"));
        assert_eq!(result.get().unwrap(), 4);
        assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
    }

    fn a_panic_comes_back_as_the_task_error() {
        let pool = WorkerPool::new(2).unwrap();
        let error = pool.apply(fail, ("boom".to_owned(),)).unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom"));
        assert!(error.to_string().contains("boom"));
        assert!(matches!(error, PoolError::Task(_)));
        assert_eq!(pool.apply(square, (4,)).unwrap(), 16, "the pool goes on");
    }

    fn a_result_whose_deserialize_panics_is_the_calls_error() {
        let pool = WorkerPool::new(1).unwrap();
        // Once made on the calling thread (the worker idle), once queued
        // for the pool's own (the worker busy).
        let busy = pool.apply_async(sleepy, (200,)).unwrap();
        let queued = pool.apply_async(explosive, ()).unwrap();
        assert_eq!(busy.get().unwrap(), 200);
        for outcome in [pool.apply(explosive, ()), queued.get()] {
            match outcome {
                // Threads hand the result over, never read back (unless
                // strict mode makes it cross as it would to a process).
                Ok(value) => {
                    assert_eq!(freethreading::get_backend(), freethreading::Backend::Threading);
                    assert_eq!(value.0, 7);
                }
                Err(error) => {
                    let task = error.task_error().expect("a task error");
                    assert!(task.is_serialization(), "{task}");
                    assert!(task.to_string().contains("blows up as it is read"), "{task}");
                }
            }
        }
        assert_eq!(pool.apply(square, (5,)).unwrap(), 25, "the pool goes on");
    }

    fn a_callback_still_running_as_the_program_exits_does_not_fail_the_exit() {
        // The pool outlives the test, as a pool kept for the program's life
        // would (`default_pool`), with a callback that never returns: the
        // program must still end cleanly. On MPI, the worker rank answered
        // before the callback ran: rank 0, exiting, must not take it for a
        // rank still running a task (and abort the MPI job after a grace).
        static RUNNING: AtomicBool = AtomicBool::new(false);
        let pool = WorkerPool::new(1).unwrap();
        let result = pool.apply_async(sleepy, (100,)).unwrap();
        // Registered while the task runs: run by whichever thread hands
        // the outcome over.
        result.on_ready(|_| {
            RUNNING.store(true, Ordering::SeqCst);
            loop {
                std::thread::park();
            }
        });
        while !RUNNING.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::mem::forget(pool);
    }

    fn a_callback_may_apply_on_its_own_pool() {
        let pool = std::sync::Arc::new(WorkerPool::new(2).unwrap());
        let (sender, receiver) = mpsc::channel();
        let result = pool.apply_async(sleepy, (100,)).unwrap();
        let inner = std::sync::Arc::clone(&pool);
        result.on_ready(move |_| {
            sender.send(inner.apply(square, (3,)).map_err(|e| e.to_string())).unwrap();
        });
        assert_eq!(result.get().unwrap(), 100);
        assert_eq!(receiver.recv_timeout(LONG).unwrap().unwrap(), 9);
        assert_eq!(pool.apply(square, (4,)).unwrap(), 16);
    }

    fn pools_sharing_workers_keep_their_names() {
        let prefix = |pool: &WorkerPool| {
            let name = pool.apply(my_name, ()).unwrap();
            name.rsplit_once('_').unwrap().0.to_owned()
        };
        let first = WorkerPool::new(4).unwrap();
        let second = WorkerPool::new(4).unwrap();
        let (one, two) = (prefix(&first), prefix(&second));
        assert_ne!(one, two);
        for _ in 0..3 {
            assert_eq!(prefix(&second), two);
            assert_eq!(prefix(&first), one);
        }
        // The same worker's job just before and just after the welcome.
        let third = WorkerPool::new(4).unwrap();
        assert_eq!(prefix(&first), one, "after another pool's welcome");
        let three = prefix(&third);
        drop(third);
        assert_ne!(three, one);
        assert_eq!(prefix(&first), one, "after another pool's close");
        assert_eq!(prefix(&second), two);
    }

    fn apply_counts_each_call_in_the_stats() {
        let pool = WorkerPool::new(1).unwrap();
        // The worker idle (on MPI, the round trip made on this thread),
        // a success and a failure.
        assert_eq!(pool.apply(square, (2,)).unwrap(), 4);
        assert!(pool.apply(fail, ("counted".to_owned(),)).is_err());
        let stats = pool.stats();
        assert_eq!((stats.jobs_submitted, stats.jobs_finished), (2, 2));
        // The worker busy: queued.
        let busy = pool.apply_async(sleepy, (200,)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        assert_eq!(busy.get().unwrap(), 200);
        let stats = pool.stats();
        assert_eq!((stats.jobs_submitted, stats.jobs_finished), (4, 4));
    }

    fn arguments_whose_serialize_calls_the_same_pool_do_not_hang_it() {
        let pool = std::sync::Arc::new(WorkerPool::new(2).unwrap());
        // One worker busy a while: the call inside takes the other's turn
        // or waits for this one, never for the call that encodes.
        let busy = pool.apply_async(sleepy, (300,)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let inner = std::sync::Arc::clone(&pool);
        ON_SERIALIZE.set(Some(Box::new(move || {
            assert_eq!(inner.apply(square, (3,)).unwrap(), 9);
        })));
        let doubled = pool.apply(nested_double, (Nested(21),));
        ON_SERIALIZE.set(None);
        assert_eq!(doubled.unwrap(), 42);
        assert_eq!(busy.get().unwrap(), 300);
    }

    fn get_timeout_times_out_on_a_slow_task() {
        let pool = WorkerPool::new(1).unwrap();
        let timeout = Duration::from_millis(100);
        let start = Instant::now();
        let error = pool.apply_async(sleepy, (2_000,)).unwrap().get_timeout(timeout).unwrap_err();
        assert!(start.elapsed() >= timeout);
        assert!(matches!(error, PoolError::Timeout));
        assert_eq!(pool.apply_async(square, (6,)).unwrap().get_timeout(LONG).unwrap(), 36);
    }

    fn wait_timeout_and_successful_before_ready() {
        let pool = WorkerPool::new(1).unwrap();
        let timeout = Duration::from_millis(50);
        let result = pool.apply_async(sleepy, (2_000,)).unwrap();
        let start = Instant::now();
        assert!(!result.wait_timeout(timeout));
        assert!(start.elapsed() >= timeout);
        assert!(!result.ready());
        assert!(matches!(result.successful(), Err(PoolError::NotReady)));
        assert!(result.wait_timeout(LONG));
        assert!(result.successful().unwrap());
        assert_eq!(result.get().unwrap(), 2_000);
    }

    fn a_huge_timeout_means_no_limit() {
        let pool = WorkerPool::new(1).unwrap();
        assert_eq!(pool.apply_async(square, (8,)).unwrap().get_timeout(Duration::MAX).unwrap(), 64);
    }

    fn an_unregistered_task_is_rejected() {
        let pool = WorkerPool::new(1).unwrap();
        let unregistered = ClosureTask::new1("pool_apply::nowhere", |x: u64| x);
        assert!(matches!(pool.apply(unregistered, (1,)), Err(PoolError::Registry(_))));
        assert!(matches!(pool.apply_async(unregistered, (1,)), Err(PoolError::Registry(_))));
    }

    fn a_task_name_registered_twice_is_rejected() {
        assert_eq!(first_twice() + second_twice(), 3);
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(first_twice, ()).unwrap_err();
        assert!(matches!(error, PoolError::Registry(_)));
        assert!(error.to_string().contains("pool_apply::twice"));
    }

    fn tasks_see_their_pool_worker_name() {
        let pool = WorkerPool::new(2).unwrap();
        let name = pool.apply(my_name, ()).unwrap();
        assert!(name.starts_with("WorkerPool-"), "{name}");
        let (_, index) = name.rsplit_once('_').unwrap();
        assert!(index.parse::<usize>().unwrap() < 2, "{name}");
    }

    fn the_pool_is_shared_between_threads() {
        let pool = WorkerPool::new(2).unwrap();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4u64)
                .map(|t| {
                    let pool = &pool;
                    scope.spawn(move || (0..50).map(|x| pool.apply(square, (t * 100 + x,)).unwrap()).sum::<u64>())
                })
                .collect();
            for (t, handle) in (0..4u64).zip(handles) {
                assert_eq!(handle.join().unwrap(), (0..50).map(|x| (t * 100 + x).pow(2)).sum::<u64>());
            }
        });
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<WorkerPool>();
    assert_send_sync::<PoolError>();
    assert_send_sync::<freethreading::AsyncResult<Vec<u8>>>();
    assert_send_sync::<freethreading::IMap<u8>>();
    assert_send_sync::<freethreading::IMapUnordered<u8>>();
    assert_send::<freethreading::WorkerPoolBuilder>();
}
