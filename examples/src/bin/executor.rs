//! Usage guide, `WorkerPoolExecutor`: a lazy, ordered map.

use freethreading::{WorkerPoolExecutor, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let executor = WorkerPoolExecutor::new(4)?;
    let futures = executor.map(square, 0..5)?;
    let squares = futures.collect::<Result<Vec<_>, _>>()?;
    println!("{squares:?}");
    Ok(())
}
