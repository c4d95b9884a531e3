use freethreading::worker_fn;

#[worker_fn]
const fn double(x: u64) -> u64 {
    2 * x
}

fn main() {}
