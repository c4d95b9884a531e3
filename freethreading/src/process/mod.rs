//! The process backend's machinery: a worker is this same binary started
//! again, which recognises itself at start-up and serves jobs sent over a
//! channel it inherited.
//!
//! - [`wire`]: the frames on the channel, the handshake, job and reply headers.
//! - [`spawn`]: the parent's side, starting a worker and reading its hello.
//! - [`child`]: the worker's side, taking over from `main` and serving.
//! - [`reply`]: a worker's answer decoded in the parent.
//! - [`monitors`]: the pooled threads that start and watch worker processes.
//!
//! The runners build on these: `worker/process.rs` (one task, one process)
//! and `runner/process.rs` (the long-lived workers of a pool or executor).

pub(crate) mod child;
pub(crate) mod monitors;
pub(crate) mod reply;
pub(crate) mod spawn;
pub(crate) mod wire;

pub use spawn::TestEntry;
pub(crate) use spawn::is_test_binary;

#[cfg(all(test, process_backend))]
mod tests;
