//! Process queues against two mappings of one arena, threads standing in
//! for processes.

use std::thread;
use std::time::{Duration, Instant};

use crate::shared::test_support::{process, via_second_mapping};
use crate::{GetError, PutError, Queue, SimpleQueue};

#[test]
fn items_arrive_in_order_with_exact_sizes() {
    let queue = process(|| Queue::<String>::bounded(3));
    let other = via_second_mapping(&queue);
    assert!(other.empty());
    queue.put("a".to_owned()).unwrap();
    assert_eq!(other.qsize(), 1);
    queue.put("b".repeat(1000)).unwrap();
    queue.put(String::new()).unwrap();
    assert!(other.full());
    assert_eq!(
        other.try_put("d".to_owned()),
        Err(PutError::Full("d".to_owned()))
    );
    let started = Instant::now();
    assert!(
        other
            .put_timeout("e".to_owned(), Duration::from_millis(20))
            .is_err()
    );
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(other.get().as_deref(), Ok("a"));
    assert_eq!(queue.qsize(), 2);
    assert_eq!(other.get(), Ok("b".repeat(1000)));
    assert_eq!(other.get().as_deref(), Ok(""));
    assert!(queue.empty());
    assert_eq!(other.try_get(), Err(GetError::Empty));
    assert_eq!(
        other.get_timeout(Duration::from_millis(10)),
        Err(GetError::Empty)
    );
}

#[test]
fn an_unbounded_queue_grows_across_segments_and_drains_in_order() {
    let queue = process(Queue::<Vec<u8>>::new);
    let other = via_second_mapping(&queue);
    // Several 64 KiB segments' worth, and items larger than a segment.
    let item = |i: usize| vec![i.to_le_bytes()[0]; (i % 97) * 3];
    for i in 0..3000 {
        queue.put(item(i)).unwrap();
    }
    queue.put(vec![7; 300_000]).unwrap();
    assert_eq!(other.qsize(), 3001);
    for i in 0..3000 {
        assert_eq!(other.get().unwrap(), item(i));
    }
    assert_eq!(other.get().unwrap().len(), 300_000);
    assert!(queue.empty());
}

#[test]
fn tasks_are_counted_across_mappings() {
    let queue = process(Queue::<u32>::new);
    let other = via_second_mapping(&queue);
    queue.put(1).unwrap();
    queue.put(2).unwrap();
    let consumer = thread::spawn(move || {
        for _ in 0..2 {
            other.get().unwrap();
            thread::sleep(Duration::from_millis(5));
            other.task_done().unwrap();
        }
        other.task_done()
    });
    queue.join();
    assert!(queue.join_timeout(Duration::ZERO));
    assert!(consumer.join().unwrap().is_err(), "one task_done too many");
}

#[test]
fn producers_and_consumers_lose_nothing() {
    const PER: u64 = 20_000;
    const ITEMS: usize = 40_002;
    let queue = process(|| Queue::<Option<u64>>::bounded(64));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let queue = via_second_mapping(&queue);
            thread::spawn(move || {
                let mut sum = 0;
                let mut count = 0;
                while let Some(v) = queue.get().unwrap() {
                    sum += v;
                    count += 1;
                }
                (sum, count)
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let queue = queue.clone();
            thread::spawn(move || {
                for i in 0..PER {
                    queue.put(Some(p * PER + i)).unwrap();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    queue.put(None).unwrap();
    queue.put(None).unwrap();
    let (sum, count) = consumers
        .into_iter()
        .map(|c| c.join().unwrap())
        .fold((0, 0), |(s, c), (s2, c2)| (s + s2, c + c2));
    assert_eq!(count, 2 * PER);
    assert_eq!(sum, (0..2 * PER).sum::<u64>());
    assert_eq!(queue.unfinished_tasks_for_test(), ITEMS, "two sentinels");
}

#[test]
fn a_simple_queue_blocks_a_get_until_a_put() {
    let queue = process(SimpleQueue::<u64>::new);
    let other = via_second_mapping(&queue);
    let getter = thread::spawn(move || other.get());
    thread::sleep(Duration::from_millis(20));
    queue.put(9).unwrap();
    assert_eq!(getter.join().unwrap(), Ok(9));
    assert!(queue.empty());
}

#[test]
fn an_item_that_cannot_be_serialized_is_an_error_at_put() {
    #[derive(Debug, PartialEq)]
    struct Refuses;
    impl serde::Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refused"))
        }
    }
    impl<'de> serde::Deserialize<'de> for Refuses {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Refuses)
        }
    }
    let queue = process(Queue::<Refuses>::new);
    match queue.put(Refuses) {
        Err(PutError::Encode(item, _)) => assert_eq!(item, Refuses),
        other => panic!("expected an encode error, got {other:?}"),
    }
    assert!(queue.empty());
    assert_eq!(queue.unfinished_tasks_for_test(), 0);
}

#[test]
fn queues_and_locks_travel_through_a_queue() {
    let queue = process(Queue::<(crate::Lock, SimpleQueue<u8>)>::new);
    let lock = process(crate::Lock::new);
    let inner = process(SimpleQueue::new);
    queue.put((lock.clone(), inner.clone())).unwrap();
    let other = via_second_mapping(&queue);
    let (their_lock, their_inner) = other.get().unwrap();
    their_lock.acquire();
    their_inner.put(5).unwrap();
    assert!(lock.locked());
    assert_eq!(inner.get(), Ok(5));
}

#[test]
fn a_dropped_queue_gives_back_the_blocks_of_its_big_items() {
    use crate::shared::payload;
    // A block of the 2 MiB class, freed: the next one of that class takes it.
    let first = payload::store(&[&vec![0_u8; 1 << 20]]).unwrap();
    first.release();
    let queue = process(Queue::<Vec<u8>>::new);
    queue.put(vec![7_u8; 1 << 20]).unwrap();
    assert!(queue.qsize() == 1);
    drop(queue);
    let again = payload::store(&[&vec![0_u8; 1 << 20]]).unwrap();
    assert_eq!(again.offset(), first.offset(), "the item's block came back");
    again.release();
}
