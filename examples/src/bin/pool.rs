//! Usage guide, `WorkerPool`: map a function over a range.

use freethreading::{WorkerPool, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = WorkerPool::new(4)?;
    println!("{:?}", pool.map(square, 0..5)?);
    Ok(())
}
