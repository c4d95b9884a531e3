//! Usage guide, `Event` and `Barrier`: runners wait for a start signal, then
//! meet at a checkpoint.

use freethreading::{Barrier, Event, Worker, current_worker, worker_fn};

#[worker_fn]
fn runner(start_signal: Event, checkpoint: Barrier) {
    let name = current_worker().name().to_owned();
    println!("'{name}' waiting for start signal");
    start_signal.wait(); // all runners wait for the event
    println!("'{name}' started");
    checkpoint.wait().expect("no runner breaks the barrier"); // synchronize at the checkpoint
    println!("'{name}' passed checkpoint");
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start_signal = Event::new();
    let checkpoint = Barrier::new(3)?;
    let workers: Vec<_> = (0..3)
        .map(|i| {
            Worker::new(runner, (start_signal.clone(), checkpoint.clone()))
                .with_name(format!("Runner-{i}"))
        })
        .collect();
    for w in &workers {
        w.start()?;
    }
    std::thread::sleep(std::time::Duration::from_millis(100)); // let them print their wait
    start_signal.set(); // signal all runners to start
    for w in workers {
        w.join()?;
    }
    Ok(())
}
