//! A pool outlives what user code can still do on its threads, and reads odd
//! iterators whole.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::time::Duration;

use freethreading::{WorkerPool, worker_fn};
use serde::{Deserialize, Serialize};

/// A result whose `Drop` panics: dropped on a worker when nobody takes it.
#[derive(Serialize, Deserialize)]
struct Grenade(bool);

impl Drop for Grenade {
    fn drop(&mut self) {
        assert!(!self.0, "a grenade went off in a drop");
    }
}

#[worker_fn]
fn slow_grenade() -> Grenade {
    std::thread::sleep(Duration::from_millis(100));
    Grenade(true)
}

#[worker_fn]
fn double(x: u64) -> u64 {
    2 * x
}

/// Who runs it: the worker's identity (its process or its thread).
#[worker_fn]
fn who() -> u64 {
    freethreading::get_ident()
}

/// Yields `0..3`, then `None` once, then `3..6`: not a fused iterator.
struct Stutter(u64);

impl Iterator for Stutter {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.0 += 1;
        match self.0 {
            1..=3 => Some(self.0 - 1),
            5..=7 => Some(self.0 - 2),
            _ => None, // the 4th call, and every call after the 7th
        }
    }
}

freethreading_tests::backend_tests! {
    fn a_result_dropped_on_a_worker_that_panics_does_not_kill_the_worker() {
        let pool = WorkerPool::new(1).unwrap();
        let worker = pool.apply(who, ()).unwrap();
        // Dropped at once, the result is dropped on the worker when it is ready.
        drop(pool.apply_async(slow_grenade, ()).unwrap());
        std::thread::sleep(Duration::from_millis(300));
        let result = pool.apply_async(double, (21,)).unwrap();
        assert!(result.wait_timeout(Duration::from_secs(30)), "the only worker died");
        assert_eq!(result.get().unwrap(), 42);
        assert_eq!(pool.apply(who, ()).unwrap(), worker, "the worker was replaced");
    }

    fn an_iterator_that_stops_and_resumes_is_read_up_to_its_first_end() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.map_chunked(double, Stutter(0), 2).unwrap(), [0, 2, 4]);
    }
}
