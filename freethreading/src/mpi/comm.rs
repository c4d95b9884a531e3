//! Every direct MPI call of the crate, and nothing else.
//!
//! Threading level: `MPI_THREAD_SERIALIZED`. Any thread of rank 0 may talk
//! to MPI (a pool's drivers, a caller doing a round trip itself, a
//! `Worker`'s monitor), but never two at once: each call takes [`CALLS`]
//! for that one call and no longer, and no call blocks while holding it.
//! A send is an immediate send tested until done. The orders to a worker
//! rank and a link's answers ([`send_parts`], [`receive_parts`]) are
//! received by a receive posted into a buffer of the receiving thread
//! (`MPI_Irecv`), tested until done: a message that would not fit it goes
//! in two parts, the first filling it. The primitive service's requests and
//! answers, which several threads of a rank share, are received by a
//! matched probe (`MPI_Improbe`), which takes a message out of the queue
//! for this caller alone, then its receive (`MPI_Mrecv`).
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

use std::cell::Cell;
use std::ffi::c_int;
use std::io;
use std::sync::OnceLock;
use std::thread;

use mpi::datatype::Equivalence;
use mpi::environment::{Threading, Universe};
use mpi::point_to_point::Status;
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

/// The CPUs a rank tells the others it may run on: a bit set of the first
/// 1024 (a CPU past them counts as the last).
const CPU_BYTES: usize = 128;

/// This process's CPUs as a bit set, every bit set where they are unknown.
fn cpu_set() -> [u8; CPU_BYTES] {
    match crate::sys::cpus::allowed() {
        Some(allowed) if !allowed.is_empty() => {
            let mut set = [0_u8; CPU_BYTES];
            for cpu in allowed {
                let bit = cpu.min(CPU_BYTES * 8 - 1);
                set[bit / 8] |= 1 << (bit % 8);
            }
            set
        }
        _ => [u8::MAX; CPU_BYTES],
    }
}

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
    // the crate, the others as they take over). Each says its host and the
    // CPUs it may run on.
    let mut mine = [0_u8; HOST_BYTES + CPU_BYTES];
    let len = host.len().min(HOST_BYTES);
    mine[..len].copy_from_slice(&host.as_bytes()[..len]);
    mine[HOST_BYTES..].copy_from_slice(&cpu_set());
    let size = comm.size();
    let mut all = vec![0_u8; (HOST_BYTES + CPU_BYTES) * usize::try_from(size).unwrap_or(0)];
    comm.all_gather_into(&mine[..], &mut all[..]);
    let (hosts, cpus): (Vec<String>, Vec<&[u8]>) = all
        .chunks(HOST_BYTES + CPU_BYTES)
        .map(|rank| {
            let (name, cpus) = rank.split_at(HOST_BYTES);
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            (String::from_utf8_lossy(&name[..end]).into_owned(), cpus)
        })
        .unzip();
    // The ranks of this host that may run where this one may (itself too).
    let sharing = hosts
        .iter()
        .zip(&cpus)
        .filter(|(name, theirs)| {
            **name == host
                && theirs
                    .iter()
                    .zip(&mine[HOST_BYTES..])
                    .any(|(a, b)| a & b != 0)
        })
        .count();
    super::wait::decide(sharing);
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
    send_all(to, tag, &[bytes])
}

/// Sends `bytes` to `to` with `tag` for [`receive_parts`]: as one message
/// when shorter than [`PART`] bytes, else as two, its first [`PART`] bytes
/// then the rest, sent in one turn of the lock so that no other thread's
/// message to `to` with `tag` comes between them.
pub(crate) fn send_parts(to: Rank, tag: Tag, bytes: &[u8]) -> io::Result<()> {
    if bytes.len() < PART {
        send_all(to, tag, &[bytes])
    } else {
        let (first, rest) = bytes.split_at(PART);
        send_all(to, tag, &[first, rest])
    }
}

/// Sends each of `messages` to `to` with `tag`, in order, all started under
/// one lock; returns once every buffer may be reused.
fn send_all(to: Rank, tag: Tag, messages: &[&[u8]]) -> io::Result<()> {
    if let Some(big) = messages.iter().find(|m| c_int::try_from(m.len()).is_err()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a message of {} bytes is over MPI's 2 GiB limit", big.len()),
        ));
    }
    mpi::request::scope(|scope| {
        let comm = SimpleCommunicator::world();
        let mut pending = Vec::new();
        {
            let state = CALLS.lock();
            if state.finalized {
                return Err(finalized());
            }
            let process = comm.process_at_rank(to);
            for message in messages {
                let request = process.immediate_send_with_tag(scope, *message, tag);
                // A small message is usually sent at once: tested under the
                // same lock, it costs no second turn.
                if let Err(request) = request.test() {
                    pending.push(request);
                }
            }
        }
        let mut backoff = Backoff::new();
        while !pending.is_empty() {
            backoff.pause();
            let _state = lock_while_in_flight();
            pending = pending
                .into_iter()
                .filter_map(|request| request.test().err())
                .collect();
        }
        Ok(())
    })
}

/// Takes the lock to test a request still in flight. Once MPI is finalized
/// (the program is exiting: it is finalized only then), MPI may still read
/// or write that request's buffer, so the calling thread does not return:
/// it waits for the exit, which has begun.
fn lock_while_in_flight() -> parking_lot::MutexGuard<'static, State> {
    let state = CALLS.lock();
    if state.finalized {
        drop(state);
        loop {
            thread::park();
        }
    }
    state
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

/// Up to how many bytes a message of [`send_parts`] goes in one part, and
/// the size of the buffer each [`receive_parts`] posts.
pub(crate) const PART: usize = 16 * 1024;

thread_local! {
    /// The buffer this thread's receives are posted into, [`PART`] bytes,
    /// taken out while a receive uses it.
    static POSTED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Waits for the next message of [`send_parts`] from `from` with `tag`,
/// and returns what `read` makes of it.
///
/// A receive posted into this thread's buffer (`MPI_Irecv`), then tested
/// until done: Open MPI matches the message as it arrives and copies it
/// straight in, where a matched probe (`MPI_Improbe`) starts and frees a
/// request at each poll and leaves the message in its queue of unexpected
/// ones, to be copied out by a second call. `read` reads it where it
/// landed, so that a short message is never copied again. A message of
/// [`PART`] bytes says that a second part follows, received as it is (it
/// comes next: the sender starts both under one lock).
pub(crate) fn receive_parts<R>(
    from: Rank,
    tag: Tag,
    read: impl FnOnce(&[u8]) -> R,
) -> io::Result<R> {
    // Taken out, so that a receive within `read`, or one from a
    // thread-local's destructor after the buffer's own, finds none and
    // uses a buffer of its own.
    let mut buffer = POSTED.try_with(Cell::take).unwrap_or_default();
    buffer.resize(PART, 0);
    let received = receive_posted(from, tag, &mut buffer).and_then(|len| {
        if len < PART {
            Ok(read(&buffer[..len]))
        } else {
            receive_rest(from, tag, &buffer).map(|whole| read(&whole))
        }
    });
    let _ = POSTED.try_with(|posted| posted.set(buffer));
    received
}

/// Posts a receive into `buffer` and waits for it; the length received.
fn receive_posted(from: Rank, tag: Tag, buffer: &mut [u8]) -> io::Result<usize> {
    let comm = SimpleCommunicator::world();
    mpi::request::scope(|scope| {
        let mut request = {
            let state = CALLS.lock();
            if state.finalized {
                return Err(finalized());
            }
            let request = comm
                .process_at_rank(from)
                .immediate_receive_into_with_tag(scope, buffer, tag);
            match request.test() {
                Ok(status) => return Ok(received(&status)),
                Err(pending) => pending,
            }
        };
        let mut backoff = Backoff::new();
        loop {
            backoff.pause();
            let _state = lock_while_in_flight();
            match request.test() {
                Ok(status) => return Ok(received(&status)),
                Err(pending) => request = pending,
            }
        }
    })
}

/// The second part of a message whose first, `first`, filled the buffer:
/// received straight behind it in one vector.
fn receive_rest(from: Rank, tag: Tag, first: &[u8]) -> io::Result<Vec<u8>> {
    let comm = SimpleCommunicator::world();
    let mut backoff = Backoff::new();
    loop {
        {
            let state = CALLS.lock();
            if state.finalized {
                return Err(finalized());
            }
            if let Some((message, status)) = comm
                .process_at_rank(from)
                .immediate_matched_probe_with_tag(tag)
            {
                let mut whole = vec![0; first.len() + received(&status)];
                whole[..first.len()].copy_from_slice(first);
                message.matched_receive_into(&mut whole[first.len()..]);
                return Ok(whole);
            }
        }
        backoff.pause();
    }
}

/// How many bytes a completed receive or a probe says the message has.
fn received(status: &Status) -> usize {
    usize::try_from(status.count(u8::equivalent_datatype())).unwrap_or(0)
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
