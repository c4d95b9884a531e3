//! The harness of the conformance suite: one test body, run on every backend.
//!
//! [`backend_tests!`] turns each body into one `#[test]` per backend, named
//! `<body>::threading`, `<body>::multiprocessing`. A program runs on one
//! backend, fixed at first use, so [`run_on`] runs the body in this process
//! when its backend is the one asked for, and otherwise runs this one test in
//! a fresh copy of the test binary with `FREETHREADING_BACKEND` set.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

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

            // One line per backend. The process backend joins this list when it lands.
            $(#[$meta])*
            #[test]
            fn threading() {
                $crate::run_on($crate::Backend::Threading, module_path!(), body);
            }
        }
    )*};
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
    // `module_path!()` starts with the crate's name, which test names leave out.
    let test = module.split_once("::").map_or(module, |(_, rest)| rest);
    let test = format!("{test}::{backend}");
    let status = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(freethreading::BACKEND_ENV_VAR, backend.as_str())
        .status()
        .expect("running the test binary again");
    assert!(
        status.success(),
        "`{test}` failed on the {backend} backend: {status}"
    );
}

/// Serializes the tests that count live workers, which other tests would disturb.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}
