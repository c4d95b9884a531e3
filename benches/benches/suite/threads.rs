//! Our thread backend against the thread peers: rayon, `std::thread` (with
//! `std::sync`), and crossbeam-channel, each workload's sides in one table.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::thread;

use freethreading::{WorkerPool, WorkerPoolExecutor};
use freethreading_benches::Mode;
use freethreading_benches::suite::{Side, Suite, Weight};
use rayon::prelude::*;

use crate::ours::{self, id, noop, spin, square, why};
use crate::thread_peers::{Echo, channel_side, std_ping_pong};
use crate::{Sizes, cpu_tasks};

const OURS: &str = "freethreading (threads)";
const PARALLEL_MAP: &str = "freethreading parallel_map! (threads)";

pub(crate) fn run(mode: Mode) -> Result<(), String> {
    let suite = Suite::new(
        mode,
        "rust-threads",
        "Rust, thread backend and thread peers",
    );
    let n = Sizes::of(mode);
    let pool = WorkerPool::new(2).map_err(why)?;
    let ex = WorkerPoolExecutor::new(2).map_err(why)?;
    let rayon_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .map_err(why)?;
    let rayon = &rayon_pool;
    let echo = Echo::start();

    calls(&suite, n, &pool, rayon, &echo);
    cpu_and_executor(&suite, mode, n, &pool, &ex, rayon, &echo);
    queues(&suite, n);
    sync(&suite, n);

    let times = n.pools;
    suite.time(
        "pool_create",
        "pool of 2: create + shut down",
        Weight::Light,
        times,
        vec![
            ours::pool_create(OURS, 2, times),
            Side::new("rayon ThreadPoolBuilder::build + drop", || {
                for _ in 0..times {
                    drop(
                        rayon::ThreadPoolBuilder::new()
                            .num_threads(2)
                            .build()
                            .map_err(why)?,
                    );
                }
                Ok(())
            }),
        ],
    );
    Ok(())
}

/// Workloads 1 to 3: start + join, `apply`, `map`.
fn calls(suite: &Suite, n: Sizes, pool: &WorkerPool, rayon: &rayon::ThreadPool, echo: &Echo) {
    let label = "worker start + trivial task + join";
    suite.time(
        "start_join",
        label,
        Weight::Light,
        n.thread_spawns,
        vec![
            ours::start_join(OURS, n.thread_spawns),
            Side::new("std::thread::spawn + join", || {
                for _ in 0..n.thread_spawns {
                    thread::spawn(*noop).join().map_err(|_| "panicked")?;
                }
                Ok(())
            }),
        ],
    );

    let label = "apply round trip, warm pool of 2";
    suite.time(
        "apply",
        label,
        Weight::Light,
        n.round_trips_u32(),
        vec![
            ours::apply(OURS, pool, n.round_trips),
            Side::new("rayon ThreadPool::install", || {
                for i in 0..n.round_trips {
                    black_box(rayon.install(|| id(i)));
                }
                Ok(())
            }),
            echo.side("crossbeam-channel round trip to a thread", n.round_trips),
        ],
    );

    for (key, items, chunksize, weight) in n.maps() {
        let label = map_label(items, chunksize);
        let mut sides = vec![ours::map(OURS, pool, items, chunksize)];
        if chunksize.is_none() {
            sides.push(ours::parallel_map_range(PARALLEL_MAP, items));
        }
        sides.push(Side::new(rayon_map_name(chunksize), move || {
            let out: Vec<u64> = rayon.install(|| match chunksize {
                None => (0..items).into_par_iter().map(*square).collect(),
                // Only ranges of 32-bit integers or smaller are indexed, as `with_max_len` needs.
                Some(c) => (0..u32::try_from(items).unwrap_or(u32::MAX))
                    .into_par_iter()
                    .with_max_len(c)
                    .map(|x| square(u64::from(x)))
                    .collect(),
            });
            black_box(out);
            Ok(())
        }));
        suite.time(key, &label, weight, 1, sides);
    }
}

/// Workloads 4 and 5: the CPU-bound map, and the executor.
fn cpu_and_executor(
    suite: &Suite,
    mode: Mode,
    n: Sizes,
    pool: &WorkerPool,
    ex: &WorkerPoolExecutor,
    rayon: &rayon::ThreadPool,
    echo: &Echo,
) {
    let tasks = cpu_tasks(mode);
    let label = format!(
        "map of {} CPU-bound tasks: speedup over serial",
        tasks.len()
    );
    suite.speedup(
        "cpu_speedup",
        &label,
        serial(&tasks),
        vec![
            ours::cpu(OURS, pool, &tasks),
            Side::new("rayon par_iter (pool of 2)", || {
                let out: Vec<u64> =
                    rayon.install(|| tasks.par_iter().with_max_len(1).map(|&t| spin(t)).collect());
                black_box(out);
                Ok(())
            }),
        ],
    );

    suite.time(
        "submit",
        "executor submit + result round trip",
        Weight::Light,
        n.round_trips_u32(),
        vec![
            ours::submit(OURS, ex, n.round_trips),
            echo.side("crossbeam-channel round trip to a thread", n.round_trips),
        ],
    );
    let label = format!("executor map of {} tiny tasks", n.small_map);
    suite.time(
        "executor_map",
        &label,
        Weight::Light,
        1,
        vec![
            ours::executor_map(OURS, ex, n.small_map),
            Side::new("rayon par_iter (pool of 2)", || {
                let out: Vec<u64> =
                    rayon.install(|| (0..n.small_map).into_par_iter().map(*square).collect());
                black_box(out);
                Ok(())
            }),
        ],
    );
}

/// Workload 6: queues.
fn queues(suite: &Suite, n: Sizes) {
    for ends in [1, 2] {
        let items = n.queue_items;
        let ops = u32::try_from(items).unwrap_or(u32::MAX);
        let (key, simple_key) = if ends == 1 {
            ("queue_1", "simple_queue_1")
        } else {
            ("queue_2", "simple_queue_2")
        };
        suite.time(
            key,
            &format!("Queue throughput {ends}→{ends}, per item"),
            Weight::Light,
            ops,
            vec![ours::queue(OURS, ends, items), channel_side(ends, items)],
        );
        suite.time(
            simple_key,
            &format!("SimpleQueue throughput {ends}→{ends}, per item"),
            Weight::Light,
            ops,
            vec![
                ours::simple_queue(OURS, ends, items),
                channel_side(ends, items),
            ],
        );
    }
}

/// Workloads 7 and 8: locks, events, barriers.
fn sync(suite: &Suite, n: Sizes) {
    let times = n.lock_ops;
    let std_lock = Mutex::new(());
    suite.time(
        "lock_uncontended",
        "Lock acquire + release, uncontended",
        Weight::Light,
        times,
        vec![
            ours::lock_uncontended(OURS, times),
            Side::new("std::sync::Mutex", || {
                for _ in 0..times {
                    drop(black_box(std_lock.lock()));
                }
                Ok(())
            }),
        ],
    );
    suite.time(
        "lock_contended",
        "Lock acquire + release, 2 workers contending",
        Weight::Light,
        times,
        vec![
            ours::lock_contended(OURS, times),
            Side::new("std::sync::Mutex, 2 std threads", || {
                let lock = Arc::new(Mutex::new(()));
                let hammer = || {
                    let lock = Arc::clone(&lock);
                    thread::spawn(move || (0..times / 2).for_each(|_| drop(black_box(lock.lock()))))
                };
                let (a, b) = (hammer(), hammer());
                a.join().and(b.join()).map_err(|_| "panicked".to_owned())
            }),
        ],
    );

    let times = n.wakeups;
    suite.time(
        "event_ping_pong",
        "Event set → wake → set back, per round trip",
        Weight::Light,
        times,
        vec![
            ours::event_ping_pong(OURS, times),
            Side::new("std Mutex<bool> + Condvar pair", || std_ping_pong(times)),
        ],
    );
    suite.time(
        "barrier",
        "Barrier(2) round trip",
        Weight::Light,
        times,
        vec![
            ours::barrier(OURS, times),
            Side::new("std::sync::Barrier", || {
                let b = Arc::new(std::sync::Barrier::new(2));
                let other = Arc::clone(&b);
                let t = thread::spawn(move || {
                    for _ in 0..times {
                        black_box(other.wait());
                    }
                });
                (0..times).for_each(|_| {
                    black_box(b.wait());
                });
                t.join().map_err(|_| "panicked".to_owned())
            }),
        ],
    );
}

pub(crate) fn map_label(items: u64, chunksize: Option<usize>) -> String {
    match chunksize {
        None => format!("map of {items} tiny tasks, default chunking"),
        Some(c) => format!("map of {items} tiny tasks, chunksize = {c}"),
    }
}

fn rayon_map_name(chunksize: Option<usize>) -> &'static str {
    match chunksize {
        None => "rayon par_iter().map().collect()",
        Some(_) => "rayon par_iter().with_max_len(1)",
    }
}

/// The serial loop that the CPU-bound workload's speedups are relative to.
pub(crate) fn serial(tasks: &[u64]) -> Side<'_> {
    Side::new("serial loop (this thread)", move || {
        black_box(tasks.iter().map(|&t| spin(t)).collect::<Vec<_>>());
        Ok(())
    })
}
