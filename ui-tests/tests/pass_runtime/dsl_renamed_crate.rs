// The DSL macros with the runtime under another name (see
// `pass/renamed_crate.rs`), and user items named like those their expansion
// uses.
#![allow(dead_code, non_camel_case_types)]

extern crate freethreading as ft;
extern crate core as freethreading;

mod core {}
struct Result;
struct Ok;
struct Err;
struct WorkerPool;
struct Worker;
struct task;
struct pool;
struct items;
struct worker;
struct error;
struct function;

use ft::{WorkerPoolExecutor, parallel_map, spawn, submit, worker_fn};

#[worker_fn(crate = ::ft)]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn(crate = ::ft)]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {
    let squares = parallel_map!(square, 0..4, crate = ::ft).unwrap();
    assert_eq!(squares, [0, 1, 4, 9]);
    let cubes = parallel_map!(|x: u64| x * x * x, 0..3, workers = 2, crate = ::ft).unwrap();
    assert_eq!(cubes, [0, 1, 8]);
    let sums = parallel_map!(|a: i32, b: i32| a + b, vec![(1, 2)], crate = ft).unwrap();
    assert_eq!(sums, [3]);
    let adder = spawn!(add(2, 3), name = "Adder", crate = ::ft).unwrap();
    assert_eq!(adder.join().unwrap(), 5);
    let executor = WorkerPoolExecutor::new(1).unwrap();
    let future = submit!(executor, add(20, 22), crate = ::ft).unwrap();
    assert_eq!(future.result().unwrap(), 42);
}
