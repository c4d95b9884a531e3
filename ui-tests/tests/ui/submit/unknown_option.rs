use freethreading::{submit, worker_fn};

#[worker_fn]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {
    let _ = submit!((), add(2, 3), timeout = 5);
}
