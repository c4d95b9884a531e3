//! `WorkerPool::map_range`: a map over an integer range that the workers
//! generate themselves, and `parallel_map!` choosing it for ranges.

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{PoolError, WorkerPool, parallel_map, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn negate(x: i32) -> i64 {
    -i64::from(x)
}

#[worker_fn]
fn fragile(x: u64) -> u64 {
    assert!(x != 77, "77 is fragile");
    x
}

freethreading_tests::backend_tests! {
    fn a_range_maps_to_what_map_gives() {
        let pool = WorkerPool::new(2).unwrap();
        let (high, low) = (10, 3);
        let reversed = high..low; // empty, as Python's `range(10, 3)`
        for range in [0..0, 0..1, 0..5, 3..1000, reversed] {
            let expected = pool.map(square, range.clone()).unwrap();
            assert_eq!(pool.map_range(square, range.clone()).unwrap(), expected, "{range:?}");
            for chunksize in [1, 3, 1000] {
                assert_eq!(
                    pool.map_range_chunked(square, range.clone(), chunksize).unwrap(),
                    expected,
                    "{range:?} in chunks of {chunksize}"
                );
            }
        }
    }

    fn signed_ranges_cross_zero() {
        let pool = WorkerPool::new(2).unwrap();
        let expected: Vec<i64> = (-50..50).map(|x: i32| -i64::from(x)).collect();
        assert_eq!(pool.map_range_chunked(negate, -50..50, 7).unwrap(), expected);
    }

    fn a_panic_in_a_range_is_the_first_failure_in_order() {
        let pool = WorkerPool::new(2).unwrap();
        let error = pool.map_range_chunked(fragile, 0..200, 10).unwrap_err();
        assert_eq!(error.panic_message(), Some("77 is fragile"));
        assert_eq!(pool.map_range(fragile, 0..10).unwrap(), (0..10).collect::<Vec<_>>());
    }

    fn a_zero_chunksize_and_a_closed_pool_are_errors() {
        let pool = WorkerPool::new(1).unwrap();
        assert!(matches!(pool.map_range_chunked(square, 0..3, 0), Err(PoolError::ZeroChunksize)));
        pool.close();
        assert!(matches!(pool.map_range(square, 0..3), Err(PoolError::NotRunning)));
    }

    fn parallel_map_gives_the_same_for_a_range_and_other_items() {
        let from_range = parallel_map!(square, 0..1000).unwrap();
        let from_vec = parallel_map!(square, (0..1000).collect::<Vec<u64>>()).unwrap();
        assert_eq!(from_range, from_vec);
        let chunked = parallel_map!(square, 5..50, chunksize = 4, workers = 3).unwrap();
        assert_eq!(chunked, (5..50).map(|x| x * x).collect::<Vec<u64>>());
        let closure = parallel_map!(|x: i32| i64::from(x) * 2, -3..3).unwrap();
        assert_eq!(closure, [-6, -4, -2, 0, 2, 4]);
    }
}
