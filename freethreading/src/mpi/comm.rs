//! Every direct MPI call of the crate, and nothing else.
//!
//! Threading level: `MPI_THREAD_SERIALIZED`. Any thread of rank 0 may talk
//! to MPI (a pool's drivers, a caller doing a round trip itself, a
//! `Worker`'s monitor), but never two at once: each call takes [`CALLS`]
//! for that one call and no longer, and no call blocks while holding it.
//! A send is an immediate send tested until done; a receive is a matched
//! probe (`MPI_Improbe`), which takes a message out of the queue for this
//! caller alone, then its receive (`MPI_Mrecv`) of a message already there.
//! Waiting is polling with a backoff ([`Backoff`], `wait.rs`): polls back to
//! back for a moment where the host has a core per rank, then between
//! yields, then sleeps growing to a millisecond, so that idle ranks leave
//! the cores to the ranks that work. Serialized
//! calls suit every MPI library and cost one uncontended lock per call; the
//! crate never needs two calls to run at once, since none of them waits.
//!
//! Rank 0 finalizes MPI as the program exits (an `atexit` handler, so that a
//! `main` that returns, a `process::exit` and a test harness's end all do it),
//! after telling every worker rank to stop; a worker rank finalizes when it
//! is told to stop.

use std::ffi::c_int;
use std::io;
use std::sync::OnceLock;
use std::thread;
use std::time::Instant;

use mpi::environment::{Threading, Universe};
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Destination, MatchedReceiveVec, Source};
use parking_lot::Mutex;

pub(crate) use super::wait::Backoff;

/// A process's rank in the MPI job.
pub(crate) type Rank = i32;
/// An MPI message tag.
pub(crate) type Tag = i32;

/// Who this process is in the MPI job.
pub(crate) struct World {
    pub(crate) rank: Rank,
    pub(crate) size: Rank,
    /// The processor (host) name MPI gives this rank.
    pub(crate) host: String,
    /// Every rank's host, by rank: gathered once at start, so that rank 0
    /// knows where a worker runs before the worker answers anything.
    pub(crate) hosts: Vec<String>,
}

/// The longest host name kept (MPI's `MPI_MAX_PROCESSOR_NAME` is 256 in
/// Open MPI and MPICH).
const HOST_BYTES: usize = 256;

/// MPI's state, behind the lock every call takes.
struct State {
    /// The universe this crate initialized, dropped to finalize MPI; `None`
    /// when the program initialized MPI itself, and owns its finalization.
    universe: Option<Universe>,
    finalized: bool,
}

static CALLS: Mutex<State> = Mutex::new(State {
    universe: None,
    finalized: false,
});

static WORLD: OnceLock<Result<World, String>> = OnceLock::new();

/// Initializes MPI once (a no-op afterwards), and says who this process is.
pub(crate) fn world() -> io::Result<&'static World> {
    WORLD
        .get_or_init(start)
        .as_ref()
        .map_err(|why| io::Error::other(why.clone()))
}

fn start() -> Result<World, String> {
    let mut state = CALLS.lock();
    match mpi::initialize_with_threading(Threading::Serialized) {
        Some((universe, provided)) => {
            if provided == Threading::Single || provided == Threading::Funneled {
                return Err(format!(
                    "the MPI library offers threads at level {provided:?}; the `mpi` backend \
                     needs MPI_THREAD_SERIALIZED"
                ));
            }
            state.universe = Some(universe);
        }
        // The program initialized MPI itself; it finalizes it too.
        None if mpi::is_initialized() && !mpi::is_finalized() => {
            let provided = mpi::environment::threading_support();
            if provided == Threading::Single || provided == Threading::Funneled {
                return Err(format!(
                    "MPI was initialized by the program at level {provided:?}; the `mpi` \
                     backend needs MPI_THREAD_SERIALIZED"
                ));
            }
        }
        None => return Err("MPI was finalized before the `mpi` backend started".to_owned()),
    }
    let comm = SimpleCommunicator::world();
    let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".to_owned());
    // Collective: every rank starts here once (rank 0 at its first use of
    // the crate, the others as they take over).
    let mut mine = [0_u8; HOST_BYTES];
    let len = host.len().min(HOST_BYTES);
    mine[..len].copy_from_slice(&host.as_bytes()[..len]);
    let size = comm.size();
    let mut all = vec![0_u8; HOST_BYTES * usize::try_from(size).unwrap_or(0)];
    comm.all_gather_into(&mine[..], &mut all[..]);
    let hosts = all
        .chunks(HOST_BYTES)
        .map(|name| {
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            String::from_utf8_lossy(&name[..end]).into_owned()
        })
        .collect::<Vec<String>>();
    super::wait::decide(hosts.iter().filter(|name| **name == host).count());
    Ok(World {
        rank: comm.rank(),
        size,
        host,
        hosts,
    })
}

fn finalized() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "MPI was finalized: the program is exiting",
    )
}

/// Sends `bytes` to `to` with `tag`; returns once the buffer may be reused.
pub(crate) fn send(to: Rank, tag: Tag, bytes: &[u8]) -> io::Result<()> {
    if c_int::try_from(bytes.len()).is_err() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a message of {} bytes is over MPI's 2 GiB limit",
                bytes.len()
            ),
        ));
    }
    mpi::request::scope(|scope| {
        let mut request = {
            let state = CALLS.lock();
            if state.finalized {
                return Err(finalized());
            }
            let request = SimpleCommunicator::world()
                .process_at_rank(to)
                .immediate_send_with_tag(scope, bytes, tag);
            // A small message is usually sent at once: tested under the
            // same lock, it costs no second turn.
            match request.test() {
                Ok(_) => return Ok(()),
                Err(pending) => pending,
            }
        };
        let mut backoff = Backoff::new();
        loop {
            let state = CALLS.lock();
            if state.finalized {
                // The program is exiting (MPI is finalized only then) with
                // this send unfinished, whose buffer MPI may still read:
                // this thread waits for the exit rather than return.
                drop(state);
                loop {
                    thread::park();
                }
            }
            match request.test() {
                Ok(_) => return Ok(()),
                Err(pending) => request = pending,
            }
            drop(state);
            backoff.pause();
        }
    })
}

/// The next message from `from` with `tag`, if one has arrived.
pub(crate) fn try_receive(from: Rank, tag: Tag) -> io::Result<Option<Vec<u8>>> {
    let state = CALLS.lock();
    if state.finalized {
        return Err(finalized());
    }
    let comm = SimpleCommunicator::world();
    let Some(probed) = comm
        .process_at_rank(from)
        .immediate_matched_probe_with_tag(tag)
    else {
        return Ok(None);
    };
    let (bytes, _status) = probed.matched_receive_vec::<u8>();
    drop(state);
    Ok(Some(bytes))
}

/// The next message with `tag` from any rank, if one has arrived, with
/// its sender: what rank 0's primitive service listens for.
pub(crate) fn try_receive_any(tag: Tag) -> io::Result<Option<(Rank, Vec<u8>)>> {
    let state = CALLS.lock();
    if state.finalized {
        return Err(finalized());
    }
    let comm = SimpleCommunicator::world();
    let Some(probed) = comm.any_process().immediate_matched_probe_with_tag(tag) else {
        return Ok(None);
    };
    let from = probed.1.source_rank();
    let (bytes, _status) = probed.matched_receive_vec::<u8>();
    drop(state);
    Ok(Some((from, bytes)))
}

/// Waits for the next message from `from` with `tag`, or until `deadline`
/// (`Ok(None)` then).
pub(crate) fn receive_by(
    from: Rank,
    tag: Tag,
    deadline: Option<Instant>,
) -> io::Result<Option<Vec<u8>>> {
    let mut backoff = Backoff::new();
    loop {
        if let Some(bytes) = try_receive(from, tag)? {
            return Ok(Some(bytes));
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(None);
        }
        backoff.pause();
    }
}

/// Waits for the next message from `from` with `tag`.
pub(crate) fn receive(from: Rank, tag: Tag) -> io::Result<Vec<u8>> {
    receive_by(from, tag, None)
        .transpose()
        .unwrap_or_else(|| Err(io::Error::other("no deadline, yet no message")))
}

/// Finalizes MPI, if this crate initialized it: no MPI call succeeds after.
pub(crate) fn finalize() {
    let mut state = CALLS.lock();
    state.finalized = true;
    // Dropping the universe calls MPI_Finalize.
    drop(state.universe.take());
}

/// Ends the whole MPI job with `code`: what a worker rank that cannot go on
/// does, so that rank 0 never waits for it in vain.
pub(crate) fn abort(code: i32) -> ! {
    SimpleCommunicator::world().abort(code)
}

/// Runs `on_exit` when the process exits normally (returning from `main`,
/// `std::process::exit`, the end of a test harness).
pub(crate) fn at_exit(on_exit: extern "C" fn()) -> io::Result<()> {
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> c_int;
    }
    // SAFETY: `atexit` only records the function pointer, a plain
    // `extern "C" fn()` with no arguments that lives for the whole program.
    let failed = unsafe { atexit(on_exit) } != 0;
    if failed {
        Err(io::Error::other("atexit refused the MPI finalizer"))
    } else {
        Ok(())
    }
}
