//! `Queue`: Python's tests (FIFO, nowait, `task_done`/`join`, qsize, empty/full
//! with maxsize 2), timeouts, misuse, and traffic between threads.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use freethreading::{GetError, PutError, Queue, SimpleQueue, TaskDoneError, TaskValue};

/// Long enough for any thread on a loaded machine to reach where it blocks.
const GENEROUS: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(50);

fn assert_handle<T: Clone + Send + Sync + std::fmt::Debug + Default + TaskValue>() {}

/// Puts `count` numbered items from each of `producers` threads through a
/// queue of `maxsize`, taken by `consumers` threads; returns what each
/// consumer took, in order.
fn traffic(maxsize: usize, producers: u32, consumers: usize, count: u32) -> Vec<Vec<(u32, u32)>> {
    let queue: Queue<Option<(u32, u32)>> = Queue::bounded(maxsize);
    let takers: Vec<_> = (0..consumers)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut taken = Vec::new();
                while let Some(item) = queue.get().unwrap() {
                    taken.push(item);
                    queue.task_done().unwrap();
                }
                queue.task_done().unwrap();
                taken
            })
        })
        .collect();
    let putters: Vec<_> = (0..producers)
        .map(|producer| {
            let queue = queue.clone();
            thread::spawn(move || {
                for seq in 0..count {
                    queue.put(Some((producer, seq))).unwrap();
                }
            })
        })
        .collect();
    for putter in putters {
        putter.join().unwrap();
    }
    for _ in 0..consumers {
        queue.put(None).unwrap();
    }
    queue.join();
    let taken = takers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(queue.empty());
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    taken
}

/// Every item arrived exactly once, and each consumer saw each producer's
/// items in the order they were put.
fn assert_all_once_in_order(taken: &[Vec<(u32, u32)>], producers: u32, count: u32) {
    let mut seen: HashMap<u32, Vec<u32>> = HashMap::new();
    for consumer in taken {
        let mut last: HashMap<u32, u32> = HashMap::new();
        for &(producer, seq) in consumer {
            if let Some(&before) = last.get(&producer) {
                assert!(before < seq, "producer {producer}: {seq} after {before}");
            }
            last.insert(producer, seq);
            seen.entry(producer).or_default().push(seq);
        }
    }
    assert_eq!(seen.len(), producers as usize);
    for (producer, mut seqs) in seen {
        seqs.sort_unstable();
        assert!(
            seqs.iter().copied().eq(0..count),
            "producer {producer} lost or repeated items"
        );
    }
}

freethreading_tests::backend_tests! {
    fn queue_is_fifo() {
        let queue = Queue::new();
        for i in 0..5 {
            queue.put(i).unwrap();
        }
        let got: Vec<i32> = (0..5).map(|_| queue.get().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }

    fn queue_nowait_operations() {
        let queue = Queue::bounded(1);
        assert_eq!(queue.try_get(), Err(GetError::Empty));
        queue.try_put("first".to_owned()).unwrap();
        let error = queue.try_put("second".to_owned()).unwrap_err();
        assert!(error.is_full());
        assert_eq!(error.to_string(), "queue is full");
        assert_eq!(error.into_inner(), "second");
        assert_eq!(queue.try_get().as_deref(), Ok("first"));
        let error = queue.try_get().unwrap_err();
        assert!(error.is_empty());
        assert_eq!(error.to_string(), "queue is empty");
    }

    fn queue_task_done_and_join() {
        let queue = Queue::new();
        for i in 0..3 {
            queue.put(i).unwrap();
        }
        for _ in 0..3 {
            queue.get().unwrap();
            queue.task_done().unwrap();
        }
        queue.join();
        assert!(queue.join_timeout(Duration::ZERO));
    }

    fn queue_qsize_counts_items() {
        let queue = Queue::new();
        assert_eq!(queue.qsize(), 0);
        queue.put(1).unwrap();
        queue.put(2).unwrap();
        assert_eq!(queue.qsize(), 2);
        queue.get().unwrap();
        assert_eq!(queue.qsize(), 1);
    }

    fn queue_empty_and_full_with_maxsize_2() {
        let queue = Queue::bounded(2);
        assert!(queue.empty());
        assert!(!queue.full());
        queue.put(1).unwrap();
        assert!(!queue.empty());
        assert!(!queue.full());
        queue.put(2).unwrap();
        assert!(queue.full());
        assert_eq!(queue.try_put(3), Err(PutError::Full(3)));
        queue.get().unwrap();
        assert!(!queue.full());
    }

    fn queue_maxsize_0_is_unbounded() {
        let queue = Queue::bounded(0);
        assert_eq!(queue.maxsize(), 0);
        for i in 0..10_000 {
            queue.try_put(i).unwrap();
        }
        assert!(!queue.full());
        assert_eq!(queue.qsize(), 10_000);
        assert_eq!(Queue::<u8>::new().maxsize(), 0);
        assert_eq!(Queue::<u8>::default().maxsize(), 0);
    }

    fn queue_with_a_huge_bound_allocates_nothing_up_front() {
        let queue = Queue::bounded(usize::MAX);
        assert_eq!(queue.maxsize(), usize::MAX);
        queue.put(1_u64).unwrap();
        queue.try_put(2).unwrap();
        assert!(!queue.full());
        assert_eq!(queue.get(), Ok(1));
        assert_eq!(queue.get_timeout(SHORT), Ok(2));
    }

    fn queue_get_timeout_returns_empty_after_the_timeout() {
        let queue = Queue::<u32>::new();
        let start = Instant::now();
        assert_eq!(queue.get_timeout(SHORT), Err(GetError::Empty));
        assert!(start.elapsed() >= SHORT);
    }

    fn queue_put_timeout_returns_the_item_after_the_timeout() {
        let queue = Queue::bounded(1);
        queue.put(vec![1]).unwrap();
        let start = Instant::now();
        assert_eq!(queue.put_timeout(vec![2], SHORT), Err(PutError::Full(vec![2])));
        assert!(start.elapsed() >= SHORT);
        assert_eq!(queue.qsize(), 1);
        // The refused item was never a task.
        queue.get().unwrap();
        queue.task_done().unwrap();
        assert!(queue.join_timeout(Duration::ZERO));
    }

    fn queue_timeouts_succeed_when_they_can() {
        let queue = Queue::bounded(1);
        queue.put_timeout(1, SHORT).unwrap();
        assert_eq!(queue.get_timeout(SHORT), Ok(1));
        queue.put_timeout(2, Duration::MAX).unwrap();
        assert_eq!(queue.get_timeout(Duration::MAX), Ok(2));
    }

    fn queue_task_done_too_many_times_is_an_error() {
        let queue = Queue::new();
        assert_eq!(queue.task_done(), Err(TaskDoneError));
        queue.put(()).unwrap();
        queue.get().unwrap();
        queue.task_done().unwrap();
        let error = queue.task_done().unwrap_err();
        assert_eq!(error.to_string(), "task_done() called too many times");
        // The error changed nothing: a new item is one task.
        queue.put(()).unwrap();
        assert!(!queue.join_timeout(Duration::ZERO));
        queue.task_done().unwrap();
        assert!(queue.join_timeout(Duration::ZERO));
    }

    fn queue_join_timeout_is_false_while_a_task_is_open() {
        let queue = Queue::new();
        queue.put(1).unwrap();
        let start = Instant::now();
        assert!(!queue.join_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        queue.get().unwrap();
        // Taking the item is not finishing its task.
        assert!(!queue.join_timeout(Duration::ZERO));
        queue.task_done().unwrap();
        assert!(queue.join_timeout(Duration::ZERO));
    }

    fn queue_join_wakes_when_the_last_task_is_done() {
        let queue = Queue::new();
        queue.put('a').unwrap();
        queue.put('b').unwrap();
        let (joined, join_returned) = mpsc::channel();
        let joiner = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.join();
                joined.send(()).unwrap();
            })
        };
        queue.get().unwrap();
        queue.get().unwrap();
        queue.task_done().unwrap();
        assert!(join_returned.recv_timeout(SHORT).is_err(), "join returned with a task open");
        queue.task_done().unwrap();
        join_returned.recv_timeout(GENEROUS).unwrap();
        joiner.join().unwrap();
    }

    fn queue_blocked_get_wakes_on_put() {
        let queue = Queue::new();
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get())
        };
        queue.put(42).unwrap();
        assert_eq!(getter.join().unwrap(), Ok(42));
    }

    fn queue_blocked_put_wakes_when_an_item_leaves() {
        let queue = Queue::bounded(1);
        queue.put(1).unwrap();
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || queue.put(2))
        };
        assert_eq!(queue.get(), Ok(1));
        putter.join().unwrap().unwrap();
        assert_eq!(queue.get(), Ok(2));
    }

    fn queue_producer_and_consumer_threads() {
        // The library's documented example: a sentinel marks completion.
        let queue = Queue::new();
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || {
                for value in 0..3 {
                    queue.put(Some(value)).unwrap();
                }
                queue.put(None).unwrap();
            })
        };
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut processed = Vec::new();
                loop {
                    let item = queue.get().unwrap();
                    queue.task_done().unwrap();
                    match item {
                        Some(value) => processed.push(value),
                        None => break processed,
                    }
                }
            })
        };
        queue.join();
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), [0, 1, 2]);
    }

    fn queue_carries_queues_and_clones_share_items() {
        let outer: Queue<Queue<u64>> = Queue::new();
        let inner = Queue::bounded(4);
        outer.put(inner.clone()).unwrap();
        let received = outer.get().unwrap();
        received.put(7).unwrap();
        assert_eq!(inner.get(), Ok(7));
        assert_eq!(received.maxsize(), 4);

        let replies: Queue<SimpleQueue<String>> = Queue::new();
        let worker = {
            let replies = replies.clone();
            thread::spawn(move || {
                let reply_to = replies.get().unwrap();
                reply_to.put("done".to_owned()).unwrap();
            })
        };
        let mailbox = SimpleQueue::new();
        replies.put(mailbox.clone()).unwrap();
        assert_eq!(mailbox.get().as_deref(), Ok("done"));
        worker.join().unwrap();
    }

    fn queue_is_a_shareable_serializable_handle() {
        assert_handle::<Queue<u32>>();
        assert_handle::<Queue<Queue<String>>>();
        // Items need only be `Send`: each is owned by one thread at a time.
        assert_handle::<Queue<std::cell::RefCell<u32>>>();
        let queue = Queue::bounded(3);
        queue.put(1_u8).unwrap();
        let debug = format!("{queue:?}");
        assert!(debug.contains("maxsize: 3") && debug.contains("qsize: 1"), "{debug}");
    }

    fn queue_drops_the_items_left_in_it() {
        let dropped = || WITNESSES_DROPPED.load(Ordering::SeqCst);
        let queue = Queue::new();
        let before = dropped();
        queue.put(Witness).unwrap();
        // Where the item crossed as bytes (on processes, and on threads in
        // strict mode), the value put is gone already; a copy is what waits.
        let after_put = dropped();
        assert!(after_put - before <= 1);
        let copy = queue.clone();
        drop(queue);
        assert_eq!(dropped(), after_put, "a handle is left");
        drop(copy);
        // A thread queue holds the value itself; a process queue, its bytes.
        let held = usize::from(freethreading::get_backend() == freethreading::Backend::Threading);
        assert_eq!(dropped(), after_put + held);
    }

    fn queue_many_items_through_a_bounded_queue_lose_none() {
        let taken = traffic(16, 4, 3, 25_000);
        assert_all_once_in_order(&taken, 4, 25_000);
    }

    fn queue_one_consumer_sees_each_producer_in_order() {
        let taken = traffic(8, 3, 1, 20_000);
        assert_eq!(taken[0].len(), 60_000);
        assert_all_once_in_order(&taken, 3, 20_000);
    }

    fn queue_item_skipping_a_field_is_refused_never_misread() {
        // Small and big: each is either refused at `put`, with the item
        // back, or read back as itself, never as another value.
        for len in [0, 300 * 1024] {
            let queue = Queue::new();
            let item = SkipsAField { note: None, a: 1, b: 5, data: vec![9; len] };
            match queue.put(item.clone()) {
                Err(PutError::Encode(back, reason)) => {
                    assert_eq!(back, item);
                    assert!(!reason.is_empty());
                }
                Err(other) => panic!("unexpected {other:?}"),
                Ok(()) => assert_eq!(queue.get_timeout(GENEROUS), Ok(item)),
            }
        }
    }
}

/// A field skipped when `None`: postcard would write the struct without it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct SkipsAField {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<u32>,
    a: u8,
    b: u8,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

/// How many `Witness`es this process dropped (only one test makes them).
static WITNESSES_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// An item whose drops are counted, while staying a task value.
#[derive(serde::Serialize, serde::Deserialize)]
struct Witness;

impl Drop for Witness {
    fn drop(&mut self) {
        WITNESSES_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}
