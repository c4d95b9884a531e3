//! Who is running: the current worker, and the workers alive in this process.
//!
//! Every thread that freethreading starts (a `Worker`, a pool or executor
//! thread) enters itself here for its lifetime, so `enumerate()` and friends
//! can list them the way Python's `threading.enumerate()` lists threads.

use std::cell::OnceCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

/// The name Python gives the main thread, kept so that output matches.
pub const MAIN_THREAD_NAME: &str = "MainThread";

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
}

impl WorkerInfo {
    fn new(name: String, ident: u64, daemon: bool) -> Self {
        WorkerInfo {
            identity: Arc::new(Identity {
                name,
                ident,
                daemon,
            }),
        }
    }

    /// The worker's name: the one given to it, `MainThread` for the main thread.
    pub fn name(&self) -> &str {
        &self.identity.name
    }

    /// The worker's identifier, as [`get_ident`] returns it inside the worker.
    pub fn ident(&self) -> u64 {
        self.identity.ident
    }

    /// Whether the worker is a daemon, which the program does not wait for.
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
    let info = WorkerInfo::new(name, next_ident(), daemon);
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
        live().retain(|w| w.identity.ident != self.info.identity.ident);
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
    this_thread()
}

/// The current worker's identifier: unique among the threads of this process.
///
/// # Examples
///
/// ```
/// assert_eq!(freethreading::get_ident(), freethreading::get_ident());
/// ```
pub fn get_ident() -> u64 {
    this_thread().ident()
}

/// The workers alive now, including the one calling.
///
/// That is the main thread, every live `Worker` and pool or executor worker,
/// and the calling thread if freethreading did not start it.
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
    let me = this_thread();
    let workers = live().clone();
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
    let me = this_thread();
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
