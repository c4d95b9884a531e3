//! The program's entry point: where the backend is fixed and where a worker
//! process, started from this same binary, will take over from `main`.

use crate::backend::{BackendError, try_get_backend};

/// Prepares the program for workers; call it first thing in `main`.
///
/// It fixes the backend (reporting a bad `FREETHREADING_BACKEND` as an error
/// rather than a panic at first use). On the process backend this is where a
/// worker process, which is this binary started again, takes over and serves
/// its parent's tasks instead of running the rest of `main`, and exits when
/// its parent is done with it: `init()` does not return there.
///
/// So code placed before `init()` runs once more in every worker process.
/// Prefer [`#[freethreading::main]`](crate::main), which puts the call first
/// for you. If `init()` is forgotten, a worker takes over at the first call
/// into the crate instead (creating a pool, say), which still runs the part
/// of `main` before it twice: keep that part free of side effects, or call
/// `init()`. A worker process's standard input is `/dev/null`; its output and
/// errors go where the program's go.
///
/// # Errors
///
/// [`BackendError`] when `FREETHREADING_BACKEND` names no available backend.
///
/// # Examples
///
/// ```
/// fn main() -> Result<(), freethreading::BackendError> {
///     freethreading::init()?;
///     println!("backend: {}", freethreading::get_backend());
///     Ok(())
/// }
/// # main().unwrap();
/// ```
pub fn init() -> Result<(), BackendError> {
    crate::current::claim_main_thread();
    // A worker process takes over in here, and does not return.
    take_over_if_worker();
    try_get_backend().map(drop)
}

/// Where a worker process takes over: in a process that its parent started
/// as a worker, serves the parent's jobs and exits; elsewhere returns at once
/// (after the first call, a plain load).
///
/// This is the one place it happens. It is called by [`init`] (and so by
/// `#[freethreading::main]`), by the entry test of
/// [`test_support!`](crate::test_support), and, for a `main` that forgot
/// `init()`, by what makes a worker or a primitive: `Workers::start` (every
/// pool and executor), `Worker::new`, and `shared::process_flavor` (every
/// primitive's constructor), so that a worker never makes a pool or an arena
/// of its own. Getters (`get_backend`, `current_worker`) never call it.
pub(crate) fn take_over_if_worker() {
    // On the MPI backend, every rank starts MPI here, and ranks 1 and up
    // serve rank 0 instead of returning.
    #[cfg(feature = "mpi")]
    crate::mpi::take_over_if_worker();
    crate::process::child::take_over_if_worker();
}

/// What `#[freethreading::main]` runs before the body of `main`.
pub fn main_prologue() {
    if let Err(error) = init() {
        eprintln!("error: {error}");
        std::process::exit(2);
    }
}

/// What `#[freethreading::main]` runs after the body of `main`: like Python at
/// exit, wait for the workers that are not daemons.
pub fn main_epilogue() {
    crate::current::wait_for_non_daemon_workers();
}

/// Runs [`main_epilogue`] when dropped, so that it runs when `main` panics
/// too, as Python waits for non-daemon threads after an uncaught exception.
#[derive(Debug)]
pub struct MainEpilogue;

impl Drop for MainEpilogue {
    fn drop(&mut self) {
        main_epilogue();
    }
}
