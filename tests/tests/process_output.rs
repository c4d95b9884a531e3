//! What worker processes print, read raw: a test binary's workers print
//! nothing of the test harness, and a worker whose parent hangs up exits
//! without a word. Each test runs [`output_helper`] of this binary as a
//! plain command and reads all it printed, harness lines included (the
//! suite's harness leaves those out of what it relays, so it cannot see them).
//!
//! Linux only: the process backend runs there alone for now.
#![cfg(target_os = "linux")]

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::process::Command;

use freethreading::{BACKEND_ENV_VAR, MAX_MESSAGE_ENV_VAR, Worker, WorkerPool, worker_fn};
use freethreading_tests::process_tests;

/// Names what [`output_helper`] does; unset, it does nothing.
const HELPER_VAR: &str = "FREETHREADING_TEST_OUTPUT_HELPER";

#[worker_fn]
fn shout(x: u64) -> u64 {
    println!("task says {x}");
    x
}

/// Takes `bytes`, and says how many.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn bytes_of_arguments(bytes: Vec<u8>) -> usize {
    bytes.len()
}

/// Returns `len` bytes that no encoding packs into fewer.
#[worker_fn]
fn bytes_of(len: usize) -> Vec<u8> {
    noise(len)
}

fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Runs [`output_helper`] doing `what` on processes, and returns what it
/// wrote on its standard output and error.
fn run_helper(what: &str) -> (String, String) {
    run_helper_with(what, None)
}

/// As [`run_helper`], with [`MAX_MESSAGE_ENV_VAR`] set to `limit`, if any.
fn run_helper_with(what: &str, limit: Option<&str>) -> (String, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    if let Some(limit) = limit {
        command.env(MAX_MESSAGE_ENV_VAR, limit);
    }
    let output = command
        .args([
            "output_helper",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
            // No `test output_helper ... ` for the first line to join.
            "-q",
        ])
        .env(HELPER_VAR, what)
        .env(BACKEND_ENV_VAR, "multiprocessing")
        .output()
        .expect("running the helper");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "the helper failed: {}\n{stdout}\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

process_tests! {
    fn workers_of_a_test_binary_print_their_tasks_lines_and_nothing_of_the_harness() {
        let (stdout, stderr) = run_helper("print");
        for x in [0, 1, 2, 3, 4, 5, 100] {
            assert!(
                stdout.lines().any(|line| line == format!("task says {x}")),
                "no line of task {x} in:\n{stdout}"
            );
        }
        // The helper's own harness says it once; its four workers, never.
        let running = stdout.lines().filter(|line| line.starts_with("running ")).count();
        assert_eq!(running, 1, "harness lines from workers in:\n{stdout}\n{stderr}");
    }

    fn workers_whose_parent_hangs_up_exit_without_a_word() {
        let (stdout, stderr) = run_helper("drop pools");
        assert!(
            !stderr.contains("freethreading worker process"),
            "a worker complained:\n{stderr}\n{stdout}"
        );
    }
}

process_tests! {
    fn a_message_over_the_limit_fails_its_call_and_the_pool_goes_on() {
        run_helper_with("limit", Some("100000"));
    }

    fn a_limit_that_is_no_number_is_said_and_left_alone() {
        let (_, stderr) = run_helper_with("default limit", Some("lots"));
        assert!(
            stderr.contains("FREETHREADING_MAX_MESSAGE=lots is not a number of bytes"),
            "no word of the bad limit in:\n{stderr}"
        );
    }
}

/// Not a test: what the tests above run as a command, named by [`HELPER_VAR`].
#[test]
#[ignore = "run by the tests of this file, as a command whose output they read"]
fn output_helper() {
    match std::env::var(HELPER_VAR).as_deref() {
        Ok("print") => {
            let pool = WorkerPool::new(3).unwrap();
            assert_eq!(pool.map(shout, 0..6).unwrap(), [0, 1, 2, 3, 4, 5]);
            let worker = Worker::new(shout, (100,));
            worker.start().unwrap();
            assert_eq!(worker.join().unwrap(), 100);
        }
        Ok("drop pools") => {
            for _ in 0..50 {
                drop(WorkerPool::new(2).unwrap());
            }
        }
        Ok("limit") => {
            // Run with a limit of 100 000 bytes.
            let pool = WorkerPool::new(1).unwrap();
            assert_eq!(pool.apply(bytes_of, (90_000,)).unwrap().len(), 90_000);
            let error = pool.apply(bytes_of, (200_000,)).unwrap_err();
            let task = error.task_error().expect("a task error");
            assert!(task.is_serialization(), "{task}");
            assert!(task.to_string().contains(MAX_MESSAGE_ENV_VAR), "{task}");
            let error = pool
                .apply(bytes_of_arguments, (noise(200_000),))
                .unwrap_err();
            let task = error.task_error().expect("a task error");
            assert!(task.to_string().contains(MAX_MESSAGE_ENV_VAR), "{task}");
            // Through shared memory (from 256 KiB) the limit holds all the same.
            let error = pool.apply(bytes_of, (1 << 20,)).unwrap_err();
            let task = error.task_error().expect("a task error");
            assert!(task.to_string().contains(MAX_MESSAGE_ENV_VAR), "{task}");
            let error = pool
                .apply(bytes_of_arguments, (noise(1 << 20),))
                .unwrap_err();
            let task = error.task_error().expect("a task error");
            assert!(task.to_string().contains(MAX_MESSAGE_ENV_VAR), "{task}");
            assert_eq!(pool.apply(bytes_of, (10,)).unwrap(), noise(10));
        }
        Ok("default limit") => {
            let pool = WorkerPool::new(1).unwrap();
            assert_eq!(pool.apply(bytes_of, (200_000,)).unwrap().len(), 200_000);
        }
        _ => {}
    }
}
