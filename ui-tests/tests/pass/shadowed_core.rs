// Modules and types named like the ones generated code uses must not confuse it.
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod std {}
mod inventory {}
mod serde {}

struct Option;
struct Result;
struct Clone;
struct Copy;
struct Debug;
struct Deref;
struct Ok;
struct Err;
struct arg0;
struct args;

use freethreading::{Task, worker_fn};

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(square.call((4,)), 16);
}
