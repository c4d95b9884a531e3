//! The harness of the conformance suite: one test body, run on every backend.
//!
//! [`backend_tests!`] turns each body into one `#[test]` per backend, named
//! `<body>::threading`, `<body>::multiprocessing`. A program runs on one
//! backend, fixed at first use, so [`run_on`] runs the body in this process
//! when its backend is the one asked for, and otherwise runs this one test in
//! a fresh copy of the test binary with `FREETHREADING_BACKEND` set.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub use freethreading::Backend;

/// Declares test bodies that run once per backend this build offers.
///
/// ```ignore
/// freethreading_tests::backend_tests! {
///     fn event_starts_unset() {
///         assert!(!freethreading::Event::new().is_set());
///     }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* fn $name:ident() $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body() $body

            // One test per backend.
            $(#[$meta])*
            #[test]
            fn threading() {
                $crate::run_on($crate::Backend::Threading, module_path!(), body);
            }

            $(#[$meta])*
            #[test]
            fn multiprocessing() {
                $crate::run_on($crate::Backend::Multiprocessing, module_path!(), body);
            }

            // With the feature `mpi`, a third: ignored in a plain run, since
            // it needs a whole MPI job; `.ci/mpi` runs it under `mpirun`.
            #[cfg(feature = "mpi")]
            $(#[$meta])*
            #[test]
            #[ignore = "the mpi backend's twin: run by .ci/mpi under mpirun"]
            fn mpi() {
                $crate::run_on_mpi(module_path!(), body);
            }
        }
    )*};
}

/// Declares test bodies that only the process backend can run: a worker
/// that crashes, exits or is killed takes the whole program with it on
/// threads. Each becomes one test, `<body>::multiprocessing`, run alone in
/// a fresh copy of the test binary (see [`run_alone`]).
#[macro_export]
macro_rules! process_tests {
    ($( $(#[$meta:meta])* fn $name:ident() $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body() $body

            $(#[$meta])*
            #[test]
            fn multiprocessing() {
                $crate::run_alone($crate::Backend::Multiprocessing, module_path!(), body);
            }
        }
    )*};
}

/// Set in a copy of the test binary that [`run_alone`] started.
const ALONE_VAR: &str = "FREETHREADING_TESTS_ALONE";

/// Runs `body` on `backend` in a fresh copy of the test binary, where no
/// other test runs beside it, whatever backend this process runs: the
/// failure tests count the workers, zombies and descriptors of their
/// process and kill its workers, which tests running beside them would
/// disturb (and be disturbed by).
///
/// # Panics
///
/// When the body panics, or the child running it fails.
pub fn run_alone(backend: Backend, module: &str, body: fn()) {
    if std::env::var_os(ALONE_VAR).is_some() && freethreading::get_backend() == backend {
        body();
        return;
    }
    run_in_child(backend, module);
}

/// Runs `body` on `backend`: here if this process runs it, else in a child.
///
/// `module` is the `module_path!()` of the test, whose last segment names it.
///
/// # Panics
///
/// When the body panics, or the child running it fails.
pub fn run_on(backend: Backend, module: &str, body: fn()) {
    if freethreading::get_backend() == backend {
        body();
        return;
    }
    run_in_child(backend, module);
}

/// Runs `body` on the MPI backend: here on rank 0 of an MPI job that runs
/// this binary (as `.ci/mpi` starts it), else in a job of its own started
/// with `mpirun` (`MPIRUN`, default `mpirun`; `FREETHREADING_TESTS_MPI_RANKS`
/// ranks, default 3: rank 0 and two workers).
///
/// # Panics
///
/// When the body panics, or the job running it fails.
pub fn run_on_mpi(module: &str, body: fn()) {
    if freethreading::get_backend() == Backend::Mpi {
        // A worker rank started on this test takes over here.
        freethreading::__private::serve_if_worker();
        body();
        return;
    }
    let test = module.split_once("::").map_or(module, |(_, rest)| rest);
    let test = format!("{test}::mpi");
    let exe = std::env::current_exe().expect("the test binary's path");
    let ranks = std::env::var("FREETHREADING_TESTS_MPI_RANKS").unwrap_or_else(|_| "3".to_owned());
    let workers = ranks
        .parse::<u32>()
        .map_or(2, |n| n.saturating_sub(1))
        .to_string();
    let mpirun = std::env::var("MPIRUN").unwrap_or_else(|_| "mpirun".to_owned());
    // Rank 0 runs the test; the others start on the worker entry point
    // (`test_support!`), where they take over at once.
    let mut command = Command::new(&mpirun);
    command
        .args(["-n", "1", "--oversubscribe", "--bind-to", "none"])
        .arg(&exe)
        .args([test.as_str(), "--exact", "--ignored", "--nocapture"])
        .args([":", "-n", workers.as_str()])
        .arg(&exe)
        .args(["freethreading_worker_entry", "--exact", "--ignored", "-q"])
        .env(freethreading::BACKEND_ENV_VAR, "mpi")
        .stdout(Stdio::null());
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("running `{mpirun}` for `{test}`: {e}"));
    assert!(
        status.success(),
        "`{test}` failed on the mpi backend: {status}"
    );
}

/// Runs the test of `module` on `backend` in a fresh copy of the test binary.
fn run_in_child(backend: Backend, module: &str) {
    // `module_path!()` starts with the crate's name, which test names leave out.
    let test = module.split_once("::").map_or(module, |(_, rest)| rest);
    let test = format!("{test}::{backend}");
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(freethreading::BACKEND_ENV_VAR, backend.as_str())
        .env(ALONE_VAR, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the test binary again");
    // The child's output (its workers' too) is this test's output, captured
    // with it; the child's own harness lines are left out, so that only this
    // test counts.
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (relayed, relay_done) = std::sync::mpsc::channel();
    let own_line = format!("test {test} ... ");
    let relayed_too = relayed.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let harness = line.starts_with("running ")
                || line.starts_with("test result: ")
                || line.starts_with(&own_line);
            if !harness {
                println!("{line}");
            }
        }
        let _ = relayed.send(());
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
        }
        let _ = relayed_too.send(());
    });
    // A test that hangs fails, rather than holding up the whole suite.
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the test binary") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{test}` hung on the {backend} backend: killed after {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // A straggling worker may hold a pipe open a little longer.
    for _ in 0..2 {
        let _ = relay_done.recv_timeout(Duration::from_secs(5));
    }
    assert!(
        status.success(),
        "`{test}` failed on the {backend} backend: {status}"
    );
}

/// How long one test may run on another backend before it counts as hung.
const PATIENCE: Duration = Duration::from_secs(120);

/// Serializes the tests that count live workers, which other tests would disturb.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

// The repository's README: its quick start runs as a doctest, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// Runs a future to completion on this thread: enough of an executor to await
/// an `AsyncResult` or a `TaskFuture` in a test.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
