use freethreading::worker_fn;

#[worker_fn]
fn total(items: &[u64]) -> u64 {
    items.iter().sum()
}

fn main() {}
