//! The threads that start and watch worker processes, kept for reuse: a
//! `Worker`'s monitor, and a pool's drivers (`runner/process/`).
//!
//! A worker process dies with the thread that started it (see
//! `process/child.rs`), so each is started by a monitor thread that stays
//! until the process is gone. Monitors are pooled: one that finished waits a
//! while for the next worker before it exits. Besides the cost of a thread,
//! this saves the first `posix_spawn` of a new thread, which is several times
//! slower than the next ones on some virtual machines (about 0.8 ms against
//! 0.1 ms here).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use parking_lot::Mutex;

/// What a monitor does for one worker: start it, watch it, report.
pub(crate) type Work = Box<dyn FnOnce() + Send>;

/// How long an idle monitor waits for another worker before it exits.
const KEEP_IDLE: Duration = Duration::from_secs(5);

/// The idle monitors, each with the sender its next work arrives on.
static IDLE: Mutex<Vec<(u64, Sender<Work>)>> = Mutex::new(Vec::new());

/// Names each monitor, so that it finds itself in [`IDLE`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Runs `work` on an idle monitor, or on a new one.
pub(crate) fn run(work: Work) -> io::Result<()> {
    let idle = IDLE.lock().pop();
    let work = match idle {
        // A monitor taken off the list waits for its work (see `serve`).
        Some((_, next)) => match next.send(work) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(work)) => work,
        },
        None => work,
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    std::thread::Builder::new()
        .name("freethreading-monitor".to_owned())
        .spawn(move || serve(id, work))
        .map(drop)
}

fn serve(id: u64, mut work: Work) {
    loop {
        work();
        let (next, arrives) = mpsc::channel();
        IDLE.lock().push((id, next));
        work = match arrives.recv_timeout(KEEP_IDLE) {
            Ok(work) => work,
            Err(RecvTimeoutError::Timeout) => {
                let mut idle = IDLE.lock();
                if let Some(at) = idle.iter().position(|(other, _)| *other == id) {
                    idle.remove(at);
                    return;
                }
                drop(idle);
                // Taken off the list by `run` meanwhile: its work is coming.
                match arrives.recv() {
                    Ok(work) => work,
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
    }
}
