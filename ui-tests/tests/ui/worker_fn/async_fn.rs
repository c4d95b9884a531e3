use freethreading::worker_fn;

#[worker_fn]
async fn fetch(id: u64) -> u64 {
    id
}

fn main() {}
