//! Our process backend against the process peers: procspawn (its `spawn` and
//! its `Pool`) and a bare `std::process::Command` re-spawn of this binary, the
//! floor of starting a worker process. Peers that have no such workload (no
//! procspawn queue or lock) have no row. When this build has no process
//! backend, our rows say so and the peers are measured all the same.

use std::collections::VecDeque;
use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use freethreading::{WorkerPool, WorkerPoolExecutor};
use freethreading_benches::Mode;
use freethreading_benches::suite::{Side, Suite, Unit, Weight};

use crate::memory;
use crate::ours::{self, id, spin, square, why};
use crate::threads::{map_label, serial};
use crate::{FLOOR_ENV_VAR, Sizes, cpu_tasks};

pub(crate) const OURS: &str = "freethreading (processes)";

/// One group's table: our side where this build has the backend, else a row saying why not.
struct Group<'s> {
    suite: &'s Suite,
    unavailable: Option<String>,
}

impl Group<'_> {
    /// Our side, made only where the backend is available.
    fn ours<'a>(&self, make: impl FnOnce() -> Side<'a>) -> Option<Side<'a>> {
        self.unavailable.is_none().then(make)
    }

    fn say_unavailable(&self, key: &str, label: &str, unit: Unit) {
        if let Some(reason) = &self.unavailable {
            self.suite
                .report(key, label, unit, &[(OURS.to_owned(), Err(reason.clone()))]);
        }
    }

    fn time(
        &self,
        key: &str,
        label: &str,
        weight: Weight,
        ops: u32,
        ours: Option<Side<'_>>,
        peers: Vec<Side<'_>>,
    ) {
        self.say_unavailable(key, label, Unit::Seconds);
        let sides: Vec<_> = ours.into_iter().chain(peers).collect();
        if !sides.is_empty() {
            self.suite.time(key, label, weight, ops, sides);
        }
    }
}

pub(crate) fn run(mode: Mode, ours_ok: Result<(), String>) -> Result<(), String> {
    let suite = Suite::new(
        mode,
        "rust-processes",
        "Rust, process backend and process peers",
    );
    if let Err(error) = &ours_ok {
        println!("| {OURS}: unavailable in this build ({error}); the peers run alone | | | |");
    }
    let g = Group {
        suite: &suite,
        unavailable: ours_ok
            .err()
            .map(|_| "unavailable in this build".to_owned()),
    };
    let n = Sizes::of(mode);
    // Our pool and executor exist only where the backend does.
    let (pool, ex) = if g.unavailable.is_none() {
        (
            Some(WorkerPool::new(2).map_err(why)?),
            Some(WorkerPoolExecutor::new(2).map_err(why)?),
        )
    } else {
        (None, None)
    };
    let (pool, ex) = (pool.as_ref(), ex.as_ref());
    let peer_pool = procspawn::Pool::new(2).map_err(why)?;
    let exe = std::env::current_exe().map_err(why)?;

    calls(&g, n, pool, &peer_pool, &exe);
    cpu_and_executor(&g, mode, n, pool, ex, &peer_pool);
    primitives(&g, n);
    if let Some(pool) = pool {
        crate::payloads::run(g.suite, pool)?;
    }

    let times = n.process_pools;
    g.time(
        "pool_create",
        "pool of 2: create + shut down",
        Weight::Light,
        times,
        g.ours(|| ours::pool_create(OURS, 2, times)),
        vec![Side::new("procspawn Pool::new + shutdown", move || {
            for _ in 0..times {
                procspawn::Pool::new(2).map_err(why)?.shutdown();
            }
            Ok(())
        })],
    );

    g.time(
        "pool_create_8",
        "pool of 8: create + shut down",
        Weight::Light,
        times,
        g.ours(|| ours::pool_create(OURS, 8, times)),
        vec![Side::new(
            "8 children of this binary started, then reaped (floor)",
            || {
                for _ in 0..times {
                    let children = (0..8)
                        .map(|_| {
                            Command::new(&exe)
                                .env(FLOOR_ENV_VAR, "1")
                                .stdout(Stdio::null())
                                .spawn()
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(why)?;
                    for mut child in children {
                        let status = child.wait().map_err(why)?;
                        if !status.success() {
                            return Err(format!("a floor child exited with {status}"));
                        }
                    }
                }
                Ok(())
            },
        )],
    );

    peer_pool.shutdown();
    memory::workload(g.suite, g.unavailable.as_deref(), mode);
    Ok(())
}

/// Workloads 1 to 3: start + join, `apply`, `map`.
fn calls(
    g: &Group<'_>,
    n: Sizes,
    pool: Option<&WorkerPool>,
    peer_pool: &procspawn::Pool,
    exe: &Path,
) {
    let spawns = n.process_spawns;
    g.time(
        "start_join",
        "worker start + trivial task + join",
        Weight::Light,
        spawns,
        g.ours(|| ours::start_join(OURS, spawns)),
        vec![
            Side::new("procspawn::spawn + join", move || {
                for _ in 0..spawns {
                    procspawn::spawn((), |()| ()).join().map_err(why)?;
                }
                Ok(())
            }),
            // Timed to the child's first byte, as our `join` returns at the
            // worker's reply; reaping it (as our monitor does, after) is not.
            Side::measured(
                "std::process::Command re-spawn + first byte (floor)",
                || {
                    let mut took = Duration::ZERO;
                    for _ in 0..spawns {
                        let began = Instant::now();
                        let mut child = Command::new(exe)
                            .env(FLOOR_ENV_VAR, "1")
                            .stdout(Stdio::piped())
                            .spawn()
                            .map_err(why)?;
                        let mut byte = [0_u8; 1];
                        let said = child.stdout.take().map(|mut out| out.read_exact(&mut byte));
                        took += began.elapsed();
                        let status = child.wait().map_err(why)?;
                        if !status.success() || !matches!(said, Some(Ok(()))) {
                            return Err(format!("the floor child exited with {status}"));
                        }
                    }
                    Ok(took)
                },
            ),
        ],
    );

    let trips = n.process_round_trips;
    let trips_u32 = u32::try_from(trips).unwrap_or(u32::MAX);
    g.time(
        "apply",
        "apply round trip, warm pool of 2",
        Weight::Light,
        trips_u32,
        pool.map(|p| ours::apply(OURS, p, trips)),
        vec![peer_trips(peer_pool, trips)],
    );

    for (key, items, chunksize, weight) in n.maps() {
        let label = map_label(items, chunksize);
        g.time(
            key,
            &label,
            weight,
            1,
            pool.map(|p| ours::map(OURS, p, items, chunksize)),
            pool.filter(|_| chunksize.is_none())
                .map(|_| ours::parallel_map_range("freethreading parallel_map! (processes)", items))
                .into_iter()
                .chain([procspawn_map(peer_pool, items, chunksize)])
                .collect(),
        );
    }
}

/// Workloads 4 and 5: the CPU-bound map, and the executor.
fn cpu_and_executor(
    g: &Group<'_>,
    mode: Mode,
    n: Sizes,
    pool: Option<&WorkerPool>,
    ex: Option<&WorkerPoolExecutor>,
    peer_pool: &procspawn::Pool,
) {
    let trips = n.process_round_trips;
    let trips_u32 = u32::try_from(trips).unwrap_or(u32::MAX);
    let tasks = cpu_tasks(mode);
    let label = format!(
        "map of {} CPU-bound tasks: speedup over serial",
        tasks.len()
    );
    g.say_unavailable("cpu_speedup", &label, Unit::Speedup);
    let mut sides: Vec<_> = pool
        .map(|p| ours::cpu(OURS, p, &tasks))
        .into_iter()
        .collect();
    sides.push(Side::new("procspawn Pool, one spawn per task", || {
        let handles: Vec<_> = tasks
            .iter()
            .map(|&t| peer_pool.spawn(t, |t: u64| spin(t)))
            .collect();
        for h in handles {
            black_box(h.join().map_err(why)?);
        }
        Ok(())
    }));
    g.suite
        .speedup("cpu_speedup", &label, serial(&tasks), sides);

    g.time(
        "submit",
        "executor submit + result round trip",
        Weight::Light,
        trips_u32,
        ex.map(|e| ours::submit(OURS, e, trips)),
        vec![peer_trips(peer_pool, trips)],
    );
    let items = n.small_map;
    g.time(
        "executor_map",
        &format!("executor map of {items} tiny tasks"),
        Weight::Heavy,
        1,
        ex.map(|e| ours::executor_map(OURS, e, items)),
        vec![procspawn_map(peer_pool, items, Some(1))],
    );
}

/// Workloads 6 to 8 on primitives shared between processes; procspawn has none.
fn primitives(g: &Group<'_>, n: Sizes) {
    let primitive = |key: &str, label: &str, ops: u32, make: &dyn Fn() -> Side<'static>| {
        let ours = g.ours(make);
        g.time(key, label, Weight::Light, ops, ours, Vec::new());
    };
    let items = n.process_queue_items;
    let ops = u32::try_from(items).unwrap_or(u32::MAX);
    for ends in [1, 2] {
        let (key, simple_key) = if ends == 1 {
            ("queue_1", "simple_queue_1")
        } else {
            ("queue_2", "simple_queue_2")
        };
        primitive(
            key,
            &format!("Queue throughput {ends}→{ends}, per item"),
            ops,
            &|| ours::queue(OURS, ends, items),
        );
        primitive(
            simple_key,
            &format!("SimpleQueue throughput {ends}→{ends}, per item"),
            ops,
            &|| ours::simple_queue(OURS, ends, items),
        );
    }
    let times = n.process_lock_ops;
    primitive(
        "lock_uncontended",
        "Lock acquire + release, uncontended",
        times,
        &|| ours::lock_uncontended(OURS, times),
    );
    primitive(
        "lock_contended",
        "Lock acquire + release, 2 workers contending",
        times,
        &|| ours::lock_contended(OURS, times),
    );
    let times = n.process_wakeups;
    primitive(
        "event_ping_pong",
        "Event set → wake → set back, per round trip",
        times,
        &|| ours::event_ping_pong(OURS, times),
    );
    primitive("barrier", "Barrier(2) round trip", times, &|| {
        ours::barrier(OURS, times)
    });
}

/// `times` round trips to procspawn's pool: its `apply` and `submit`.
fn peer_trips(peer_pool: &procspawn::Pool, times: u64) -> Side<'_> {
    Side::new("procspawn Pool::spawn + join (pool of 2)", move || {
        for i in 0..times {
            black_box(peer_pool.spawn(i, |x: u64| id(x)).join().map_err(why)?);
        }
        Ok(())
    })
}

/// Each procspawn spawn holds two IPC channels (four descriptors) until it is
/// joined, so at most this many are outstanding: 10,000 at once run out of them.
const IN_FLIGHT: usize = 64;

/// The largest chunk sent to procspawn's pool: chunks of 125,000 `u64`s
/// (1 MB, a `map` of 1,000,000 items in 8) left it blocked for good in
/// ipc-channel's send, both its workers waiting to receive.
const PROCSPAWN_CHUNK_ITEMS: u64 = 10_000;

/// procspawn has no `map`: its pool gets one spawn per chunk, chunked as
/// Python's `map` does by default (`len / (4 × workers)`, rounded up), or `chunksize`.
fn procspawn_map(pool: &procspawn::Pool, items: u64, chunksize: Option<usize>) -> Side<'_> {
    let name = if chunksize.is_some() {
        "procspawn Pool, one spawn per item, 64 in flight"
    } else {
        "procspawn Pool, one spawn per chunk of len/8"
    };
    Side::new(name, move || {
        let chunk = chunksize.map_or(items.div_ceil(8).max(1), |c| c as u64);
        if chunk > PROCSPAWN_CHUNK_ITEMS {
            return Err(format!(
                "not measured: procspawn's Pool hung sending chunks of {chunk} items \
                 (over {PROCSPAWN_CHUNK_ITEMS}) through ipc-channel"
            ));
        }
        let mut handles = VecDeque::with_capacity(IN_FLIGHT);
        for start in (0..items).step_by(usize::try_from(chunk).unwrap_or(usize::MAX)) {
            if handles.len() == IN_FLIGHT {
                let oldest: procspawn::JoinHandle<Vec<u64>> =
                    handles.pop_front().expect("the window is full");
                black_box(oldest.join().map_err(why)?);
            }
            // The chunk's items themselves, as our map and Python's send them.
            let chunk_items: Vec<u64> = (start..(start + chunk).min(items)).collect();
            handles.push_back(pool.spawn(chunk_items, |chunk: Vec<u64>| {
                chunk.into_iter().map(*square).collect::<Vec<u64>>()
            }));
        }
        for h in handles {
            black_box(h.join().map_err(why)?);
        }
        Ok(())
    })
}
