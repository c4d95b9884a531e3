use freethreading::{spawn, worker_fn};

#[worker_fn]
fn greet() {}

fn main() {
    let _ = spawn!(greet(), daemonic = true);
}
