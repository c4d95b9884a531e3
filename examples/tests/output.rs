//! Every example prints what the Python library's README and usage guide show,
//! on both backends: each test body runs once per backend, with the example
//! started under `FREETHREADING_BACKEND`.
//!
//! Workers run in parallel, so lines from different workers may come in any
//! order: each example's output is compared as a sorted list of lines, with
//! the order checked separately where the guide's order is guaranteed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long an example may run before it counts as hung.
const PATIENCE: Duration = Duration::from_secs(120);

/// Declares test bodies that take the backend's name, one test per backend.
/// With the feature `mpi`, a third test per body runs the example under
/// `mpirun` (`.ci/mpi`); `#[mpi_unsupported = "why"]` before a body marks
/// an example the mpi backend cannot run yet: its mpi test is ignored, with
/// the reason.
macro_rules! example_tests {
    ($( $(#[mpi_unsupported = $why:literal])? fn $name:ident($backend:ident: &str) $body:block )*) => {$(
        mod $name {
            use super::*;

            fn body($backend: &str) $body

            #[test]
            fn threading() {
                body("threading");
            }

            #[test]
            fn multiprocessing() {
                body("multiprocessing");
            }

            #[cfg(feature = "mpi")]
            #[test]
            $(#[ignore = $why])?
            fn mpi() {
                body("mpi");
            }
        }
    )*};
}

/// How many ranks an example runs on under MPI: rank 0 and four workers,
/// the most any example's pool asks for.
const MPI_RANKS: &str = "5";

fn run(binary: &str, backend: &str) -> Vec<String> {
    let mut command = if backend == "mpi" {
        let mut mpirun =
            Command::new(std::env::var("MPIRUN").unwrap_or_else(|_| "mpirun".to_owned()));
        mpirun.args([
            "-n",
            MPI_RANKS,
            "--oversubscribe",
            "--bind-to",
            "none",
            binary,
        ]);
        mpirun
    } else {
        Command::new(binary)
    };
    let mut child = command
        .env("FREETHREADING_BACKEND", backend)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("UTF-8 output");
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{binary} hung on the {backend} backend: killed after {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().expect("stdout read");
    let stderr = stderr.join().expect("stderr read");
    assert!(
        status.success(),
        "{binary} failed on the {backend} backend: {status}\n{stderr}"
    );
    stdout.lines().map(str::to_owned).collect()
}

/// What `current_worker().name()` is in `main`: Python's names.
fn main_name(backend: &str) -> &'static str {
    if backend == "multiprocessing" || backend == "mpi" {
        "\"MainProcess\""
    } else {
        "\"MainThread\""
    }
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn lines(expected: &[&str]) -> Vec<String> {
    sorted(expected.iter().map(|l| (*l).to_owned()).collect())
}

const PRIMES: &str = "Found 11 primes: [10007, 10009, 10037, 10039, 10061, 10067, 10069, 10079, 10091, 10093, 10099]";

example_tests! {
    fn primes_with_the_executor(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_primes"), backend);
        assert_eq!(out[0], PRIMES);
    }

    fn primes_with_workers_and_queues(backend: &str) {
        assert_eq!(run(env!("CARGO_BIN_EXE_primes_queue"), backend), [PRIMES]);
    }

    fn pool_and_executor_map(backend: &str) {
        assert_eq!(run(env!("CARGO_BIN_EXE_pool"), backend), ["[0, 1, 4, 9, 16]"]);
        assert_eq!(run(env!("CARGO_BIN_EXE_executor"), backend), ["[0, 1, 4, 9, 16]"]);
    }

    fn worker_and_daemon_greet(backend: &str) {
        assert_eq!(
            run(env!("CARGO_BIN_EXE_worker"), backend),
            ["Hello from 'Worker'", "Hello from 'Daemon'"]
        );
    }

    fn queue_producer_and_consumer(backend: &str) {
        assert_eq!(
            run(env!("CARGO_BIN_EXE_queue"), backend),
            ["Processing 0", "Processing 1", "Processing 2"]
        );
    }

    fn simple_queue(backend: &str) {
        assert_eq!(
            run(env!("CARGO_BIN_EXE_simple_queue"), backend),
            ["\"hello\"", "\"world\"", "true"]
        );
    }

    fn locks_and_recursive_countdowns(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_locks"), backend);
        if backend == "mpi" {
            // Lines of different ranks come in any order (mpirun forwards
            // each rank's output on its own): each worker's own, in order.
            for name in ["'Worker-0'", "'Worker-1'"] {
                let mine: Vec<&String> = out.iter().filter(|l| l.starts_with(name)).collect();
                let expected: Vec<String> = ["acquired the lock", "3...", "2...", "1...", "go!"]
                    .iter()
                    .enumerate()
                    .map(|(i, step)| {
                        if i == 0 {
                            format!("{name} {step}")
                        } else {
                            format!("{name}: {step}")
                        }
                    })
                    .collect();
                assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "{out:?}");
            }
            assert_eq!(out.len(), 10, "{out:?}");
            return;
        }
        assert_eq!(
            sorted(out[..2].to_vec()),
            lines(&[
                "'Worker-0' acquired the lock",
                "'Worker-1' acquired the lock"
            ])
        );
        // Each countdown holds the RLock throughout, so its four lines stay together.
        for run in out[2..].chunks(4) {
            let name = run[0].split(':').next().expect("a name");
            let expected: Vec<String> = ["3...", "2...", "1...", "go!"]
                .iter()
                .map(|step| format!("{name}: {step}"))
                .collect();
            assert_eq!(run, expected);
        }
        assert_eq!(out.len(), 10);
    }

    fn semaphores_and_conditions(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_semaphores_conditions"), backend);
        if backend == "mpi" {
            // mpirun forwards each rank's output on its own: lines of
            // different ranks come in any order, whatever order they were
            // printed in.
            assert_eq!(
                sorted(out),
                lines(&[
                    "'Worker-0' in restricted section",
                    "'Worker-1' in restricted section",
                    "'Worker-2' in restricted section",
                    "'Producer' sent: 42",
                    "'Consumer' received: 42",
                ])
            );
            return;
        }
        assert_eq!(
            sorted(out[..3].to_vec()),
            lines(&[
                "'Worker-0' in restricted section",
                "'Worker-1' in restricted section",
                "'Worker-2' in restricted section",
            ])
        );
        assert_eq!(out[3..], ["'Producer' sent: 42", "'Consumer' received: 42"]);
    }

    fn bounded_semaphore_refuses_an_extra_release(backend: &str) {
        assert_eq!(
            run(env!("CARGO_BIN_EXE_bounded_semaphore"), backend),
            ["Error: semaphore released too many times"]
        );
    }

    fn events_and_barriers(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_events_barriers"), backend);
        let phase =
            |verb: &str| -> Vec<String> { (0..3).map(|i| format!("'Runner-{i}' {verb}")).collect() };
        if backend == "mpi" {
            // Lines of different ranks come in any order (mpirun forwards
            // each rank's output on its own): each runner's own, in order.
            for i in 0..3 {
                let mine: Vec<&String> =
                    out.iter().filter(|l| l.starts_with(&format!("'Runner-{i}'"))).collect();
                let expected = [
                    format!("'Runner-{i}' waiting for start signal"),
                    format!("'Runner-{i}' started"),
                    format!("'Runner-{i}' passed checkpoint"),
                ];
                assert_eq!(mine, expected.iter().collect::<Vec<_>>(), "{out:?}");
            }
            assert_eq!(out.len(), 9, "{out:?}");
            return;
        }
        assert_eq!(sorted(out[..3].to_vec()), phase("waiting for start signal"));
        assert_eq!(
            sorted(out.clone()),
            sorted(
                [
                    phase("waiting for start signal"),
                    phase("started"),
                    phase("passed checkpoint")
                ]
                .concat()
            )
        );
        // Nobody passes the checkpoint before every runner has started.
        let last_start = out
            .iter()
            .rposition(|l| l.ends_with("started"))
            .expect("starts");
        let first_pass = out
            .iter()
            .position(|l| l.ends_with("checkpoint"))
            .expect("passes");
        assert!(last_start < first_pass, "{out:?}");
    }

    fn utility_functions(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_utilities"), backend);
        assert_eq!(out[0], main_name(backend));
        assert!(out[1].parse::<u64>().is_ok(), "an identifier: {}", out[1]);
        assert_eq!(
            out[2..],
            [
                "2",
                &format!("[{}, \"Daemon\"]", main_name(backend)),
                "[\"Daemon\"]",
                &format!("\"{backend}\""),
            ]
        );
    }

    fn readme_quick_start(backend: &str) {
        let out = run(env!("CARGO_BIN_EXE_hello"), backend);
        assert_eq!(out[..4], ["true", "\"data\"", "0", "1"]);
        // `get_ident() > 0`: on MPI the ident is the rank, 0 on rank 0.
        let positive = if backend == "mpi" { "false" } else { "true" };
        assert_eq!(
            out[4..7],
            [positive, main_name(backend), "Hello from MyWorker!"]
        );
        assert_eq!(out[7], "[0, 1, 4, 9, 16]");
        assert!(
            out[8].starts_with("Hello from WorkerPoolExecutor-"),
            "{}",
            out[8]
        );
    }
}
