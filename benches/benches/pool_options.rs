//! What the pool options beyond Python cost (issue 14), each against its
//! floor in alternating rounds of one process (`freethreading_benches::compare`):
//!
//! - a per-task deadline that fires (`apply_timeout` of 1 ms on a task that
//!   would run for seconds: its worker process is killed and replaced)
//!   against a worker replacement (a task that runs 1 ms, then aborts its
//!   worker), each followed by a call that needs the replacement;
//! - `max_tasks_per_worker(1000)` on a map of 1e5 tiny tasks against the
//!   same map with no limit, one task per job (`chunksize = 1`, so the
//!   quota replaces workers 100 times) and with the default chunking.
//!
//! ```text
//! cargo bench -p freethreading-benches --bench pool_options
//! ```

use std::hint::black_box;
use std::time::Duration;

use freethreading::{Backend, WorkerPool, worker_fn};
use freethreading_benches::{Mode, compare, print_header};

#[worker_fn]
fn nap(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

/// Runs `millis`, then kills its worker: a replacement after a task of the
/// same length as the deadline's.
#[worker_fn]
fn nap_then_abort(millis: u64) {
    std::thread::sleep(Duration::from_millis(millis));
    std::process::abort();
}

#[worker_fn]
fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

fn main() {
    // A process worker is this binary started again and takes over here.
    if let Err(error) = freethreading::init() {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
    let mode = Mode::from_args();
    if !Backend::Multiprocessing.is_available() {
        println!("the process backend is not available in this build: nothing to measure");
        return;
    }
    let processes = || {
        WorkerPool::builder()
            .workers(1)
            .backend(Backend::Multiprocessing)
            .build()
            .expect("a process pool")
    };
    print_header("Pool options on processes (issue 14)");

    let deadline_pool = processes();
    let dying_pool = processes();
    compare(
        mode,
        "deadline fires: apply_timeout(1 ms) on a long task, then apply",
        "worker dies: apply(1 ms, then abort), then apply",
        1,
        || {
            let late = deadline_pool.apply_timeout(nap, (10_000,), Duration::from_millis(1));
            assert!(late.is_err());
            black_box(
                deadline_pool
                    .apply(square, (3,))
                    .expect("the replacement answers"),
            );
        },
        || {
            assert!(dying_pool.apply(nap_then_abort, (1,)).is_err());
            black_box(
                dying_pool
                    .apply(square, (3,))
                    .expect("the replacement answers"),
            );
        },
    );

    let items: Vec<u64> = (0..mode.pick(100_000, 2_000)).collect();
    let quota = mode.pick(1_000, 100);
    let pool_of_two = |limit: Option<usize>| {
        let builder = WorkerPool::builder()
            .workers(2)
            .backend(Backend::Multiprocessing);
        match limit {
            Some(quota) => builder.max_tasks_per_worker(quota),
            None => builder,
        }
        .build()
        .expect("a process pool")
    };
    let limited = pool_of_two(Some(quota));
    let unlimited = pool_of_two(None);
    for chunksize in [Some(1), None] {
        let run = |pool: &WorkerPool| {
            black_box(match chunksize {
                Some(size) => pool.map_chunked(square, items.iter().copied(), size),
                None => pool.map(square, items.iter().copied()),
            })
            .expect("the map");
        };
        let label = match chunksize {
            Some(size) => format!(
                "map of {} tiny tasks, chunksize {size}, max_tasks_per_worker({quota})",
                items.len()
            ),
            None => format!(
                "map of {} tiny tasks, default chunks, max_tasks_per_worker({quota})",
                items.len()
            ),
        };
        compare(
            mode,
            &label,
            "no limit",
            1,
            || run(&limited),
            || run(&unlimited),
        );
    }
    let stats = limited.stats();
    println!(
        "\nthe limited pool replaced {} workers ({} jobs)",
        stats.workers_retired, stats.jobs_finished
    );
}
