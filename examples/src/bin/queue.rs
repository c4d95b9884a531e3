//! Usage guide, `Queue`: a producer and a consumer joined on `task_done`.

use freethreading::{Queue, Worker, worker_fn};

#[worker_fn]
fn producer(queue: Queue<Option<u32>>) {
    for value in 0..3 {
        queue.put(Some(value)).expect("the queue accepts items");
    }
    queue.put(None).expect("the queue accepts items"); // the sentinel marks completion
}

#[worker_fn]
fn consumer(queue: Queue<Option<u32>>) {
    while let Some(item) = queue.get().expect("the queue yields items") {
        println!("Processing {item}");
        queue.task_done().expect("one task_done per item");
    }
    queue.task_done().expect("one task_done per item");
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = Queue::new();
    let producer_worker = Worker::new(producer, (queue.clone(),)).with_name("Producer");
    let consumer_worker = Worker::new(consumer, (queue.clone(),)).with_name("Consumer");
    producer_worker.start()?;
    consumer_worker.start()?;
    queue.join();
    producer_worker.join()?;
    consumer_worker.join()?;
    Ok(())
}
