// A task's name is a constant: a `let` of the same name in its scope is a
// pattern matching that constant, not a new variable.
use freethreading::worker_fn;

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let square = 5;
}
