//! The README's quick start: primitives, utility functions, and the three ways
//! to run work (`Worker`, `WorkerPool`, `WorkerPoolExecutor`).

use freethreading::{
    Event, Lock, Queue, Worker, WorkerPool, WorkerPoolExecutor, active_children, current_worker,
    enumerate, get_ident, worker_fn,
};

#[worker_fn]
fn task() {
    println!("Hello from {}!", current_worker().name());
}

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let event = Event::new();
    let lock = Lock::new();
    let queue = Queue::new();
    lock.acquire();
    event.set();
    queue.put("data".to_owned())?;
    println!("{}", event.is_set());
    println!("{:?}", queue.get()?);
    lock.release()?;

    println!("{}", active_children().len()); // excludes the current worker
    println!("{}", enumerate().len()); // includes it
    println!("{}", get_ident() > 0);

    println!("{:?}", current_worker().name());
    let worker = Worker::new(task, ()).with_name("MyWorker");
    worker.start()?;
    worker.join()?;

    let pool = WorkerPool::new(2)?;
    println!("{:?}", pool.map(square, 0..5)?);

    let executor = WorkerPoolExecutor::new(2)?;
    executor.submit(task, ())?.result()?;
    Ok(())
}
