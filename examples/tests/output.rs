//! Every example prints what the Python library's README and usage guide show.
//!
//! Workers run in parallel, so lines from different workers may come in any
//! order: each example's output is compared as a sorted list of lines, with
//! the order checked separately where the guide's order is guaranteed.

use std::process::Command;

fn run(binary: &str) -> Vec<String> {
    let output = Command::new(binary).output().expect("the example runs");
    assert!(
        output.status.success(),
        "{binary} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn lines(expected: &[&str]) -> Vec<String> {
    sorted(expected.iter().map(|l| (*l).to_owned()).collect())
}

const PRIMES: &str = "Found 11 primes: [10007, 10009, 10037, 10039, 10061, 10067, 10069, 10079, 10091, 10093, 10099]";

#[test]
fn primes_with_the_executor() {
    let out = run(env!("CARGO_BIN_EXE_primes"));
    assert_eq!(out[0], PRIMES);
}

#[test]
fn primes_with_workers_and_queues() {
    assert_eq!(run(env!("CARGO_BIN_EXE_primes_queue")), [PRIMES]);
}

#[test]
fn pool_and_executor_map() {
    assert_eq!(run(env!("CARGO_BIN_EXE_pool")), ["[0, 1, 4, 9, 16]"]);
    assert_eq!(run(env!("CARGO_BIN_EXE_executor")), ["[0, 1, 4, 9, 16]"]);
}

#[test]
fn worker_and_daemon_greet() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_worker")),
        ["Hello from 'Worker'", "Hello from 'Daemon'"]
    );
}

#[test]
fn queue_producer_and_consumer() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_queue")),
        ["Processing 0", "Processing 1", "Processing 2"]
    );
}

#[test]
fn simple_queue() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_simple_queue")),
        ["\"hello\"", "\"world\"", "true"]
    );
}

#[test]
fn locks_and_recursive_countdowns() {
    let out = run(env!("CARGO_BIN_EXE_locks"));
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

#[test]
fn semaphores_and_conditions() {
    let out = run(env!("CARGO_BIN_EXE_semaphores_conditions"));
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

#[test]
fn bounded_semaphore_refuses_an_extra_release() {
    assert_eq!(
        run(env!("CARGO_BIN_EXE_bounded_semaphore")),
        ["Error: semaphore released too many times"]
    );
}

#[test]
fn events_and_barriers() {
    let out = run(env!("CARGO_BIN_EXE_events_barriers"));
    let phase =
        |verb: &str| -> Vec<String> { (0..3).map(|i| format!("'Runner-{i}' {verb}")).collect() };
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

#[test]
fn utility_functions() {
    let out = run(env!("CARGO_BIN_EXE_utilities"));
    assert_eq!(out[0], "\"MainThread\"");
    assert!(out[1].parse::<u64>().is_ok(), "an identifier: {}", out[1]);
    assert_eq!(
        out[2..],
        [
            "2",
            "[\"MainThread\", \"Daemon\"]",
            "[\"Daemon\"]",
            "\"threading\""
        ]
    );
}

#[test]
fn readme_quick_start() {
    let out = run(env!("CARGO_BIN_EXE_hello"));
    assert_eq!(out[..4], ["true", "\"data\"", "0", "1"]);
    assert_eq!(
        out[4..7],
        ["true", "\"MainThread\"", "Hello from MyWorker!"]
    );
    assert_eq!(out[7], "[0, 1, 4, 9, 16]");
    assert!(
        out[8].starts_with("Hello from WorkerPoolExecutor-"),
        "{}",
        out[8]
    );
}
