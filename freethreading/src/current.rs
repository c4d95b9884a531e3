//! Who is running: the current worker, and the workers alive in this process.
//!
//! Every worker that freethreading starts (a `Worker`, a pool or executor
//! thread or process) enters itself here for its lifetime, so `enumerate()`
//! and friends can list them the way Python's `threading.enumerate()` lists
//! threads and `multiprocessing.active_children()` lists processes.
//!
//! On threads the current worker is the calling thread. On processes it is
//! the calling process, as Python's `current_process()`: `MainProcess` in the
//! program, the worker's name in a worker process, with the process id as its
//! identifier.

use std::cell::OnceCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

/// The name Python gives the main thread, kept so that output matches.
///
/// # Examples
///
/// ```
/// use freethreading::{enumerate, get_backend, Backend, MAIN_PROCESS_NAME, MAIN_THREAD_NAME};
///
/// assert_eq!(MAIN_THREAD_NAME, "MainThread");
/// // The program's own entry among the workers alive: its main thread on
/// // threads, itself on processes.
/// let main = match get_backend() {
///     Backend::Threading => MAIN_THREAD_NAME,
///     _ => MAIN_PROCESS_NAME,
/// };
/// assert!(enumerate().iter().any(|w| w.name() == main));
/// ```
pub const MAIN_THREAD_NAME: &str = "MainThread";

/// The name Python gives the main process, the program's own identity on the
/// process backend.
///
/// # Examples
///
/// ```
/// use freethreading::{current_worker, get_backend, Backend, MAIN_PROCESS_NAME};
///
/// assert_eq!(MAIN_PROCESS_NAME, "MainProcess");
/// if get_backend() == Backend::Multiprocessing {
///     // The program itself, outside its worker processes.
///     assert_eq!(current_worker().name(), MAIN_PROCESS_NAME);
/// }
/// ```
pub const MAIN_PROCESS_NAME: &str = "MainProcess";

/// A worker as seen by [`current_worker`] and [`enumerate`]: a snapshot of its
/// name, identifier and daemon flag.
///
/// # Examples
///
/// ```
/// let me = freethreading::current_worker();
/// assert!(!me.name().is_empty());
/// assert_eq!(me.ident(), freethreading::get_ident());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    identity: Arc<Identity>,
}

#[derive(PartialEq, Eq)]
struct Identity {
    name: String,
    ident: u64,
    daemon: bool,
    /// On the MPI backend, the host of the worker's rank.
    host: Option<String>,
}

impl WorkerInfo {
    fn new(name: String, ident: u64, daemon: bool) -> Self {
        WorkerInfo {
            identity: Arc::new(Identity {
                name,
                ident,
                daemon,
                host: None,
            }),
        }
    }

    /// On the MPI backend, the worker's rank with the host it runs on.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    fn on_rank(name: String, rank: u64, host: String, daemon: bool) -> Self {
        WorkerInfo {
            identity: Arc::new(Identity {
                name,
                ident: rank,
                daemon,
                host: Some(host),
            }),
        }
    }

    /// The host the worker runs on, on the MPI backend (MPI's processor
    /// name for its rank, whose number is its [`ident`](Self::ident));
    /// `None` on threads and processes, which run on this host.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = freethreading::current_worker();
    /// if freethreading::get_backend() != freethreading::Backend::Mpi {
    ///     assert_eq!(me.host(), None);
    /// }
    /// ```
    pub fn host(&self) -> Option<&str> {
        self.identity.host.as_deref()
    }

    /// The worker's name: the one given to it, `MainThread` for the main
    /// thread (`MainProcess` for the program on the process backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{current_worker, worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn my_name() -> String {
    ///     current_worker().name().to_owned()
    /// }
    ///
    /// let worker = Worker::new(my_name, ()).with_name("Reader");
    /// worker.start()?;
    /// assert_eq!(worker.join()?, "Reader");
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.identity.name
    }

    /// The worker's identifier, as [`get_ident`] returns it inside the worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{current_worker, get_ident, worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn idents() -> (u64, u64) {
    ///     (current_worker().ident(), get_ident())
    /// }
    ///
    /// let worker = Worker::new(idents, ());
    /// worker.start()?;
    /// let (ident, also_ident) = worker.join()?;
    /// assert_eq!(ident, also_ident);
    /// assert_ne!(ident, current_worker().ident()); // another thread, or process
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn ident(&self) -> u64 {
        self.identity.ident
    }

    /// Whether the worker is a daemon, which the program does not wait for.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{current_worker, worker_fn, Worker};
    ///
    /// #[worker_fn]
    /// fn am_i_a_daemon() -> bool {
    ///     current_worker().is_daemon()
    /// }
    ///
    /// let worker = Worker::new(am_i_a_daemon, ()).with_daemon(true);
    /// worker.start()?;
    /// assert!(worker.join()?);
    /// assert!(!current_worker().is_daemon());
    /// # Ok::<(), freethreading::WorkerError>(())
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.identity.daemon
    }
}

impl fmt::Debug for WorkerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerInfo")
            .field("name", &self.name())
            .field("ident", &self.ident())
            .field("daemon", &self.is_daemon())
            .field("host", &self.host())
            .finish()
    }
}

thread_local! {
    static THIS_THREAD: OnceCell<WorkerInfo> = const { OnceCell::new() };
}

/// Workers started by freethreading that are alive now, in start order.
static LIVE: Mutex<Vec<WorkerInfo>> = Mutex::new(Vec::new());
/// Signalled whenever a worker leaves [`LIVE`].
static LEFT: Condvar = Condvar::new();

fn live() -> MutexGuard<'static, Vec<WorkerInfo>> {
    // The list stays consistent under a panic: every operation is one push or remove.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn next_ident() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A thread that freethreading did not start: named after its std name, with
/// `main` shown as Python's `MainThread` and an unnamed one as `Dummy-N`.
fn foreign_thread() -> WorkerInfo {
    let ident = next_ident();
    match std::thread::current().name() {
        Some("main") if is_main_thread() => main_thread(),
        Some(name) => WorkerInfo::new(name.to_owned(), ident, false),
        None => WorkerInfo::new(format!("Dummy-{ident}"), ident, false),
    }
}

/// The process's main thread: one identity, whoever asks about it.
fn main_thread() -> WorkerInfo {
    static MAIN: OnceLock<WorkerInfo> = OnceLock::new();
    MAIN.get_or_init(|| WorkerInfo::new(MAIN_THREAD_NAME.to_owned(), next_ident(), false))
        .clone()
}

/// Whether the calling thread is the one std runs `main` on. Another thread
/// may be *named* `main`; it must not share the main thread's identity, which
/// `RLock` ownership relies on.
fn is_main_thread() -> bool {
    // `init()` claims it first; without `init()`, the first thread named
    // `main` to ask is taken to be std's, which asks at its first use of the
    // crate, before it could have started another thread of that name.
    *MAIN_THREAD_ID.get_or_init(|| std::thread::current().id()) == std::thread::current().id()
}

static MAIN_THREAD_ID: OnceLock<std::thread::ThreadId> = OnceLock::new();

/// Records the calling thread, which runs `init()`, as the main thread.
pub(crate) fn claim_main_thread() {
    let _ = MAIN_THREAD_ID.set(std::thread::current().id());
}

fn this_thread() -> WorkerInfo {
    THIS_THREAD.with(|cell| cell.get_or_init(foreign_thread).clone())
}

/// This process, as a worker: set when a worker process takes over, else the
/// program's `MainProcess`.
static THIS_PROCESS: OnceLock<WorkerInfo> = OnceLock::new();

fn this_process() -> WorkerInfo {
    #[cfg(feature = "mpi")]
    if let Some(worker) = RANK_WORKER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
    {
        return worker;
    }
    THIS_PROCESS
        .get_or_init(|| {
            #[cfg(feature = "mpi")]
            if on_mpi() {
                if let Ok(world) = crate::mpi::world() {
                    return WorkerInfo::on_rank(
                        MAIN_PROCESS_NAME.to_owned(),
                        u64::try_from(world.rank).unwrap_or(0),
                        world.host.clone(),
                        false,
                    );
                }
            }
            WorkerInfo::new(MAIN_PROCESS_NAME.to_owned(), process_ident(), false)
        })
        .clone()
}

fn process_ident() -> u64 {
    u64::from(std::process::id())
}

/// On a worker rank, the worker whose job runs now: each link to the rank
/// (a pool's worker, a `Worker`) has a name of its own.
#[cfg(feature = "mpi")]
static RANK_WORKER: Mutex<Option<WorkerInfo>> = Mutex::new(None);

/// Makes this worker rank the worker `name` of rank 0, for
/// `current_worker()`, until the next job of another link.
#[cfg(feature = "mpi")]
pub(crate) fn become_rank_worker(name: &str, daemon: bool) {
    // Called as a link's welcome or job follows another link's: the rank's
    // loop (`mpi/worker.rs`) keeps which link it served last.
    let Ok(world) = crate::mpi::world() else {
        return;
    };
    let rank = u64::try_from(world.rank).unwrap_or(0);
    *RANK_WORKER.lock().unwrap_or_else(PoisonError::into_inner) = Some(WorkerInfo::on_rank(
        name.to_owned(),
        rank,
        world.host.clone(),
        daemon,
    ));
}

/// Registers a worker on worker rank `rank` of `host`, just greeted.
#[cfg(feature = "mpi")]
pub(crate) fn register_rank(name: String, rank: i32, host: String, daemon: bool) -> LiveWorker {
    register(WorkerInfo::on_rank(
        name,
        u64::try_from(rank).unwrap_or(0),
        host,
        daemon,
    ))
}

fn on_mpi() -> bool {
    crate::backend::try_get_backend() == Ok(crate::Backend::Mpi)
}

/// Makes this process the worker its parent named, for `current_worker()`.
pub(crate) fn become_process_worker(name: String, daemon: bool) {
    let _ = THIS_PROCESS.set(WorkerInfo::new(name, process_ident(), daemon));
}

/// Whether the current worker is the process: on processes and on MPI's ranks.
fn on_processes() -> bool {
    matches!(
        crate::backend::try_get_backend(),
        Ok(crate::Backend::Multiprocessing | crate::Backend::Mpi)
    )
}

/// The worker that is calling: its thread, or on processes its process.
fn me() -> WorkerInfo {
    if on_processes() {
        this_process()
    } else {
        this_thread()
    }
}

/// The calling thread's own identity, whatever the backend: what an `RLock`
/// records as its owner, since threads of one process must not share it.
pub(crate) fn thread_ident() -> u64 {
    #[cfg(feature = "mpi")]
    if let Some(owner) = ACTING_FOR.get() {
        return owner;
    }
    this_thread().ident()
}

#[cfg(feature = "mpi")]
thread_local! {
    /// Set while rank 0's primitive service runs a request of a worker
    /// rank's thread: the identity that thread has there.
    static ACTING_FOR: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `op` with [`thread_ident`] answering `owner`: rank 0's primitive
/// service acting for a thread of a worker rank, so that an `RLock` it
/// takes there is owned by that thread.
#[cfg(feature = "mpi")]
pub(crate) fn acting_for<R>(owner: u64, op: impl FnOnce() -> R) -> R {
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTING_FOR.set(self.0);
        }
    }
    let _restore = Restore(ACTING_FOR.replace(Some(owner)));
    op()
}

/// A worker counted as alive from the moment it is started until dropped.
///
/// The starting side registers it (so `is_alive` and `enumerate` are right
/// before the thread is scheduled), moves it into the new thread, which calls
/// [`LiveWorker::enter`], and drops it when the thread's work is done.
pub(crate) struct LiveWorker {
    info: WorkerInfo,
}

/// Registers a worker that is about to start.
pub(crate) fn register_worker(name: String, daemon: bool) -> LiveWorker {
    register(WorkerInfo::new(name, next_ident(), daemon))
}

/// Registers a worker process that was just started, identified by its pid.
pub(crate) fn register_process(name: String, pid: u32, daemon: bool) -> LiveWorker {
    register(WorkerInfo::new(name, u64::from(pid), daemon))
}

fn register(info: WorkerInfo) -> LiveWorker {
    live().push(info.clone());
    LiveWorker { info }
}

impl LiveWorker {
    /// Makes the calling thread this worker, for `current_worker()` and `get_ident()`.
    pub(crate) fn enter(&self) {
        THIS_THREAD.with(|cell| {
            let _ = cell.set(self.info.clone());
        });
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        // By identity, not ident: on MPI several workers share a rank.
        live().retain(|w| !Arc::ptr_eq(&w.identity, &self.info.identity));
        LEFT.notify_all();
    }
}

/// Waits until no non-daemon worker is alive, as Python does before exiting.
pub(crate) fn wait_for_non_daemon_workers() {
    let mut workers = live();
    while workers.iter().any(|w| !w.is_daemon()) {
        workers = LEFT.wait(workers).unwrap_or_else(PoisonError::into_inner);
    }
}

/// The worker this code runs in: a `Worker`, a pool worker, or the main thread.
///
/// # Examples
///
/// ```
/// use freethreading::{current_worker, worker_fn, Worker};
///
/// #[worker_fn]
/// fn my_name() -> String {
///     current_worker().name().to_owned()
/// }
///
/// let worker = Worker::new(my_name, ()).with_name("Greeter");
/// worker.start()?;
/// assert_eq!(worker.join()?, "Greeter");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn current_worker() -> WorkerInfo {
    me()
}

/// The current worker's identifier: unique among the threads of this process
/// on threads, the process id on processes (Python's `os.getpid()`).
///
/// # Examples
///
/// ```
/// assert_eq!(freethreading::get_ident(), freethreading::get_ident());
/// ```
pub fn get_ident() -> u64 {
    me().ident()
}

/// The workers alive now, including the one calling.
///
/// On threads that is the main thread, every live `Worker` and pool or
/// executor worker, and the calling thread if freethreading did not start it.
/// On processes it is this process and the worker processes it started that
/// are alive, as Python's `active_children()` plus `current_process()`.
///
/// # Examples
///
/// ```
/// let names: Vec<String> = freethreading::enumerate()
///     .iter()
///     .map(|w| w.name().to_owned())
///     .collect();
/// assert!(names.contains(&freethreading::current_worker().name().to_owned()));
/// ```
pub fn enumerate() -> Vec<WorkerInfo> {
    let workers = live().clone();
    if on_processes() {
        let mut all = Vec::with_capacity(workers.len() + 1);
        all.push(this_process());
        // A worker process that died while idle stays registered until its
        // pool next needs it and replaces it; like Python's
        // `active_children()`, which polls its children, list only the
        // living.
        // A rank is no process of this host: it is listed while its link is open.
        let mpi = on_mpi();
        all.extend(
            workers
                .into_iter()
                .filter(|w| mpi || u32::try_from(w.ident()).is_ok_and(crate::sys::pid::is_alive)),
        );
        return all;
    }
    let me = this_thread();
    let mut all = Vec::with_capacity(workers.len() + 2);
    let main = main_thread();
    if me != main {
        all.push(main);
    }
    if !workers.contains(&me) {
        all.push(me);
    }
    all.extend(workers);
    all
}

/// The workers alive now, except the one calling.
///
/// # Examples
///
/// ```
/// let me = freethreading::current_worker();
/// assert!(freethreading::active_children().iter().all(|w| *w != me));
/// ```
pub fn active_children() -> Vec<WorkerInfo> {
    let me = me();
    enumerate().into_iter().filter(|w| *w != me).collect()
}

/// How many workers are alive now, the calling one included: `enumerate().len()`.
///
/// # Examples
///
/// ```
/// assert!(freethreading::active_count() >= 1);
/// ```
pub fn active_count() -> usize {
    enumerate().len()
}
