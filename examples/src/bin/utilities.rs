//! Usage guide, utility functions: who is running, and how many.

use freethreading::{
    Worker, active_children, active_count, current_worker, enumerate, get_backend, get_ident,
    worker_fn,
};

#[worker_fn]
fn busy_wait() {
    loop {
        std::thread::park();
    }
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let daemon = Worker::new(busy_wait, ())
        .with_name("Daemon")
        .with_daemon(true);
    daemon.start()?;

    println!("{:?}", current_worker().name()); // 'MainThread' or 'MainProcess'
    println!("{}", get_ident()); // thread or process identifier
    println!("{}", active_count()); // number of active workers
    let names: Vec<String> = enumerate().iter().map(|w| w.name().to_owned()).collect();
    println!("{names:?}");
    let children: Vec<String> = active_children()
        .iter()
        .map(|w| w.name().to_owned())
        .collect();
    println!("{children:?}");
    println!("{:?}", get_backend().to_string());
    Ok(())
}
