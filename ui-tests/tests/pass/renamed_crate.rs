// The runtime under another name. Generated code must then go through
// `crate = ...`: the name `freethreading` is taken by `core` here, so a path
// left pointing at `::freethreading` fails to compile.
extern crate freethreading as ft;
extern crate core as freethreading;

use ft::{Task, worker_fn};

#[worker_fn(crate = ::ft)]
fn square(x: u64) -> u64 {
    x * x
}

#[ft::worker_fn(crate = ft, name = "renamed::cube")]
fn cube(x: u64) -> u64 {
    x * x * x
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(square.call((4,)), 16);
    assert_eq!(cube.name(), "renamed::cube");
    assert!(ft::lookup_task("renamed::cube").is_ok());
}
