use freethreading::worker_fn;

#[worker_fn]
fn greeting() -> &'static str {
    "hello"
}

fn main() {}
