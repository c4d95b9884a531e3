//! The MPI backend's machinery (cargo feature `mpi`): the program is started
//! on every rank of an MPI job (`mpirun -n N ./app`, Slurm's `srun`), rank 0
//! runs `main`, and ranks 1 and up take over and serve rank 0's tasks, found
//! by name as a worker process finds them (the model is `mpi4py.futures`).
//!
//! - `comm`: every direct MPI call, and the threading level (serialized).
//! - `wait`: how a wait polls, yields and sleeps between those calls.
//! - `wire`: the orders rank 0 sends and the answers of the worker ranks.
//! - `worker`: a worker rank's loop.
//! - `ranks`: rank 0's table of worker ranks and the links open on them.
//! - `link`: rank 0's side of one link, a worker on a worker rank.
//! - `served`: primitives across ranks, served by rank 0.
//!
//! The runners build on these: `runner/mpi.rs` (a pool's or executor's
//! crew, one link per worker) and `worker/mpi.rs` (a `Worker`, one link for
//! one task).

pub(crate) mod comm;
mod link;
mod ranks;
pub(crate) mod served;
mod wait;
mod wire;
mod worker;

use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use link::{NotReady, RankLink};

use crate::backend::{Backend, try_get_backend};

/// On the MPI backend, starts MPI; on a worker rank, then serves rank 0 and
/// exits; elsewhere (rank 0, other backends) returns.
pub(crate) fn take_over_if_worker() {
    static CHECKED: AtomicBool = AtomicBool::new(false);
    if CHECKED.load(Ordering::Acquire) || CHECKED.swap(true, Ordering::AcqRel) {
        return;
    }
    if try_get_backend() != Ok(Backend::Mpi) {
        return;
    }
    // An error here is reported by what needs the worker ranks.
    if let Ok(world) = world() {
        if world.rank > 0 {
            worker::serve(world);
        }
    }
}

/// This process in the MPI job, MPI started if it was not; on rank 0 the
/// first call also arranges for the worker ranks to be stopped and MPI
/// finalized as the program exits.
pub(crate) fn world() -> io::Result<&'static comm::World> {
    static AT_EXIT: OnceLock<io::Result<()>> = OnceLock::new();
    let world = comm::world()?;
    if world.rank == 0 {
        if let Err(e) = AT_EXIT.get_or_init(|| comm::at_exit(stop_workers)) {
            return Err(io::Error::other(e.to_string()));
        }
        served::start_service()?;
    }
    Ok(world)
}

/// How many worker ranks this MPI job has (its size less rank 0).
pub(crate) fn worker_ranks() -> io::Result<usize> {
    world().map(|world| usize::try_from(world.size - 1).unwrap_or(0))
}

/// Run by rank 0 as the program exits: every worker rank stops (after the
/// orders it has, so a running task finishes first), and MPI is finalized.
extern "C" fn stop_workers() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(world) = comm::world().ok().filter(|world| world.rank == 0) {
            // Daemon workers may still run (non-daemons were waited for by
            // `#[freethreading::main]`): a moment for them to finish, then,
            // as a daemon is killed when a Python program exits, the job
            // ends, since no rank can be stopped alone and MPI_Finalize
            // would wait for them for good.
            let grace = std::time::Instant::now() + EXIT_GRACE;
            let mut busy = ranks::busy();
            while !busy.is_empty() && std::time::Instant::now() < grace {
                std::thread::sleep(std::time::Duration::from_millis(1));
                busy = ranks::busy();
            }
            if !busy.is_empty() {
                let _ = std::io::Write::flush(&mut std::io::stdout());
                eprintln!(
                    "freethreading: rank 0 exits while worker rank(s) {busy:?} still run tasks \
                     (daemon workers): ending the MPI job with MPI_Abort"
                );
                comm::abort(0);
            }
            let stop = wire::order_message(&wire::Order::Stop, &[]);
            for rank in 1..world.size {
                let _ = comm::send_parts(rank, wire::ORDER, &stop);
            }
        }
        comm::finalize();
    });
}

/// How long rank 0, exiting, waits for tasks still running on worker ranks.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_millis(200);

/// A fingerprint of the running executable's contents, the same on every
/// rank that runs the same build, wherever its file lies: a worker rank
/// checks it against rank 0's before it serves, so that a cluster's ranks
/// running different builds is a clear error rather than calls into the
/// wrong code. (The process backend's fingerprint names the file instead,
/// which differs between hosts.)
pub(crate) fn build_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut hasher = DefaultHasher::new();
        hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
        if let Ok(mut file) = std::env::current_exe().and_then(std::fs::File::open) {
            let mut chunk = vec![0; 1 << 20];
            loop {
                // Whole chunks (a short read is completed), so that every
                // rank feeds the hasher the same slices.
                let mut filled = 0;
                while filled < chunk.len() {
                    match file.read(&mut chunk[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return hasher.finish(),
                    }
                }
                hasher.write(&chunk[..filled]);
                if filled < chunk.len() {
                    break;
                }
            }
        }
        hasher.finish()
    })
}

thread_local! {
    /// Set while this thread encodes what goes to a worker rank.
    static FOR_A_RANK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `encode` marked as encoding for a worker rank, where a primitive of
/// the thread or process flavor (one made inside another backend's
/// `Backend::install`) cannot go: its `Serialize` refuses
/// ([`primitive_refused`]), so the call that would send it fails at once,
/// on rank 0, rather than a task failing on a rank while rank 0 waits on the
/// primitive for good. The mpi backend's own primitives (`served`) go.
pub(crate) fn encoding_for_rank<R>(encode: impl FnOnce() -> R) -> R {
    struct Unset(bool);
    impl Drop for Unset {
        fn drop(&mut self) {
            FOR_A_RANK.set(self.0);
        }
    }
    let _unset = Unset(FOR_A_RANK.replace(true));
    encode()
}

/// Why primitive `kind` cannot be encoded now, when it is on its way to a
/// worker rank.
pub(crate) fn primitive_refused(kind: &str) -> Option<String> {
    FOR_A_RANK.get().then(|| {
        format!(
            "a {kind} made for another backend cannot reach an MPI worker rank \
             (unsupported): only primitives made on the mpi backend cross ranks, not one \
             made inside `Backend::install` of threads or processes"
        )
    })
}

/// Whether a message of `len` bytes may be sent: under MPI's count limit
/// and `FREETHREADING_MAX_MESSAGE`.
pub(crate) fn fits(len: usize) -> bool {
    len < crate::process::wire::max_frame().min(i32::MAX as usize)
}
