//! Queues between workers: Python's `queue.Queue` (as `multiprocessing`'s
//! `JoinableQueue` on processes) and `queue.SimpleQueue`.
//!
//! Each public type wraps a private flavor enum, one variant per backend; the
//! thread flavor lives in [`thread`]. Items are [`TaskValue`](crate::TaskValue)s
//! on every backend, because on processes they are serialized into shared
//! memory; a queue is itself a `TaskValue`, so queues and primitives can travel
//! through queues. On the mpi backend (feature `mpi`) a queue lives on rank 0,
//! holding its items encoded, and a task on a worker rank puts and gets them
//! over MPI.
//!
//! The error design: Python's `Full` and `Empty` exceptions are the
//! [`Full`]/[`Empty`] types and the cases of [`PutError`]/[`GetError`], one
//! error type per direction shared by the blocking, `try_` and `_timeout`
//! variants. The process backend adds its serialization failures as new cases
//! of these `#[non_exhaustive]` enums without changing a signature.

mod error;
mod joinable;
mod process;
mod receive;
mod simple;
pub(crate) mod thread;
pub(crate) mod wait;

pub use error::{Empty, Full, GetError, PutError, TaskDoneError};
pub use joinable::Queue;
pub use simple::SimpleQueue;

#[cfg(test)]
mod tests;

/// Makes the next process-queue `put` (1), `get` (2), segment-allocating
/// `put` (3) or segment-leaving `get` (4) of this process abort half-way,
/// holding the queue's lock: for the death tests.
#[cfg(all(test, process_backend, unix))]
pub(crate) fn process_crash_at(point: u32) {
    process::CRASH_AT.store(point, std::sync::atomic::Ordering::Relaxed);
}
