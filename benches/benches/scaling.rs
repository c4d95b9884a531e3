//! How the pools scale past two cores: a CPU-bound map and a map of tiny tasks
//! on pools of 1, 2, 4, … workers, each against rayon with as many threads, in
//! alternating rounds of one process.
//!
//! `FREETHREADING_BACKEND` picks our backend; unset, the binary measures
//! threads and then runs itself again for processes. Pool sizes stop at the
//! machine's cores, or at `FT_SCALING_MAX_WORKERS`. Under `cargo test
//! --benches` every row runs once, small, as a smoke test.
//!
//! ```text
//! cargo bench -p freethreading-benches --bench scaling
//! ```

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use freethreading::{BACKEND_ENV_VAR, WorkerPool, worker_fn};
use freethreading_benches::{Mode, spin};
use rayon::prelude::*;

/// Caps the pool sizes measured (default: the machine's cores).
const MAX_WORKERS_ENV_VAR: &str = "FT_SCALING_MAX_WORKERS";

#[worker_fn]
fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

fn main() {
    // A process worker is this binary started again and takes over here.
    let ours = freethreading::init();
    let mode = Mode::from_args();
    let result = match std::env::var(BACKEND_ENV_VAR).unwrap_or_default().as_str() {
        "" => run(mode).and_then(|()| run_again_on_processes()),
        _ => ours.map_err(|e| e.to_string()).and_then(|()| run(mode)),
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn run_again_on_processes() -> Result<(), String> {
    let status = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(std::env::args_os().skip(1))
        .env(BACKEND_ENV_VAR, "multiprocessing")
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the process run exited with {status}"))
    }
}

/// The pool sizes to measure: powers of two up to the cap, and the cap itself.
fn pool_sizes() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let cap = std::env::var(MAX_WORKERS_ENV_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cores)
        .max(1);
    let mut sizes: Vec<usize> = std::iter::successors(Some(1_usize), |n| n.checked_mul(2))
        .take_while(|&n| n < cap)
        .collect();
    sizes.push(cap);
    sizes
}

fn run(mode: Mode) -> Result<(), String> {
    let backend = freethreading::get_backend();
    let sizes = pool_sizes();
    let max = *sizes.last().unwrap_or(&1);
    // Enough CPU-bound tasks (1-2 ms each) that the biggest pool gets 16 each.
    let cpu_tasks = vec![mode.pick(1_000_000, 10_000); max * 16];
    let tiny_items: Vec<u64> = (0..mode.pick(1_000_000, 1_000)).collect();
    let rounds = mode.pick(9, 1);

    let serial = median(rounds, || {
        black_box(cpu_tasks.iter().map(|&t| spin(t)).collect::<Vec<_>>());
    });
    println!(
        "\n## {backend:?}: {} CPU-bound tasks of {:.2?} each (serial {serial:.2?}); map of {} tiny items",
        cpu_tasks.len(),
        serial / u32::try_from(cpu_tasks.len()).unwrap_or(u32::MAX),
        tiny_items.len()
    );
    println!(
        "| workers | ours: CPU-bound speedup | rayon: CPU-bound speedup | ours: tiny items/s | rayon: tiny items/s |"
    );
    println!("|---|---|---|---|---|");
    for &workers in &sizes {
        let pool = WorkerPool::new(workers).map_err(|e| e.to_string())?;
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build()
            .map_err(|e| e.to_string())?;
        let (ours_cpu, rayon_cpu) = alternate(
            rounds,
            || {
                black_box(
                    pool.map_chunked(spin, cpu_tasks.iter().copied(), 1)
                        .unwrap(),
                );
            },
            || {
                let out: Vec<u64> = threads.install(|| {
                    cpu_tasks
                        .par_iter()
                        .with_max_len(1)
                        .map(|&t| spin(t))
                        .collect()
                });
                black_box(out);
            },
        );
        let (ours_tiny, rayon_tiny) = alternate(
            rounds,
            || {
                black_box(pool.map(square, tiny_items.iter().copied()).unwrap());
            },
            || {
                let out: Vec<u64> =
                    threads.install(|| tiny_items.par_iter().map(|&x| square(x)).collect());
                black_box(out);
            },
        );
        let per_second = |d: Duration| {
            // Exact: a million fits in the mantissa.
            #[allow(clippy::cast_precision_loss)]
            let items = tiny_items.len() as f64;
            items / d.as_secs_f64()
        };
        println!(
            "| {workers} | {:.2}x | {:.2}x | {:.1} M | {:.1} M |",
            serial.as_secs_f64() / ours_cpu.as_secs_f64(),
            serial.as_secs_f64() / rayon_cpu.as_secs_f64(),
            per_second(ours_tiny) / 1e6,
            per_second(rayon_tiny) / 1e6,
        );
        pool.close();
        pool.join().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The median of `rounds` timed calls, after one warm-up call.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The medians of `a` and `b`, timed in alternating rounds (who goes first
/// alternates too), so both see the same noise.
fn alternate(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    a();
    b();
    let (mut sa, mut sb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    for round in 0..rounds {
        if round % 2 == 0 {
            sa.push(time(&mut a));
            sb.push(time(&mut b));
        } else {
            sb.push(time(&mut b));
            sa.push(time(&mut a));
        }
    }
    sa.sort_unstable();
    sb.sort_unstable();
    (sa[rounds / 2], sb[rounds / 2])
}
