// With the runtime renamed, generated code needs `crate = ...` to find it.
extern crate freethreading as ft;
extern crate core as freethreading;

#[ft::worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
