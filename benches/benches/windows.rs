//! The process backend against the bare floors it is built on, the targets
//! of issue 11 (Windows, measured under Wine, so as ratios only):
//!
//! 1. `Worker` start + join against a bare `std::process::Command`
//!    re-spawn of this same binary, which answers one byte and exits at the
//!    top of `main`; both timed from the call until the child is reaped;
//! 2. `WorkerPool::apply` round trip (pool of 1) against a bare round trip
//!    of 8 bytes through the standard pipes of a child of this binary that
//!    echoes them;
//! 3. under Wine, the Windows API calls of N uncontended `Lock` acquire +
//!    release pairs in a process that holds the arena, against an empty
//!    loop of N (and, as a control, N `yield_now` calls): `benches/windows.sh`
//!    runs this binary with `FT_BENCH_WINDOWS_LOOP=lock:100000` and
//!    `WINEDEBUG=+relay`, which makes Wine log every call into its DLLs
//!    (every system call goes through one), and counts the calls the
//!    loop's thread made inside the loop.
//!
//! Rows 1 and 2 run anywhere the process backend does (on Linux too):
//! `bash benches/windows.sh` runs all three under Wine.

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use freethreading::{Backend, Lock, Worker, WorkerPool, worker_fn};
use freethreading_benches::{Mode, compare, print_header};

/// Set for a child that answers one byte and exits at the top of `main`.
const FLOOR_VAR: &str = "FT_BENCH_WINDOWS_FLOOR";
/// Set for a child that echoes 8-byte messages on its standard pipes.
const ECHO_VAR: &str = "FT_BENCH_WINDOWS_ECHO";
/// Set for a child that runs `lock:N` or `empty:N` and exits.
const LOOP_VAR: &str = "FT_BENCH_WINDOWS_LOOP";

#[worker_fn]
fn noop() {}

#[worker_fn]
fn id(x: u64) -> u64 {
    x
}

fn main() {
    // Every process of this binary runs the process backend; a worker
    // process takes over in `init`.
    freethreading::set_backend(Backend::Multiprocessing).expect("the process backend");
    freethreading::init().expect("the process backend");
    if std::env::var_os(FLOOR_VAR).is_some() {
        let _ = std::io::stdout().write_all(b"!");
        return;
    }
    if std::env::var_os(ECHO_VAR).is_some() {
        echo();
        return;
    }
    if let Some(job) = std::env::var_os(LOOP_VAR) {
        run_loop(&job.to_string_lossy());
        return;
    }
    let mode = Mode::from_args();
    print_header("process backend against its bare floors (issue 11)");
    let exe = std::env::current_exe().expect("this binary's path");

    let spawns = mode.pick(3, 1);
    compare(
        mode,
        "Worker start + join",
        "Command re-spawn of this binary, 1 byte read, reaped",
        spawns,
        || {
            for _ in 0..spawns {
                let worker = Worker::new(noop, ());
                worker.start().expect("a worker starts");
                worker.join().expect("a worker ends");
            }
        },
        || {
            for _ in 0..spawns {
                let mut child = Command::new(&exe)
                    .env(FLOOR_VAR, "1")
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("the floor starts");
                let mut byte = [0];
                child
                    .stdout
                    .take()
                    .expect("piped")
                    .read_exact(&mut byte)
                    .expect("its byte");
                assert!(child.wait().expect("reaped").success());
            }
        },
    );

    let trips = mode.pick(2_000, 2);
    let pool = WorkerPool::new(1).expect("a pool");
    assert_eq!(pool.apply(id, (1,)).expect("warm"), 1);
    let mut echo = Echo::start(&exe);
    compare(
        mode,
        "WorkerPool::apply round trip (pool of 1)",
        "8 bytes to a child's stdin and back from its stdout",
        u32::try_from(trips).expect("few trips"),
        || {
            for i in 0..trips {
                black_box(pool.apply(id, (i,)).expect("a round trip"));
            }
        },
        || {
            for i in 0..trips {
                black_box(echo.round_trip(i));
            }
        },
    );
    drop(echo);
    drop(pool);
    // Row 3 needs this binary's Wine log, which goes to Wine's own standard
    // error, out of a Windows parent's reach: `benches/windows.sh` counts it.
}

/// A child of this binary echoing 8-byte messages.
struct Echo {
    child: Child,
    to: ChildStdin,
    from: ChildStdout,
}

impl Echo {
    fn start(exe: &std::path::Path) -> Echo {
        let mut child = Command::new(exe)
            .env(ECHO_VAR, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the echo starts");
        let to = child.stdin.take().expect("piped");
        let from = child.stdout.take().expect("piped");
        Echo { child, to, from }
    }

    fn round_trip(&mut self, value: u64) -> u64 {
        self.to.write_all(&value.to_le_bytes()).expect("sent");
        let mut answer = [0; 8];
        self.from.read_exact(&mut answer).expect("echoed");
        u64::from_le_bytes(answer)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The echo child's loop: 8 bytes in, the same 8 out, until its input ends.
fn echo() {
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let mut message = [0; 8];
    while input.read_exact(&mut message).is_ok() {
        if output
            .write_all(&message)
            .and_then(|()| output.flush())
            .is_err()
        {
            break;
        }
    }
}

/// `lock:N`: N uncontended acquire + release pairs of a process `Lock` (in
/// the arena), after one that is not counted (a process's first use of the
/// arena may set things up); `empty:N`: N turns of an empty loop;
/// `yield:N`: N calls of `std::thread::yield_now` (a system call each: the
/// control that shows a call per turn is seen). The loop is marked in
/// Wine's relay log by the look-ups of two environment variables, which
/// `benches/windows.sh` finds.
fn run_loop(job: &str) {
    let (what, n) = job.split_once(':').expect("what:N");
    let n: u64 = n.parse().expect("a count");
    let lock = Lock::new();
    lock.acquire();
    lock.release().expect("held");
    black_box(std::env::var_os("FT_BENCH_WINDOWS_LOOP_BEGIN"));
    match what {
        "lock" => {
            for _ in 0..n {
                lock.acquire();
                lock.release().expect("held");
            }
        }
        "empty" => {
            for i in 0..n {
                black_box(i);
            }
        }
        "yield" => {
            for _ in 0..n {
                std::thread::yield_now();
            }
        }
        other => panic!("unknown loop {other}"),
    }
    black_box(std::env::var_os("FT_BENCH_WINDOWS_LOOP_END"));
}
