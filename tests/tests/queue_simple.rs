//! `SimpleQueue`: Python's test (put, get, empty), its extra `try_get` and
//! `get_timeout`, and traffic between threads.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use freethreading::{GetError, Queue, SimpleQueue, TaskValue};

const SHORT: Duration = Duration::from_millis(50);

fn assert_handle<T: Clone + Send + Sync + std::fmt::Debug + Default + TaskValue>() {}

freethreading_tests::backend_tests! {
    fn simple_queue_put_get_and_empty() {
        let queue = SimpleQueue::new();
        assert!(queue.empty());
        queue.put(1).unwrap();
        queue.put(2).unwrap();
        assert!(!queue.empty());
        assert_eq!(queue.get(), Ok(1));
        assert_eq!(queue.get(), Ok(2));
        assert!(queue.empty());
    }

    fn simple_queue_filled_by_another_thread() {
        // The library's documented example.
        let queue = SimpleQueue::new();
        let filler = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.put("hello".to_owned()).unwrap();
                queue.put("world".to_owned()).unwrap();
            })
        };
        assert_eq!(queue.get().as_deref(), Ok("hello"));
        assert_eq!(queue.get().as_deref(), Ok("world"));
        filler.join().unwrap();
        assert!(queue.empty());
    }

    fn simple_queue_try_get_on_empty_is_empty() {
        let queue = SimpleQueue::<u8>::default();
        assert_eq!(queue.try_get(), Err(GetError::Empty));
        queue.put(3).unwrap();
        assert_eq!(queue.try_get(), Ok(3));
        assert_eq!(queue.try_get(), Err(GetError::Empty));
    }

    fn simple_queue_get_timeout_returns_empty_after_the_timeout() {
        let queue = SimpleQueue::<u8>::new();
        let start = Instant::now();
        assert_eq!(queue.get_timeout(SHORT), Err(GetError::Empty));
        assert!(start.elapsed() >= SHORT);
        queue.put(9).unwrap();
        assert_eq!(queue.get_timeout(Duration::MAX), Ok(9));
    }

    fn simple_queue_blocked_get_wakes_on_put() {
        let queue = SimpleQueue::new();
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get())
        };
        queue.put(vec![1, 2]).unwrap();
        assert_eq!(getter.join().unwrap(), Ok(vec![1, 2]));
    }

    fn simple_queue_carries_queues() {
        let outer: SimpleQueue<(Queue<u32>, SimpleQueue<u32>)> = SimpleQueue::new();
        let (queue, simple) = (Queue::new(), SimpleQueue::new());
        outer.put((queue.clone(), simple.clone())).unwrap();
        let (got_queue, got_simple) = outer.get().unwrap();
        got_queue.put(1).unwrap();
        got_simple.put(2).unwrap();
        assert_eq!(queue.try_get(), Ok(1));
        assert_eq!(simple.try_get(), Ok(2));
    }

    fn simple_queue_is_a_shareable_serializable_handle() {
        assert_handle::<SimpleQueue<u32>>();
        assert_handle::<SimpleQueue<SimpleQueue<String>>>();
        let queue = SimpleQueue::new();
        queue.put(0_u8).unwrap();
        assert!(format!("{queue:?}").starts_with("SimpleQueue"));
    }

    fn simple_queue_many_items_from_many_threads_lose_none() {
        const PRODUCERS: u32 = 4;
        const COUNT: u32 = 25_000;
        let queue = SimpleQueue::new();
        let putters: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let queue = queue.clone();
                thread::spawn(move || {
                    for seq in 0..COUNT {
                        queue.put((producer, seq)).unwrap();
                    }
                })
            })
            .collect();
        let mut next: HashMap<u32, u32> = HashMap::new();
        for _ in 0..PRODUCERS * COUNT {
            let (producer, seq) = queue.get().unwrap();
            let expected = next.entry(producer).or_insert(0);
            assert_eq!(seq, *expected, "producer {producer} out of order");
            *expected += 1;
        }
        for putter in putters {
            putter.join().unwrap();
        }
        assert!(queue.empty());
        assert!(next.values().all(|&n| n == COUNT));
    }
}
