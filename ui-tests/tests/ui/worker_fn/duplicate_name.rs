use freethreading::worker_fn;

#[worker_fn(name = "square", name = "sq")]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
