//! Synchronization primitives that work the same between threads and
//! between processes: Python's `Lock`, `RLock`, `Semaphore`,
//! `BoundedSemaphore`, `Condition`, `Event` and `Barrier`.
//!
//! Each is a handle: clones share one primitive, and a clone passed to a
//! worker (as a task argument, or captured before spawning a thread) is the
//! same primitive there. Python's `with` blocks become RAII guards
//! ([`Lock::lock`], [`Semaphore::access`], [`Condition::lock`]); explicit
//! `acquire`/`release` stay for the cases Python code needs them, such as a
//! lock released by another worker. Misuse (releasing a lock nobody holds,
//! waiting on a condition without its lock, over-releasing a bounded
//! semaphore) is an error value, never a panic.
//!
//! Timeouts are `_timeout` variants taking a [`Duration`](std::time::Duration);
//! the plain variants wait as long as it takes.
//!
//! On the mpi backend (feature `mpi`) each primitive lives on rank 0, where
//! using it costs what it costs on threads; a task on a worker rank reaches
//! it over MPI, one round trip per operation, with the same semantics (an
//! `RLock` belongs to the thread and worker that took it).

mod barrier;
mod condition;
pub(crate) mod condition_lock;
mod error;
mod event;
mod lock;
mod process;
mod rlock;
mod semaphore;
pub(crate) mod thread;

#[cfg(test)]
mod tests;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use error::{BarrierError, BrokenBarrier, ConditionError, OwnerDied, ReleaseError};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
