//! Usage guide, `Lock` and `RLock`: a critical section, and a recursive countdown.

use freethreading::{Lock, RLock, Worker, current_worker, worker_fn};

#[worker_fn]
fn critical(lock: Lock) {
    let _guard = lock.lock();
    println!("'{}' acquired the lock", current_worker().name());
}

#[worker_fn]
fn countdown(rlock: RLock, n: u32) {
    let _guard = rlock.lock();
    if n > 0 {
        println!("'{}': {n}...", current_worker().name());
        countdown(rlock.clone(), n - 1);
    } else {
        println!("'{}': go!", current_worker().name());
    }
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lock = Lock::new();
    let rlock = RLock::new();

    let workers: Vec<_> = (0..2)
        .map(|i| Worker::new(critical, (lock.clone(),)).with_name(format!("Worker-{i}")))
        .collect();
    for w in &workers {
        w.start()?;
    }
    for w in workers {
        w.join()?;
    }

    let workers: Vec<_> = (0..2)
        .map(|i| Worker::new(countdown, (rlock.clone(), 3)).with_name(format!("Worker-{i}")))
        .collect();
    for w in &workers {
        w.start()?;
    }
    for w in workers {
        w.join()?;
    }
    Ok(())
}
