// A result dropped unused is a warning: the task's value and any error would
// be lost unseen. Denied here, so each one is an error in the snapshot.
#![deny(unused_must_use)]

use freethreading::{Worker, WorkerPool, WorkerPoolExecutor, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    Worker::new(square, (2,));
    let pool = WorkerPool::new(2)?;
    pool.apply_async(square, (3,))?;
    pool.imap(square, vec![1, 2])?;
    pool.imap_unordered(square, vec![1, 2])?;
    let executor = WorkerPoolExecutor::new(2)?;
    executor.submit(square, (4,))?;
    executor.map(square, vec![1, 2])?;
    Ok(())
}
