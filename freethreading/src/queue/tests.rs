//! Serializing queue handles, which needs the crate's private codec.

use super::{Queue, SimpleQueue};
use crate::codec::{decode, encode};

#[test]
fn a_queue_handle_round_trips_to_the_same_queue() {
    let queue = Queue::bounded(3);
    queue.put(1_u32).unwrap();
    let bytes = encode(&queue).unwrap();
    let copy: Queue<u32> = decode(&bytes).unwrap();
    assert_eq!(copy.maxsize(), 3);
    assert_eq!(copy.get(), Ok(1));
    copy.put(2).unwrap();
    assert_eq!(queue.try_get(), Ok(2));
    copy.task_done().unwrap();
    assert!(!queue.join_timeout(std::time::Duration::ZERO));
    queue.task_done().unwrap();
    assert!(queue.join_timeout(std::time::Duration::ZERO));
}

#[test]
fn a_simple_queue_handle_round_trips_to_the_same_queue() {
    let queue = SimpleQueue::<String>::new();
    let copy: SimpleQueue<String> = decode(&encode(&queue).unwrap()).unwrap();
    copy.put("hi".to_owned()).unwrap();
    assert_eq!(queue.try_get().as_deref(), Ok("hi"));
}

/// As `sync::tests::a_handle_to_a_dropped_primitive_is_an_error_on_threads_only`:
/// a process queue once serialized lives until the program ends.
#[test]
fn a_handle_to_a_dropped_queue_is_an_error_on_threads_only() {
    let queue = Queue::<u8>::new();
    queue.put(7).unwrap();
    let bytes = encode(&queue).unwrap();
    drop(queue);
    let read_back = decode::<Queue<u8>>(&bytes);
    match crate::get_backend() {
        // MPI's rank 0 makes thread-flavor primitives.
        crate::Backend::Threading | crate::Backend::Mpi => assert!(read_back.is_err()),
        crate::Backend::Multiprocessing => {
            let queue = read_back.expect("a serialized process queue lives on");
            assert_eq!(queue.try_get(), Ok(7));
        }
    }
}

#[test]
fn a_queue_of_queues_serializes_its_handle_whatever_the_items() {
    let outer: Queue<Queue<SimpleQueue<u8>>> = Queue::new();
    let bytes = encode(&outer).unwrap();
    let copy: Queue<Queue<SimpleQueue<u8>>> = decode(&bytes).unwrap();
    copy.put(Queue::new()).unwrap();
    assert_eq!(outer.qsize(), 1);
}
