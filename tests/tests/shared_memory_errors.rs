//! The `try_` constructors: where the shared memory of the process backend
//! cannot be had, each returns a `SharedMemoryError` naming its primitive
//! instead of panicking; on threads they never fail.
//!
//! A worker process maps the program's shared memory only when it first
//! needs it, so a task that first lowers its address-space limit
//! (`RLIMIT_AS`) below the mapping's size makes that mapping fail, in a
//! process of its own whatever else the test binary has done.
#![cfg(target_os = "linux")]

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{
    Backend, Barrier, BarrierError, BoundedSemaphore, Condition, Event, Lock, Queue, RLock,
    Semaphore, SimpleQueue, Worker, get_backend, worker_fn,
};
use rustix::process::{Resource, getrlimit, setrlimit};

/// Runs `f` with this process's address space limited to what it uses now
/// and a little more: far less than the shared memory's mapping.
fn with_little_address_space<R>(f: impl FnOnce() -> R) -> R {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .next()
        .and_then(|size| size.parse().ok())
        .expect("the size in pages");
    let before = getrlimit(Resource::As);
    let mut limited = before;
    limited.current = Some(pages * 4096 + (128 << 20));
    setrlimit(Resource::As, limited).expect("lowering RLIMIT_AS");
    let result = f();
    setrlimit(Resource::As, before).expect("restoring RLIMIT_AS");
    result
}

/// Every `try_` constructor, each failure as (primitive, kind, message).
fn try_every_constructor() -> Vec<(String, String, String)> {
    let mut failures = Vec::new();
    let mut note = |result: Result<(), freethreading::SharedMemoryError>| {
        if let Err(error) = result {
            failures.push((
                error.primitive().to_owned(),
                format!("{:?}", error.kind()),
                error.to_string(),
            ));
        }
    };
    note(Lock::try_new().map(drop));
    note(RLock::try_new().map(drop));
    note(Semaphore::try_new(2).map(drop));
    note(BoundedSemaphore::try_new(2).map(drop));
    note(Event::try_new().map(drop));
    note(Condition::try_new().map(drop));
    note(Queue::<u64>::try_new().map(drop));
    note(Queue::<u64>::try_bounded(3).map(drop));
    note(SimpleQueue::<u64>::try_new().map(drop));
    note(match Barrier::new(2) {
        Ok(_) => Ok(()),
        Err(BarrierError::SharedMemory(error)) => Err(error),
        Err(other) => panic!("unexpected barrier error: {other}"),
    });
    failures
}

/// In a worker: every constructor with too little address space for the
/// shared memory, then a lock made once the limit is lifted, to show the
/// worker still joins its parent's shared memory after the failures.
#[worker_fn]
fn construct_without_room() -> (Vec<(String, String, String)>, Lock) {
    let failures = if get_backend() == Backend::Multiprocessing {
        with_little_address_space(try_every_constructor)
    } else {
        try_every_constructor()
    };
    (failures, Lock::new())
}

freethreading_tests::backend_tests! {
    fn try_new_returns_the_error_where_new_would_panic() {
        let worker = Worker::new(construct_without_room, ());
        worker.start().expect("starting the worker");
        let (failures, lock) = worker.join().expect("the worker returns, not panics");
        if get_backend() == Backend::Multiprocessing {
            let names: Vec<&str> = failures.iter().map(|(name, _, _)| name.as_str()).collect();
            // A Condition makes its RLock first.
            assert_eq!(
                names,
                [
                    "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "RLock", "Queue",
                    "Queue", "Queue", "Barrier",
                ]
            );
            for (name, kind, message) in &failures {
                assert_eq!(kind, "OutOfMemory", "{message}");
                assert!(
                    message.starts_with(&format!("cannot place `{name}` in shared memory: ")),
                    "{message}"
                );
            }
        } else {
            // On MPI a worker rank's primitives are made on rank 0.
            assert_eq!(failures, [], "threads and MPI ranks need no shared memory");
        }
        // The lock the worker made afterwards is the one this process sees.
        assert!(!lock.locked());
        let mine = lock.clone();
        let _held = mine.lock();
        assert!(lock.locked());
    }

    fn try_new_succeeds_with_shared_memory() {
        assert_eq!(try_every_constructor(), []);
        let condition = Condition::try_with_lock(Lock::try_new().unwrap()).unwrap();
        assert!(condition.try_acquire());
        let condition = Condition::try_with_rlock(RLock::try_new().unwrap()).unwrap();
        assert!(condition.try_acquire());
    }
}
