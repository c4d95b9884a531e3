use freethreading::worker_fn;

#[worker_fn(timeout = 5)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
