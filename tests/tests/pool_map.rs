//! `WorkerPool`'s `map` family: `map`, `starmap`, their `_async` and `_chunked`
//! forms, `imap` and `imap_unordered`.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::mpsc;
use std::time::{Duration, Instant};

use freethreading::{PoolError, WorkerPool, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[worker_fn]
fn describe(x: u32) -> String {
    format!("item {x}")
}

/// Panics on multiples of 10 above 0, naming the item.
#[worker_fn]
fn fragile(x: u64) -> u64 {
    assert!(x == 0 || x % 10 != 0, "boom {x}");
    x
}

#[worker_fn]
fn sleepy(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

#[worker_fn]
fn echo(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

const LONG: Duration = Duration::from_secs(60);

freethreading_tests::backend_tests! {
    fn many_large_items_one_per_task_all_come_back() {
        // Quick tasks with large arguments and results, one per job: on
        // processes, jobs and replies in flight must never fill both
        // directions of a channel at once.
        let pool = WorkerPool::new(2).unwrap();
        let items: Vec<Vec<u8>> = (0..400_u32).map(|i| vec![(i % 251) as u8; 40_000]).collect();
        let back = pool.map_chunked(echo, items.clone(), 1).unwrap();
        assert_eq!(back, items);
    }

    fn map_returns_results_in_order() {
        let pool = WorkerPool::new(4).unwrap();
        assert_eq!(pool.map(square, 0..5).unwrap(), [0, 1, 4, 9, 16]);
        assert_eq!(pool.map(describe, vec![3, 1]).unwrap(), ["item 3", "item 1"]);
    }

    fn map_with_chunksize_3() {
        let pool = WorkerPool::new(2).unwrap();
        let expected: Vec<u64> = (0..10).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..10, 3).unwrap(), expected);
        assert_eq!(pool.starmap_chunked(add, [(1, 2), (3, 4)], 3).unwrap(), [3, 7]);
    }

    fn map_of_an_input_without_a_known_length() {
        let pool = WorkerPool::new(3).unwrap();
        let evens = (0..100).filter(|x| x % 2 == 0);
        let expected: Vec<u64> = (0..100).filter(|x| x % 2 == 0).map(|x| x * x).collect();
        assert_eq!(pool.map(square, evens).unwrap(), expected);
    }

    fn map_async_gives_the_vector_later() {
        let pool = WorkerPool::new(2).unwrap();
        let result = pool.map_async(square, 0..20).unwrap();
        let (sender, receiver) = mpsc::channel();
        result.on_ready(move |outcome| sender.send(outcome.map(Vec::len)).unwrap());
        let expected: Vec<u64> = (0..20).map(|x| x * x).collect();
        assert_eq!(result.get().unwrap(), expected);
        assert_eq!(receiver.recv_timeout(LONG).unwrap().unwrap(), 20);
        let chunked = pool.map_async_chunked(square, 0..7, 2).unwrap();
        assert_eq!(chunked.get().unwrap(), [0, 1, 4, 9, 16, 25, 36]);
    }

    fn imap_yields_in_order() {
        let pool = WorkerPool::new(3).unwrap();
        let results: Vec<u64> = pool.imap(square, 0..50).unwrap().map(Result::unwrap).collect();
        assert_eq!(results, (0..50).map(|x| x * x).collect::<Vec<_>>());
        let chunked: Vec<u64> = pool.imap_chunked(square, 0..50, 7).unwrap().map(Result::unwrap).collect();
        assert_eq!(chunked, results);
    }

    fn imap_keeps_order_when_early_items_are_slow() {
        let pool = WorkerPool::new(3).unwrap();
        let results: Vec<u64> = pool.imap(sleepy, [200, 0, 0, 0, 0]).unwrap().map(Result::unwrap).collect();
        assert_eq!(results, [200, 0, 0, 0, 0]);
    }

    fn imap_unordered_yields_every_result() {
        let pool = WorkerPool::new(3).unwrap();
        let mut results: Vec<u64> = pool.imap_unordered(square, 0..50).unwrap().map(Result::unwrap).collect();
        results.sort_unstable();
        assert_eq!(results, (0..50).map(|x| x * x).collect::<Vec<_>>());
        let mut chunked: Vec<u64> =
            pool.imap_unordered_chunked(square, 0..50, 4).unwrap().map(Result::unwrap).collect();
        chunked.sort_unstable();
        assert_eq!(chunked, results);
    }

    fn imap_next_timeout_times_out_then_delivers() {
        let pool = WorkerPool::new(1).unwrap();
        let mut results = pool.imap(sleepy, [2_000]).unwrap();
        let timeout = Duration::from_millis(50);
        let start = Instant::now();
        assert!(matches!(results.next_timeout(timeout), Some(Err(PoolError::Timeout))));
        assert!(start.elapsed() >= timeout);
        assert_eq!(results.next_timeout(LONG).unwrap().unwrap(), 2_000);
        assert!(results.next().is_none());
        let mut unordered = pool.imap_unordered(sleepy, [2_000]).unwrap();
        assert!(matches!(unordered.next_timeout(timeout), Some(Err(PoolError::Timeout))));
        assert_eq!(unordered.next().unwrap().unwrap(), 2_000);
        assert!(unordered.next().is_none());
    }

    fn starmap_unpacks_argument_tuples() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.starmap(add, [(1, 2), (3, 4), (-5, 5)]).unwrap(), [3, 7, 0]);
    }

    fn starmap_async_gives_the_vector_later() {
        let pool = WorkerPool::new(2).unwrap();
        let result = pool.starmap_async(add, vec![(10, 1), (20, 2)]).unwrap();
        assert_eq!(result.get().unwrap(), [11, 22]);
    }

    fn empty_input_gives_empty_results() {
        let pool = WorkerPool::new(2).unwrap();
        assert!(pool.map(square, Vec::new()).unwrap().is_empty());
        assert!(pool.map_chunked(square, 0..0, 3).unwrap().is_empty());
        assert!(pool.map(square, (0..10).filter(|_| false)).unwrap().is_empty());
        assert!(pool.map_async(square, 0..0).unwrap().get().unwrap().is_empty());
        assert!(pool.starmap(add, []).unwrap().is_empty());
        assert!(pool.starmap_async(add, []).unwrap().get().unwrap().is_empty());
        assert!(pool.imap(square, 0..0).unwrap().next().is_none());
        assert!(pool.imap_unordered(square, 0..0).unwrap().next().is_none());
    }

    fn large_input_keeps_its_order() {
        let pool = WorkerPool::new(4).unwrap();
        let expected: Vec<u64> = (0..200_000).map(|x| x * x).collect();
        assert_eq!(pool.map(square, 0..200_000).unwrap(), expected);
        assert_eq!(pool.map_chunked(square, 0..200_000, 7).unwrap(), expected);
        let streamed: Vec<u64> = pool.imap_chunked(square, 0..200_000, 1_000).unwrap().map(Result::unwrap).collect();
        assert_eq!(streamed, expected);
    }

    fn map_reports_the_first_failure_in_order() {
        let pool = WorkerPool::new(4).unwrap();
        for chunksize in [1, 3, 25] {
            let error = pool.map_chunked(fragile, 0..100, chunksize).unwrap_err();
            assert!(error.is_panic());
            assert_eq!(error.panic_message(), Some("boom 10"), "chunksize {chunksize}");
        }
        let error = pool.map(fragile, 0..100).unwrap_err();
        assert_eq!(error.panic_message(), Some("boom 10"));
        let error = pool.map_async(fragile, 0..100).unwrap().get().unwrap_err();
        assert_eq!(error.panic_message(), Some("boom 10"));
        assert_eq!(pool.map(fragile, 1..10).unwrap(), (1..10).collect::<Vec<_>>(), "the pool goes on");
    }

    fn imap_yields_an_error_for_a_failed_item_and_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<Result<u64, PoolError>> = pool.imap(fragile, 5..25).unwrap().collect();
        assert_eq!(results.len(), 20);
        for (x, result) in (5..25).zip(&results) {
            match result {
                Ok(value) => assert_eq!(*value, x),
                Err(error) => {
                    assert_eq!(x % 10, 0);
                    assert_eq!(error.panic_message(), Some(format!("boom {x}").as_str()));
                }
            }
        }
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 2);
        let unordered: Vec<_> = pool.imap_unordered(fragile, 5..25).unwrap().collect();
        assert_eq!(unordered.iter().filter(|r| r.is_err()).count(), 2);
        assert_eq!(unordered.len(), 20);
    }

    fn a_failed_chunk_is_one_error_in_imap() {
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<_> = pool.imap_chunked(fragile, 0..30, 5).unwrap().collect();
        // Chunks [10, 15) and [20, 25) fail: one error each in place of five items.
        assert_eq!(results.len(), 30 - 2 * 5 + 2);
        assert!(results[10].is_err());
        assert_eq!(*results[11].as_ref().unwrap(), 15);
    }

    fn a_zero_chunksize_is_an_error() {
        let pool = WorkerPool::new(1).unwrap();
        assert!(matches!(pool.map_chunked(square, 0..3, 0), Err(PoolError::ZeroChunksize)));
        assert!(matches!(pool.map_async_chunked(square, 0..3, 0), Err(PoolError::ZeroChunksize)));
        assert!(matches!(pool.starmap_chunked(add, [(1, 1)], 0), Err(PoolError::ZeroChunksize)));
        assert!(matches!(pool.imap_chunked(square, 0..3, 0), Err(PoolError::ZeroChunksize)));
        assert!(matches!(pool.imap_unordered_chunked(square, 0..3, 0), Err(PoolError::ZeroChunksize)));
    }

    fn the_default_pool_maps() {
        let pool = freethreading::__private::default_pool();
        assert!(pool.workers() >= 1);
        assert_eq!(pool.map(square, 0..4).unwrap(), [0, 1, 4, 9]);
    }
}
