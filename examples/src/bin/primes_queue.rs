//! Usage guide, parallel primes with `Worker` and `Queue`: workers take
//! candidates from a task queue and put primes on a result queue.

use freethreading::{Queue, Worker, worker_fn};

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..=n.isqrt()).all(|i| n % i != 0)
}

#[worker_fn]
fn worker(tasks: Queue<Option<u64>>, results: Queue<u64>) {
    while let Some(number) = tasks.get().expect("the task queue yields items") {
        if is_prime(number) {
            results.put(number).expect("the result queue accepts items");
        }
        tasks.task_done().expect("one task_done per item");
    }
    tasks.task_done().expect("one task_done per item");
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tasks = Queue::new();
    let results = Queue::new();
    let candidates = 10_000..10_100;

    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let pool: Vec<_> = (0..workers)
        .map(|_| Worker::new(worker, (tasks.clone(), results.clone())))
        .collect();
    for w in &pool {
        w.start()?;
    }
    for candidate in candidates {
        tasks.put(Some(candidate))?;
    }
    for _ in &pool {
        tasks.put(None)?;
    }
    tasks.join();
    for w in pool {
        w.join()?;
    }

    let mut primes = Vec::new();
    while !results.empty() {
        primes.push(results.get()?);
    }
    primes.sort_unstable();
    println!("Found {} primes: {primes:?}", primes.len());
    Ok(())
}
