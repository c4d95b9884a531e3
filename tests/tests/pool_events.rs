//! A pool's log records (`log`, target `freethreading`): workers retired
//! after their quota, and on processes workers that die or are killed.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::Mutex;
use std::time::Duration;

use freethreading::{Backend, TaskError, WorkerPool, get_backend, worker_fn};

/// Every record of this crate, as text.
static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "freethreading"
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}", record.level(), record.args());
            RECORDS.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

fn capture() {
    // Once per process: the first test to run installs it.
    if log::set_logger(&Capture).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

fn recorded(text: &str) -> bool {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .any(|line| line.contains(text))
}

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn abort_worker() {
    std::process::abort();
}

#[worker_fn]
fn nap(millis: u64) {
    std::thread::sleep(Duration::from_millis(millis));
}

freethreading_tests::backend_tests! {
    fn retirements_and_deaths_are_logged() {
        capture();
        let pool = WorkerPool::builder().workers(1).max_tasks_per_worker(2).build().unwrap();
        for x in 0..5 {
            pool.apply(square, (x,)).unwrap();
        }
        assert!(recorded("retired after 2 jobs"), "{:?}", RECORDS.lock().unwrap());
        if get_backend() == Backend::Multiprocessing {
            assert!(recorded("started as process"));
            let error = pool.apply(abort_worker, ()).unwrap_err();
            assert!(error.task_error().is_some_and(TaskError::is_worker_death));
            assert!(recorded("lost its job"), "{:?}", RECORDS.lock().unwrap());
            assert!(pool.apply_timeout(nap, (5_000,), Duration::from_millis(20)).is_err());
            pool.apply(square, (1,)).unwrap();
            assert!(recorded("passed its deadline"), "{:?}", RECORDS.lock().unwrap());
        }
    }
}
