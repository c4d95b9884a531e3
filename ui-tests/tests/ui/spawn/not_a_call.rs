use freethreading::{spawn, worker_fn};

#[worker_fn]
fn greet() {}

fn main() {
    let _ = spawn!(greet);
    let _ = spawn!(|| println!("hello"));
    let _ = spawn!(greet().clone());
}
