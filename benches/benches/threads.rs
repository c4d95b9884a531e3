//! The thread backend against its peers: `parallel_map!` (which takes
//! `WorkerPool::map_range` for a range) and `WorkerPool::map` against rayon's
//! `par_iter().map().collect()`, and `Worker` start + join against
//! `std::thread::spawn` + `join`.

use std::hint::black_box;

use freethreading::{Worker, WorkerPool, parallel_map, worker_fn};
use freethreading_benches::{Mode, compare, print_header};
use rayon::prelude::*;

#[worker_fn]
fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[worker_fn]
fn noop() {}

fn main() {
    freethreading::set_backend(freethreading::Backend::Threading).expect("threads are available");
    let mode = Mode::from_args();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    print_header(&format!("thread backend, {cores} cores"));

    let n: u64 = mode.pick(1_000_000, 1_000);
    let map_workload = format!("parallel_map! of {n} tiny items");
    compare(
        mode,
        &map_workload,
        "rayon par_iter",
        1,
        || {
            let out = parallel_map!(square, 0..n).expect("no task panics");
            black_box(out);
        },
        || {
            let out: Vec<u64> = (0..n).into_par_iter().map(*square).collect();
            black_box(out);
        },
    );

    let pool = WorkerPool::new(cores).expect("a pool of the available cores");
    compare(
        mode,
        &format!("WorkerPool::map of {n} tiny items ({cores} workers)"),
        "rayon par_iter",
        1,
        || {
            black_box(pool.map(square, 0..n).expect("no task panics"));
        },
        || {
            let out: Vec<u64> = (0..n).into_par_iter().map(*square).collect();
            black_box(out);
        },
    );

    compare(
        mode,
        &format!("WorkerPool::map_range of {n} tiny items ({cores} workers)"),
        "rayon par_iter",
        1,
        || {
            black_box(pool.map_range(square, 0..n).expect("no task panics"));
        },
        || {
            let out: Vec<u64> = (0..n).into_par_iter().map(*square).collect();
            black_box(out);
        },
    );

    let spawns = mode.pick(200, 2);
    compare(
        mode,
        "Worker start + join",
        "thread::spawn + join",
        spawns,
        || {
            for _ in 0..spawns {
                let worker = Worker::new(noop, ());
                worker.start().expect("a thread starts");
                worker.join().expect("noop returns");
            }
        },
        || {
            for _ in 0..spawns {
                std::thread::spawn(*noop).join().expect("noop returns");
            }
        },
    );
}
