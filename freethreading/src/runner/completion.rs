//! A one-shot cell for a job's outcome: what `AsyncResult` and `TaskFuture` wait on.
//!
//! The outcome is published once (by the job, by a cancel, or by the crew
//! discarding the job) and taken once (by the handle's consuming `get`).
//! Callbacks see it by reference in between, as Python's `callback` and
//! `error_callback` do, and run before waiters wake, so that `get()` returning
//! means the callbacks have run.
//!
//! Whoever runs callbacks holds the outcome *lent* out of the cell, outside the
//! lock, so a callback may use the handle it was registered on; a callback
//! registered meanwhile is queued and run by the same lender. The outcome thus
//! only ever moves between threads and is never shared, so `R: Send` is enough.

use std::mem;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::Failure;
use crate::task::unwind;

/// A callback run once the outcome is known.
pub(crate) type Callback<R> = Box<dyn FnOnce(Result<&R, &Failure>) + Send>;

/// The state readable without the lock, in [`Completion::flag`].
const PENDING: u8 = 0;
const SUCCEEDED: u8 = 1;
const FAILED: u8 = 2;
const CANCELLED: u8 = 3;

/// How many times a waiter checks the flag before it yields, and how long
/// it goes on checking, yielding the core to whoever wants it, before it
/// sleeps: enough to catch a result that is microseconds away (from a thread
/// or, through a driver, from a worker process) without the wake-up of a
/// sleeping thread, which costs tens of microseconds on some virtual machines.
const SPINS: u32 = 64;
const YIELDING: std::time::Duration = std::time::Duration::from_micros(50);

pub(crate) struct Completion<R> {
    state: Mutex<State<R>>,
    changed: Condvar,
    flag: AtomicU8,
    /// Whether a running job may be stopped by killing its worker (a job
    /// running in a worker process), and whether someone asked for that.
    kill: AtomicU8,
}

/// The values of [`Completion::kill`].
const NOT_KILLABLE: u8 = 0;
const KILLABLE: u8 = 1;
const KILL_REQUESTED: u8 = 2;

struct State<R> {
    stage: Stage<R>,
    callbacks: Vec<Callback<R>>,
    waker: Option<Waker>,
}

enum Stage<R> {
    /// Waiting in the queue: it may still be cancelled.
    Queued,
    /// Started by a worker.
    Running,
    /// Known, and held by whoever runs the callbacks.
    Lent,
    /// Known and stored here.
    Ready(Result<R, Failure>),
    /// Handed to the owner of the handle.
    Taken,
}

impl<R: Send> Completion<R> {
    pub(crate) fn new() -> Self {
        Completion {
            state: Mutex::new(State {
                stage: Stage::Queued,
                callbacks: Vec::new(),
                waker: None,
            }),
            changed: Condvar::new(),
            flag: AtomicU8::new(PENDING),
            kill: AtomicU8::new(NOT_KILLABLE),
        }
    }

    /// Marks the job started; `false` when it was cancelled and must not run.
    /// A `killable` job (one in a worker process that its handle may cancel)
    /// may be stopped by [`cancel`](Self::cancel) from the moment it runs.
    pub(crate) fn start(&self, killable: bool) -> bool {
        let mut state = self.state.lock();
        if matches!(state.stage, Stage::Queued) {
            state.stage = Stage::Running;
            if killable {
                self.kill.store(KILLABLE, Ordering::Release);
            }
            true
        } else {
            false
        }
    }

    /// Cancels the job if it has not started; a running one runs on.
    pub(crate) fn cancel_queued(&self) -> bool {
        let mut state = self.state.lock();
        if matches!(state.stage, Stage::Queued) {
            state.stage = Stage::Lent;
            self.lend(state, Err(Failure::Cancelled));
            true
        } else {
            false
        }
    }

    /// Cancels the job if it has not started, or if it runs killable (its
    /// worker process is then killed by the driver, which publishes the
    /// cancellation); `true` if it is, or will be, cancelled.
    pub(crate) fn cancel(&self) -> bool {
        if self.cancel_queued() {
            return true;
        }
        let state = self.state.lock();
        match state.stage {
            Stage::Running => {
                let requested = self.kill.compare_exchange(
                    KILLABLE,
                    KILL_REQUESTED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                requested.is_ok() || requested == Err(KILL_REQUESTED)
            }
            _ => self.flag.load(Ordering::Acquire) == CANCELLED,
        }
    }

    /// Whether a cancel asked for the running job's worker to be killed.
    pub(crate) fn kill_requested(&self) -> bool {
        self.kill.load(Ordering::Acquire) == KILL_REQUESTED
    }

    /// Publishes the outcome, unless one already was (a cancelled job).
    pub(crate) fn publish(&self, outcome: Result<R, Failure>) {
        let mut state = self.state.lock();
        if matches!(state.stage, Stage::Queued | Stage::Running) {
            state.stage = Stage::Lent;
            self.lend(state, outcome);
        }
    }

    /// Runs `callback` with the outcome: now on this thread if it is known,
    /// else on the thread that publishes it, before waiters wake.
    pub(crate) fn on_ready(&self, callback: Callback<R>) {
        let mut state = self.state.lock();
        state.callbacks.push(callback);
        if matches!(state.stage, Stage::Ready(_)) {
            let Stage::Ready(outcome) = mem::replace(&mut state.stage, Stage::Lent) else {
                return;
            };
            self.lend(state, outcome);
        }
    }

    /// Runs the queued callbacks with the lent outcome until none is left,
    /// then stores it and wakes the waiters. `state.stage` is `Lent`.
    fn lend<'a>(&'a self, mut state: MutexGuard<'a, State<R>>, outcome: Result<R, Failure>) {
        loop {
            let callbacks = mem::take(&mut state.callbacks);
            if callbacks.is_empty() {
                break;
            }
            drop(state);
            for callback in callbacks {
                // A panicking callback must not take the worker down; the
                // panic hook has already printed it.
                let _ = unwind::catch(|| callback(outcome.as_ref()));
            }
            state = self.state.lock();
        }
        let flag = match &outcome {
            Ok(_) => SUCCEEDED,
            Err(Failure::Cancelled) => CANCELLED,
            Err(_) => FAILED,
        };
        state.stage = Stage::Ready(outcome);
        self.flag.store(flag, Ordering::Release);
        let waker = state.waker.take();
        drop(state);
        self.changed.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the outcome is known and its callbacks have run.
    pub(crate) fn is_ready(&self) -> bool {
        self.flag.load(Ordering::Acquire) != PENDING
    }

    /// `Some(true)` once it succeeded, `Some(false)` once it failed.
    pub(crate) fn succeeded(&self) -> Option<bool> {
        match self.flag.load(Ordering::Acquire) {
            PENDING => None,
            flag => Some(flag == SUCCEEDED),
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire) == CANCELLED
    }

    pub(crate) fn is_running(&self) -> bool {
        matches!(self.state.lock().stage, Stage::Running)
    }

    /// Waits until the outcome is known, or until `deadline` if one is given;
    /// `true` once it is known.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.spin() {
            return true;
        }
        let mut state = self.state.lock();
        while !self.is_ready() {
            match deadline {
                None => self.changed.wait(&mut state),
                Some(deadline) => {
                    if self.changed.wait_until(&mut state, deadline).timed_out() {
                        return self.is_ready();
                    }
                }
            }
        }
        true
    }

    /// Checks briefly for an outcome that is about to arrive, before sleeping.
    fn spin(&self) -> bool {
        for _ in 0..SPINS {
            if self.is_ready() {
                return true;
            }
            std::hint::spin_loop();
        }
        let start = Instant::now();
        while start.elapsed() < YIELDING {
            if self.is_ready() {
                return true;
            }
            std::thread::yield_now();
        }
        self.is_ready()
    }

    /// Waits for the outcome and takes it; [`Failure::Terminated`] if it
    /// was already taken.
    pub(crate) fn take(&self) -> Result<R, Failure> {
        // Only a second take finds nothing.
        self.take_until(None).unwrap_or(Err(Failure::Terminated))
    }

    /// Waits for the outcome (until `deadline`, if given) and takes it.
    ///
    /// `None` when the deadline passed first, or when it was already taken,
    /// which the handles rule out by taking it only in consuming methods.
    pub(crate) fn take_until(&self, deadline: Option<Instant>) -> Option<Result<R, Failure>> {
        if !self.wait_until(deadline) {
            return None;
        }
        let mut state = self.state.lock();
        loop {
            match mem::replace(&mut state.stage, Stage::Taken) {
                Stage::Ready(outcome) => return Some(outcome),
                Stage::Taken => return None,
                // A callback registered after the outcome was known is running
                // elsewhere with the outcome lent; it comes back shortly.
                other => {
                    state.stage = other;
                    self.changed.wait(&mut state);
                }
            }
        }
    }

    /// The outcome if known, else registers the task's waker: for the
    /// `Future` of `handle`, which panics (as futures may) when polled again
    /// after it completed.
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>, handle: &str) -> Poll<Result<R, Failure>> {
        let mut state = self.state.lock();
        match mem::replace(&mut state.stage, Stage::Taken) {
            Stage::Ready(outcome) => Poll::Ready(outcome),
            Stage::Taken => panic!("`{handle}` polled after it completed"),
            other => {
                state.stage = other;
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
