//! Usage guide, `Semaphore` and `Condition`: a section two workers may enter at
//! once, and a consumer woken by a producer.

use freethreading::{Condition, Queue, Semaphore, Worker, current_worker, worker_fn};

#[worker_fn]
fn restricted(semaphore: Semaphore) {
    let _permit = semaphore.access();
    println!("'{}' in restricted section", current_worker().name());
}

#[worker_fn]
fn producer(condition: Condition, queue: Queue<u32>, data: u32) {
    let guard = condition.lock();
    queue.put(data).expect("the queue accepts items");
    println!("'{}' sent: {data}", current_worker().name());
    guard.notify(1);
}

#[worker_fn]
fn consumer(condition: Condition, queue: Queue<u32>) {
    let mut guard = condition.lock();
    // Waiting for the item rather than for one notification also covers a
    // producer that runs first.
    guard.wait_for(|| !queue.empty());
    let item = queue.get().expect("the producer put an item");
    println!("'{}' received: {item}", current_worker().name());
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let semaphore = Semaphore::new(2);
    let condition = Condition::new();
    let queue = Queue::new();

    let workers: Vec<_> = (0..3)
        .map(|i| Worker::new(restricted, (semaphore.clone(),)).with_name(format!("Worker-{i}")))
        .collect();
    for w in &workers {
        w.start()?;
    }
    for w in workers {
        w.join()?;
    }

    let c = Worker::new(consumer, (condition.clone(), queue.clone())).with_name("Consumer");
    let p = Worker::new(producer, (condition.clone(), queue.clone(), 42)).with_name("Producer");
    c.start()?;
    p.start()?;
    c.join()?;
    p.join()?;
    Ok(())
}
