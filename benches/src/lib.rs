//! A small driver for side-by-side benchmarks: each workload runs against its
//! peer in alternating rounds of one process, so that both see the same noise,
//! and the table reports medians (with min and max) and the ratio of medians.
//!
//! Run with `cargo bench -p freethreading-benches`; under `cargo test --benches`
//! (no `--bench` argument) every workload runs once, small, as a smoke test.
//! [`suite`] is the side-by-side suite's own driver, which `benches/run.sh`
//! joins with the Python library's figures.

use std::time::{Duration, Instant};

pub mod memory;
pub mod suite;

/// About `iters` nanoseconds of arithmetic that the compiler cannot skip.
#[freethreading::worker_fn]
pub fn spin(iters: u64) -> u64 {
    let mut x = std::hint::black_box(iters) | 1;
    for _ in 0..iters {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 29;
    }
    x
}

/// How a benchmark binary was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `cargo bench`: measure.
    Measure,
    /// `cargo test --benches`: run each workload once, to keep it from rotting.
    Smoke,
}

impl Mode {
    /// Reads the mode from the arguments cargo passes (`--bench` when
    /// benchmarking); `--smoke` asks for the smoke test under `cargo bench` too.
    pub fn from_args() -> Mode {
        let args: Vec<String> = std::env::args().collect();
        if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--smoke") {
            Mode::Measure
        } else {
            Mode::Smoke
        }
    }

    /// `full` when measuring, `smoke` otherwise.
    pub fn pick<T>(self, full: T, smoke: T) -> T {
        match self {
            Mode::Measure => full,
            Mode::Smoke => smoke,
        }
    }
}

/// Median, min and max of the samples of one side, per operation.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// The median sample.
    pub median: Duration,
    /// The fastest sample.
    pub min: Duration,
    /// The slowest sample.
    pub max: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort_unstable();
        Stats {
            median: samples[samples.len() / 2],
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }
}

/// One workload measured against its peer.
pub struct Comparison {
    /// What was measured.
    pub workload: String,
    /// Our side.
    pub ours: Stats,
    /// The peer's side.
    pub peer: Stats,
    /// Who the peer is.
    pub peer_name: String,
}

impl Comparison {
    /// Our median over the peer's: below 1 means we are faster.
    pub fn ratio(&self) -> f64 {
        self.ours.median.as_secs_f64() / self.peer.median.as_secs_f64()
    }
}

/// Times `ours` and `peer` in alternating rounds; each call of a closure is one
/// sample and divides its time by `ops` (the operations it performed).
pub fn compare(
    mode: Mode,
    workload: &str,
    peer_name: &str,
    ops: u32,
    mut ours: impl FnMut(),
    mut peer: impl FnMut(),
) -> Comparison {
    let (warmup, rounds) = mode.pick((3, 31), (0, 1));
    for _ in 0..warmup {
        ours();
        peer();
    }
    let mut ours_samples = Vec::with_capacity(rounds);
    let mut peer_samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Alternate who goes first, so neither always runs on a warmer cache.
        let time = |f: &mut dyn FnMut()| {
            let start = Instant::now();
            f();
            start.elapsed() / ops
        };
        if round % 2 == 0 {
            ours_samples.push(time(&mut ours));
            peer_samples.push(time(&mut peer));
        } else {
            peer_samples.push(time(&mut peer));
            ours_samples.push(time(&mut ours));
        }
    }
    let comparison = Comparison {
        workload: workload.to_owned(),
        ours: Stats::of(ours_samples),
        peer: Stats::of(peer_samples),
        peer_name: peer_name.to_owned(),
    };
    print_row(&comparison);
    comparison
}

/// Prints the table's header.
pub fn print_header(title: &str) {
    println!("\n## {title}\n");
    println!("| workload | ours median (min–max) | peer | peer median (min–max) | ours/peer |");
    println!("|---|---|---|---|---|");
}

fn print_row(c: &Comparison) {
    println!(
        "| {} | {} ({}–{}) | {} | {} ({}–{}) | {:.2}x |",
        c.workload,
        show(c.ours.median),
        show(c.ours.min),
        show(c.ours.max),
        c.peer_name,
        show(c.peer.median),
        show(c.peer.min),
        show(c.peer.max),
        c.ratio()
    );
}

/// A duration with a unit that keeps three significant digits.
pub fn show(d: Duration) -> String {
    let nanos = d.as_secs_f64() * 1e9;
    if nanos < 1e3 {
        format!("{nanos:.0} ns")
    } else if nanos < 1e6 {
        format!("{:.1} µs", nanos / 1e3)
    } else if nanos < 1e9 {
        format!("{:.2} ms", nanos / 1e6)
    } else {
        format!("{:.2} s", nanos / 1e9)
    }
}
