//! Workers at the end of the program: a `#[freethreading::main]` waits for
//! the workers that are not daemons, detached ones included, and not for
//! daemons, as Python does at exit.

// Worker processes of this test binary start here.
freethreading::test_support!();

mod gate;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use freethreading::{Worker, enumerate, worker_fn};

use gate::{Gate, pass_gate};

/// Waits at `gate`, then writes `mark`: a file, seen from any process.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // task arguments are owned: they cross to the worker
fn pass_gate_then_mark(gate: String, mark: String) {
    gate::wait_at(&gate);
    std::fs::write(mark, b"done").expect("writing the mark");
}

/// The paths `main` works with: the plain worker's gate, the daemon's gate,
/// and the mark the plain worker writes. `main` takes no arguments.
static PATHS: Mutex<Option<(String, String, String)>> = Mutex::new(None);

/// A program's `main`, called by the test: `#[freethreading::main]` only
/// asks that the function be named `main`.
mod program {
    use super::*;

    /// Starts a plain worker and a daemon, each waiting at its gate, and
    /// drops both without joining them.
    #[freethreading::main]
    pub(super) fn main() {
        let paths = PATHS.lock().unwrap().clone();
        let (plain, daemon, mark) = paths.expect("the test sets the paths");
        let worker = Worker::new(pass_gate_then_mark, (plain, mark)).with_name("Exit-plain");
        worker.start().expect("starting the plain worker");
        drop(worker);
        let worker = Worker::new(pass_gate, (daemon, 0))
            .with_name("Exit-daemon")
            .with_daemon(true);
        worker.start().expect("starting the daemon");
        drop(worker);
    }
}

/// Removes a file when dropped, even when the test fails.
struct Removed(String);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn listed(name: &str) -> bool {
    enumerate().iter().any(|w| w.name() == name)
}

/// Waits up to a minute for `done`; false if it never came.
fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

freethreading_tests::backend_tests! {
    fn main_waits_for_detached_workers_that_are_not_daemons() {
        let _serial = freethreading_tests::serial();
        let plain = Gate::closed();
        let daemon = Gate::closed();
        let mark = format!("{}.mark", plain.path());
        let _remove_mark = Removed(mark.clone());
        *PATHS.lock().unwrap() = Some((plain.path(), daemon.path(), mark.clone()));

        // Opens the plain worker's gate a while after `main` started it, so
        // that `main` has to wait for it.
        let opener = std::thread::spawn(move || {
            let started = eventually(|| listed("Exit-plain"));
            std::thread::sleep(Duration::from_millis(100));
            drop(plain);
            started
        });
        program::main();
        assert!(Path::new(&mark).exists(), "`main` returned before its plain worker finished");
        assert!(!listed("Exit-plain"));
        assert!(opener.join().unwrap(), "the plain worker was never listed");
        assert!(listed("Exit-daemon"), "`main` does not wait for a daemon");

        daemon.open();
        assert!(eventually(|| !listed("Exit-daemon")), "the daemon never finished");
    }
}
