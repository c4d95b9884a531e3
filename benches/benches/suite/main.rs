//! The side-by-side suite (issue 5): every workload on our backend and on its
//! Rust peers, in alternating rounds of one process.
//!
//! `FREETHREADING_BACKEND` picks the group: `threading` measures our thread
//! backend against rayon, `std::thread` and crossbeam-channel;
//! `multiprocessing` measures our process backend against procspawn and a bare
//! `std::process::Command` re-spawn (where this build has no process backend,
//! its rows say so and the peers run alone). Unset, the binary runs the thread
//! group and then itself again for the process group, so one `cargo bench
//! --bench suite` (or one smoke run under `cargo test --benches`) covers both.
//! `benches/run.sh` adds the Python library and prints the joined table.

// The process group: its peer procspawn, its memory figures (`/proc`) and
// its socket floor are Unix's. On Windows the process backend's own
// benchmark is `benches/benches/windows.rs`.
#[cfg(unix)]
mod memory;
mod ours;
#[cfg(unix)]
mod payloads;
#[cfg(unix)]
mod processes;
mod thread_peers;
mod threads;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use freethreading::BACKEND_ENV_VAR;
use freethreading_benches::Mode;
use freethreading_benches::suite::Weight;

use crate::ours::{spin, why};

/// Set for the `std::process::Command` floor: the child exits at the top of `main`.
pub(crate) const FLOOR_ENV_VAR: &str = "FT_BENCH_FLOOR";

fn main() {
    // A process worker is this binary started again and takes over here, so
    // this comes first. Its error (a backend this build lacks) is the process
    // group's to report, after the peers that need no backend of ours.
    let ours = freethreading::init();
    // procspawn's children take over here; procspawn knows them by its own
    // environment variable, which ours never sets.
    #[cfg(unix)]
    procspawn::init();
    if std::env::var_os(FLOOR_ENV_VAR).is_some() {
        // The floor's answer, which its parent times (an error is a parent
        // that did not ask for one).
        let _ = std::io::Write::write_all(&mut std::io::stdout(), b"!");
        return;
    }
    #[cfg(unix)]
    if std::env::var_os(payloads::SOCKET_FLOOR_ENV_VAR).is_some() {
        payloads::socket_floor_child();
        return;
    }
    let mode = Mode::from_args();
    let backend = std::env::var(BACKEND_ENV_VAR).unwrap_or_default();
    let result = match backend.as_str() {
        "" => threads::run(mode).and_then(|()| run_process_group()),
        "threading" => threads::run(mode),
        #[cfg(unix)]
        "multiprocessing" => processes::run(mode, ours.map_err(why)),
        #[cfg(not(unix))]
        "multiprocessing" => {
            drop(ours);
            println!("the process group runs on Unix only; see benches/benches/windows.rs");
            Ok(())
        }
        other => Err(format!("unknown {BACKEND_ENV_VAR} `{other}`")),
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// Runs this binary again, with its arguments, on the process backend.
fn run_process_group() -> Result<(), String> {
    let status = Command::new(std::env::current_exe().map_err(why)?)
        .args(std::env::args_os().skip(1))
        .env(BACKEND_ENV_VAR, "multiprocessing")
        .status()
        .map_err(why)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the process group exited with {status}"))
    }
}

/// How much work each workload does per sample.
#[derive(Clone, Copy)]
#[cfg_attr(
    not(unix),
    allow(dead_code, reason = "the process group's sizes, Unix's")
)]
pub(crate) struct Sizes {
    pub(crate) thread_spawns: u32,
    pub(crate) process_spawns: u32,
    pub(crate) round_trips: u64,
    pub(crate) process_round_trips: u64,
    pub(crate) small_map: u64,
    pub(crate) big_map: u64,
    pub(crate) queue_items: u64,
    pub(crate) process_queue_items: u64,
    pub(crate) lock_ops: u32,
    pub(crate) process_lock_ops: u32,
    pub(crate) wakeups: u32,
    pub(crate) process_wakeups: u32,
    pub(crate) pools: u32,
    pub(crate) process_pools: u32,
}

impl Sizes {
    pub(crate) fn of(mode: Mode) -> Sizes {
        let full = Sizes {
            thread_spawns: 200,
            process_spawns: 20,
            round_trips: 2_000,
            process_round_trips: 200,
            small_map: 10_000,
            big_map: 1_000_000,
            queue_items: 100_000,
            process_queue_items: 200_000,
            lock_ops: 100_000,
            process_lock_ops: 20_000,
            wakeups: 2_000,
            process_wakeups: 1_000,
            pools: 20,
            process_pools: 3,
        };
        let smoke = Sizes {
            thread_spawns: 2,
            process_spawns: 1,
            round_trips: 2,
            process_round_trips: 2,
            small_map: 100,
            big_map: 1_000,
            queue_items: 100,
            process_queue_items: 100,
            lock_ops: 10,
            process_lock_ops: 10,
            wakeups: 5,
            process_wakeups: 5,
            pools: 1,
            process_pools: 1,
        };
        mode.pick(full, smoke)
    }

    pub(crate) fn round_trips_u32(self) -> u32 {
        u32::try_from(self.round_trips).unwrap_or(u32::MAX)
    }

    /// Workload 3: key, items, chunksize (`None`: the default), weight.
    pub(crate) fn maps(self) -> [(&'static str, u64, Option<usize>, Weight); 3] {
        [
            ("map_10k", self.small_map, None, Weight::Light),
            ("map_1m", self.big_map, None, Weight::Light),
            (
                "map_10k_chunksize_1",
                self.small_map,
                Some(1),
                Weight::Heavy,
            ),
        ]
    }
}

/// Workload 4: 16 tasks (8 per worker of 2) of `spin`, about 2 s in all when
/// run serially on this machine (2 ms when smoke-testing).
pub(crate) fn cpu_tasks(mode: Mode) -> Vec<u64> {
    let total = mode.pick(Duration::from_secs(2), Duration::from_millis(2));
    let probe: u32 = 1_000_000;
    let per_probe = (0..3)
        .map(|_| {
            let start = Instant::now();
            black_box(spin(u64::from(probe)));
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::from_millis(1));
    let tasks: u32 = 16;
    let iters = total.as_secs_f64() / f64::from(tasks) / per_probe.as_secs_f64() * f64::from(probe);
    // Truncation is fine: the count is only a size, checked to be at least 1.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive size"
    )]
    let iters = (iters as u64).max(1);
    vec![iters; tasks as usize]
}
