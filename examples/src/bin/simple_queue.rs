//! Usage guide, `SimpleQueue`: a worker fills it, the main worker drains it.

use freethreading::{SimpleQueue, Worker, worker_fn};

#[worker_fn]
fn fill_queue(queue: SimpleQueue<String>) {
    queue
        .put("hello".to_owned())
        .expect("the queue accepts items");
    queue
        .put("world".to_owned())
        .expect("the queue accepts items");
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = SimpleQueue::new();
    let worker = Worker::new(fill_queue, (queue.clone(),));
    worker.start()?;
    println!("{:?}", queue.get()?);
    println!("{:?}", queue.get()?);
    worker.join()?;
    println!("{}", queue.empty());
    Ok(())
}
