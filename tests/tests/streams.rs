//! `imap`, `imap_unordered` and the executor's `map` as `Stream`s (the
//! `futures-core` feature), polled as async code would, on both backends.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::pin::Pin;
use std::time::Duration;

use freethreading::{WorkerPool, WorkerPoolExecutor, worker_fn};
use futures_core::Stream;

#[worker_fn]
fn slow_square(x: u64) -> u64 {
    // Later items finish sooner, so arrival order differs from input order.
    std::thread::sleep(Duration::from_millis(20_u64.saturating_sub(x * 4)));
    x * x
}

#[worker_fn]
fn fragile(x: u64) -> u64 {
    assert!(x != 2, "two is unlucky");
    x
}

/// Every item of `stream`, each awaited as an async `while let` would: a
/// poll that finds nothing parks the thread until the stream's waker fires.
fn collect<S: Stream + Unpin>(mut stream: S) -> Vec<S::Item> {
    let mut items = Vec::new();
    while let Some(item) = freethreading_tests::block_on(std::future::poll_fn(|cx| {
        Pin::new(&mut stream).poll_next(cx)
    })) {
        items.push(item);
    }
    items
}

freethreading_tests::backend_tests! {
    fn imap_as_a_stream_yields_in_input_order() {
        let pool = WorkerPool::new(2).unwrap();
        let squares: Vec<u64> =
            collect(pool.imap(slow_square, 0..5).unwrap()).into_iter().map(Result::unwrap).collect();
        assert_eq!(squares, [0, 1, 4, 9, 16]);
    }

    fn imap_unordered_as_a_stream_yields_every_result() {
        let pool = WorkerPool::new(2).unwrap();
        let mut squares: Vec<u64> = collect(pool.imap_unordered(slow_square, 0..5).unwrap())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        squares.sort_unstable();
        assert_eq!(squares, [0, 1, 4, 9, 16]);
    }

    fn a_failed_item_is_an_error_in_its_place_and_the_stream_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        let outcomes = collect(pool.imap(fragile, 0..4).unwrap());
        assert_eq!(outcomes.len(), 4);
        assert!(outcomes[2].as_ref().unwrap_err().to_string().contains("unlucky"));
        assert_eq!(*outcomes[3].as_ref().unwrap(), 3);
    }

    fn the_executor_map_as_a_stream_ends_after_the_first_error() {
        let executor = WorkerPoolExecutor::new(2).unwrap();
        let squares: Vec<u64> =
            collect(executor.map(slow_square, 0..4).unwrap()).into_iter().map(Result::unwrap).collect();
        assert_eq!(squares, [0, 1, 4, 9]);
        let outcomes = collect(executor.map(fragile, 0..5).unwrap());
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes[2].is_err());
    }
}
