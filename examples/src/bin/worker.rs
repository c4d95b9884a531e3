//! Usage guide, `Worker`: a named worker and a daemon one.

use freethreading::{Worker, current_worker, worker_fn};

#[worker_fn]
fn greet() {
    println!("Hello from '{}'", current_worker().name());
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let worker = Worker::new(greet, ()).with_name("Worker");
    worker.start()?;
    worker.join()?;

    let daemon = Worker::new(greet, ()).with_name("Daemon").with_daemon(true);
    daemon.start()?;
    daemon.join()?;
    Ok(())
}
