//! How a waiter of the MPI backend polls ([`Backoff`]): every wait (a
//! reply on rank 0, an order on a worker rank, a send to complete) is a
//! loop of non-blocking MPI calls, since no call may block while it holds
//! the lock that serializes them (`comm.rs`).
//!
//! Three phases, each entered when the one before has run its course:
//!
//! 1. **Polling alone**, back to back, for [`POLL_ALONE`], but only where
//!    this host has a core for each of its ranks ([`decide`]). A bare
//!    `MPI_Recv` polls this way, and a quick task's reply arrives within
//!    it: waking up between polls costs more than the whole round trip
//!    (`benches/mpi.sh`: with a few spin-loop hints between polls, about
//!    0.6 µs per hop went to the hints alone on this machine). Once every
//!    [`POLLS_PER_CLOCK`] polls (a few microseconds) the waiter reads the
//!    clock, which cost as much as a poll, and yields once: on a host
//!    busy with other work its partner rank may be queued on its core, and
//!    waits there for that yield (without it, a 100 µs phase made each
//!    `apply` cost 160 µs on this loaded machine).
//! 2. **Polling between yields** until [`YIELDING`]: a rank sharing its
//!    core (more ranks than cores, the CI machine's 5 ranks on 2 cores)
//!    hands it at once to a rank queued there, which may be the one whose
//!    message it waits for. Where ranks outnumber cores, waits start here,
//!    as before this phase 1 existed, so that an oversubscribed host's
//!    ranks spin no more than they did.
//! 3. **Sleeping**, from [`FIRST_SLEEP`] doubling to [`LONGEST_SLEEP`], so
//!    that an idle rank leaves the cores to the ranks that work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a waiter polls without pause, where cores are to spare.
const POLL_ALONE: Duration = Duration::from_micros(50);
/// Polls between two readings of the clock in phase 1.
const POLLS_PER_CLOCK: u32 = 32;
/// When a waiter stops yielding and sleeps: on a virtual machine whose
/// ranks share cores, a shorter phase missed most replies to quick tasks
/// (`benches/mpi.sh`: an `apply` took 560 µs with 50 µs, 13 µs with 1 ms).
const YIELDING: Duration = Duration::from_millis(1);
const FIRST_SLEEP: Duration = Duration::from_micros(20);
const LONGEST_SLEEP: Duration = Duration::from_millis(1);

/// Whether waits start with phase 1 on this rank.
static POLL_FIRST: AtomicBool = AtomicBool::new(false);

/// Decides, once MPI has started, whether waits may poll alone: only where
/// this host runs no more ranks than it has cores (as Open MPI's own
/// `mpi_yield_when_idle` is set for an oversubscribed host).
pub(super) fn decide(ranks_on_this_host: usize) {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    POLL_FIRST.store(ranks_on_this_host <= cores, Ordering::Relaxed);
}

/// The pauses of one wait: call [`pause`](Backoff::pause) after each poll
/// that found nothing.
pub(crate) struct Backoff {
    /// Set at the first pause: a wait answered at its first poll never
    /// reads the clock.
    started: Option<Instant>,
    polls: u32,
    alone: bool,
    sleep: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff {
            started: None,
            polls: 0,
            alone: POLL_FIRST.load(Ordering::Relaxed),
            sleep: FIRST_SLEEP,
        }
    }

    /// Waits before the next poll, as long as this wait's phase says.
    pub(crate) fn pause(&mut self) {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.alone {
            self.polls += 1;
            if self.polls % POLLS_PER_CLOCK != 0 {
                return;
            }
            if started.elapsed() < POLL_ALONE {
                thread::yield_now();
                return;
            }
            self.alone = false;
        }
        if started.elapsed() < YIELDING {
            thread::yield_now();
        } else {
            thread::sleep(self.sleep);
            self.sleep = (self.sleep * 2).min(LONGEST_SLEEP);
        }
    }
}
