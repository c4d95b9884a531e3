//! `benches/mpi_primitives.sh`'s freethreading side: a task on worker rank
//! 1 (`mpirun -n 2`) uses primitives served by rank 0, each operation one
//! request and its answer. Prints microseconds per operation: a `Lock`'s
//! `acquire` or `release` from the rank, a `Queue`'s `put` or `get` of a
//! `u64` from the rank, and, for scale, the same `Lock` operation on rank 0
//! itself (no MPI).

use std::time::Instant;

use freethreading::{Lock, Queue, WorkerPool, worker_fn};

const OPERATIONS: u32 = 10_000;

/// Microseconds per `acquire` or `release`.
fn lock_micros(lock: &Lock, pairs: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..pairs {
        lock.acquire();
        lock.release().expect("held");
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(2 * pairs)
}

#[worker_fn]
fn lock_from_a_rank(lock: Lock, pairs: u32) -> f64 {
    lock_micros(&lock, 200);
    lock_micros(&lock, pairs)
}

#[worker_fn]
fn queue_from_a_rank(queue: Queue<u64>, pairs: u32) -> f64 {
    let start = Instant::now();
    for i in 0..u64::from(pairs) {
        queue.put(i).expect("room");
        assert_eq!(queue.get().expect("an item"), i);
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(2 * pairs)
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = WorkerPool::new(1)?;
    let lock = Lock::new();
    let queue = Queue::new();
    let pairs = OPERATIONS / 2;
    let rank = pool.apply(lock_from_a_rank, (lock.clone(), pairs))?;
    let items = pool.apply(queue_from_a_rank, (queue, pairs))?;
    let local = lock_micros(&lock, 100_000);
    println!("lock_us {rank:.2} queue_us {items:.2} local_lock_us {local:.3}");
    Ok(())
}
