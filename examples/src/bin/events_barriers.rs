//! Usage guide, `Event` and `Barrier`: runners wait for a start signal, then
//! meet at a checkpoint.

use freethreading::{Barrier, Event, SimpleQueue, Worker, current_worker, worker_fn};

#[worker_fn]
fn runner(start_signal: Event, checkpoint: Barrier, ready: SimpleQueue<()>) {
    let name = current_worker().name().to_owned();
    println!("'{name}' waiting for start signal");
    ready.put(()).expect("the ready queue accepts items");
    start_signal.wait(); // all runners wait for the event
    println!("'{name}' started");
    checkpoint.wait().expect("no runner breaks the barrier"); // synchronize at the checkpoint
    println!("'{name}' passed checkpoint");
}

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start_signal = Event::new();
    let checkpoint = Barrier::new(3)?;
    let ready = SimpleQueue::new();
    let workers: Vec<_> = (0..3)
        .map(|i| {
            Worker::new(
                runner,
                (start_signal.clone(), checkpoint.clone(), ready.clone()),
            )
            .with_name(format!("Runner-{i}"))
        })
        .collect();
    for w in &workers {
        w.start()?;
    }
    // The guide's interactive session pauses here; a program waits until
    // every runner has said it is waiting, so the output's order is the guide's.
    for _ in &workers {
        ready.get()?;
    }
    start_signal.set(); // signal all runners to start
    for w in workers {
        w.join()?;
    }
    Ok(())
}
