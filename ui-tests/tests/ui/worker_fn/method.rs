use freethreading::worker_fn;

struct Counter {
    count: u64,
}

impl Counter {
    #[worker_fn]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
