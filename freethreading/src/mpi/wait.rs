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
//!    [`POLLS_PER_YIELD`] polls (about a microsecond) the waiter reads the
//!    clock, which cost as much as a poll, and yields once: on a host
//!    busy with other work its partner rank may be queued on its core, and
//!    waits there for that yield (without it, a 100 µs phase made each
//!    `apply` cost 160 µs on this loaded machine).
//!
//!    The first [`SPIN_FIRST`] of a wait go without yields, unless a yield
//!    lately found the core shared ([`CORE_SHARED`]). A yield is a system
//!    call, which on this virtual machine cost about as much as the rest of
//!    a hop: with the ranks on cores of their own, an `apply` round trip
//!    took 1.4–2.2 µs (median of each job) yielding from the start, 0.9–1.4
//!    without yields for 3 µs. But where the scheduler keeps both ranks on
//!    one core (it does, now and then, on this 2-core machine, although the
//!    other core is idle), a wait that does not yield keeps the core from
//!    the very rank it waits for: 11 µs per round trip rather than 5. So a
//!    yield that returns only after [`SHARED_YIELD`] (another thread ran
//!    here meanwhile) marks the core shared for [`SHARED_FOR`], during
//!    which waits yield from their start as before.
//! 2. **Polling between yields** until [`YIELDING`]: a rank sharing its
//!    core (more ranks than cores, the CI machine's 5 ranks on 2 cores)
//!    hands it at once to a rank queued there, which may be the one whose
//!    message it waits for. Where ranks outnumber cores, waits start here,
//!    as before this phase 1 existed, so that an oversubscribed host's
//!    ranks spin no more than they did.
//! 3. **Sleeping**, from [`FIRST_SLEEP`] doubling to [`LONGEST_SLEEP`], so
//!    that an idle rank leaves the cores to the ranks that work.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a waiter polls without pause, where cores are to spare.
const POLL_ALONE: Duration = Duration::from_micros(50);
/// Polls between two yields (and readings of the clock) in phase 1. With
/// 32, a hop between two ranks that the scheduler had put on one core of
/// this busy machine took 3.7–3.9 µs, the time of 32 polls (a round trip
/// 8.6–14.3 µs); with 8, 2.6–3.8 µs (6.4–9.3), while ranks on cores of
/// their own still found most messages before the first yield (0.3–0.8 µs
/// a hop).
const POLLS_PER_YIELD: u32 = 8;
/// How long a wait polls before its first yield, where the core is not
/// known to be shared.
const SPIN_FIRST: Duration = Duration::from_micros(3);
/// A yield that returns later than this let another thread run.
const SHARED_YIELD: Duration = Duration::from_micros(2);
/// How long waits yield from their start once a yield let another run.
const SHARED_FOR: Duration = Duration::from_millis(10);
/// When a waiter stops yielding and sleeps: on a virtual machine whose
/// ranks share cores, a shorter phase missed most replies to quick tasks
/// (`benches/mpi.sh`: an `apply` took 560 µs with 50 µs, 13 µs with 1 ms).
const YIELDING: Duration = Duration::from_millis(1);
const FIRST_SLEEP: Duration = Duration::from_micros(20);
const LONGEST_SLEEP: Duration = Duration::from_millis(1);

/// Whether waits start with phase 1 on this rank.
static POLL_FIRST: AtomicBool = AtomicBool::new(false);

/// Until when (nanoseconds after [`epoch`]) this rank's core counts as
/// shared: a yield let another thread run shortly before.
static CORE_SHARED: AtomicU64 = AtomicU64::new(0);

/// The instant [`CORE_SHARED`] counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `at` as nanoseconds after [`epoch`].
fn since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

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
    /// Whether this wait polls [`SPIN_FIRST`] before it yields.
    spin_first: bool,
    sleep: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff {
            started: None,
            polls: 0,
            alone: POLL_FIRST.load(Ordering::Relaxed),
            spin_first: false,
            sleep: FIRST_SLEEP,
        }
    }

    /// Waits before the next poll, as long as this wait's phase says.
    pub(crate) fn pause(&mut self) {
        let started = *self.started.get_or_insert_with(|| {
            let now = Instant::now();
            self.spin_first = self.alone && since_epoch(now) >= CORE_SHARED.load(Ordering::Relaxed);
            now
        });
        if self.alone {
            self.polls += 1;
            if self.polls % POLLS_PER_YIELD != 0 {
                return;
            }
            let now = Instant::now();
            let waited = now - started;
            if self.spin_first && waited < SPIN_FIRST {
                return;
            }
            if waited < POLL_ALONE {
                thread::yield_now();
                if now.elapsed() >= SHARED_YIELD {
                    let until = since_epoch(now + SHARED_FOR);
                    CORE_SHARED.fetch_max(until, Ordering::Relaxed);
                }
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
