//! A gate that a worker waits at until the test opens it: a file that exists
//! while the gate is closed. A file, unlike a static, is seen by a worker on
//! either backend, and needs none of the crate's own primitives, which the
//! tests of workers should not depend on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use freethreading::worker_fn;

/// A closed gate. Dropping it opens it, so that a failing test does not
/// leave a worker waiting forever.
pub(crate) struct Gate {
    path: PathBuf,
}

impl Gate {
    /// A new gate, closed, under a name no other gate of any process has.
    pub(crate) fn closed() -> Gate {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "freethreading-gate-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, b"closed").expect("creating a gate file");
        Gate { path }
    }

    /// The gate's file, to hand to [`pass_gate`].
    pub(crate) fn path(&self) -> String {
        self.path
            .to_str()
            .expect("a UTF-8 temporary directory")
            .to_owned()
    }

    /// Lets the workers waiting at the gate through.
    pub(crate) fn open(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

/// Waits until the gate whose file is `gate` is open.
pub(crate) fn wait_at(gate: &str) {
    while Path::new(gate).exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `gate` is open, then returns `value`.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // task arguments are owned: they cross to the worker
pub(crate) fn pass_gate(gate: String, value: u64) -> u64 {
    wait_at(&gate);
    value
}
