//! Usage guide, parallel primes with `WorkerPoolExecutor` (the README's main
//! example): the executor maps `is_prime` over the candidates, in order.

use freethreading::{WorkerPoolExecutor, worker_fn};

#[worker_fn]
fn is_prime(n: u64) -> bool {
    n >= 2 && (2..=n.isqrt()).all(|i| n % i != 0)
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let executor = WorkerPoolExecutor::builder().build()?;
    let candidates = 10_000..10_100;
    let verdicts = executor.map(is_prime, candidates.clone())?;
    let mut primes = Vec::new();
    for (n, prime) in candidates.zip(verdicts) {
        if prime? {
            primes.push(n);
        }
    }
    println!("Found {} primes: {primes:?}", primes.len());
    println!("(backend: {})", freethreading::get_backend());
    Ok(())
}
