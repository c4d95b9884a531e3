use freethreading::{parallel_map, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = parallel_map!(square, 0..10, workers = 4, workers = 2);
}
