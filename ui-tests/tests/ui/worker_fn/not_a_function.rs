use freethreading::worker_fn;

#[worker_fn]
struct Square {
    side: u64,
}

fn main() {}
