use freethreading::worker_fn;

struct Config {
    retries: u32,
}

#[worker_fn]
fn retries(config: Config) -> u32 {
    config.retries
}

fn main() {}
