use freethreading::{parallel_map, worker_fn};

#[worker_fn]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {
    freethreading::init().unwrap();
    // Two parameters take pairs, not single numbers.
    let _ = parallel_map!(add, vec![1, 2, 3]);
}
