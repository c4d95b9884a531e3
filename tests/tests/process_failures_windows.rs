//! What only the process backend can survive, on Windows: workers ended
//! from outside (`TerminateProcess`), by an access violation or by an
//! abort; locks and barriers whose process died; a parent killed under its
//! workers; a thousand workers that must leave no handle behind. Each
//! failure must reach the caller as an error naming the exit code or the
//! exception, the pool must go on, and nothing may hang or leak.
//! `process_failures.rs` holds their Linux counterparts.
//!
//! Run in CI under Wine (`.ci/wine/check`), never yet on real Windows.
#![cfg(windows)]

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use freethreading::{
    Barrier, BrokenBarrier, Event, Lock, PoolError, RLock, Worker, WorkerError, WorkerPool,
    active_children, worker_fn,
};
use freethreading_tests::process_tests;
use freethreading_tests::windows::{Process, access_violation, handle_count};

const PATIENCE: Duration = Duration::from_secs(30);

/// The exception code of an access violation, as `ExitStatus::code` gives it.
const ACCESS_VIOLATION: i32 = i32::from_ne_bytes(0xC000_0005_u32.to_ne_bytes());
/// What `std::process::abort` ends a process with on Windows: `__fastfail`,
/// whose status is `STATUS_STACK_BUFFER_OVERRUN`. Wine 8 ends it the same.
const FAST_FAIL: i32 = i32::from_ne_bytes(0xC000_0409_u32.to_ne_bytes());

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn abort_now() {
    std::process::abort();
}

#[worker_fn]
fn fault() {
    access_violation();
}

/// Says it has started, then sleeps far longer than any test waits.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn started_then_nap(started: Event) {
    started.set();
    std::thread::sleep(Duration::from_secs(600));
}

#[worker_fn]
fn abort_every_fourth(i: u64) -> u64 {
    if i % 4 == 0 {
        std::process::abort();
    }
    i
}

/// Takes both locks, says so, and keeps them until it is ended.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn hold_until_ended(lock: Lock, rlock: RLock, held: Event) {
    lock.acquire();
    rlock.acquire();
    rlock.acquire();
    held.set();
    std::thread::sleep(Duration::from_secs(600));
}

#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
#[worker_fn]
fn wait_at(barrier: Barrier) -> bool {
    barrier.wait().is_ok()
}

fn death(error: &PoolError) -> &freethreading::TaskError {
    let task = error
        .task_error()
        .unwrap_or_else(|| panic!("not a task error: {error}"));
    assert!(task.is_worker_death(), "not a worker death: {task}");
    task
}

fn assert_pool_goes_on(pool: &WorkerPool) {
    let expected: Vec<u64> = (0..200).map(|x| x * x).collect();
    assert_eq!(
        pool.map(square, 0..200).expect("the pool goes on"),
        expected
    );
    assert_eq!(pool.apply(square, (9,)).expect("the pool goes on"), 81);
}

/// Polls `done` until it holds, failing with `what` after `patience`.
fn eventually(patience: Duration, what: impl Fn() -> String, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !done() {
        assert!(Instant::now() < deadline, "{}", what());
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn pids_of_children() -> Vec<u32> {
    active_children()
        .iter()
        .map(|w| u32::try_from(w.ident()).expect("a pid"))
        .collect()
}

/// The `n` worker processes of this process, once all have started.
fn children(n: usize) -> Vec<Process> {
    eventually(
        PATIENCE,
        || format!("{n} workers started: {:?}", active_children()),
        || pids_of_children().len() == n,
    );
    pids_of_children()
        .into_iter()
        .map(|pid| Process::open(pid).expect("a worker to open"))
        .collect()
}

/// A child process killed when the test ends, failed or not, so that a
/// failure leaves no parent (and its workers) sleeping behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

process_tests! {
    fn workers_terminated_mid_task_fail_them_with_their_exit_code() {
        let pool = WorkerPool::new(2).unwrap();
        // One task on each worker, so both serve (a worker that dies before
        // it could serve is a failure to start, which breaks the pool).
        let (first, second) = (Event::new(), Event::new());
        let long = [&first, &second]
            .map(|started| pool.apply_async(started_then_nap, (started.clone(),)).unwrap());
        assert!(first.wait_timeout(PATIENCE) && second.wait_timeout(PATIENCE), "both started");
        let before = children(2);
        for worker in &before {
            worker.terminate(77).unwrap();
        }
        let noticed = Instant::now();
        for result in long {
            let error = result.get_timeout(PATIENCE).unwrap_err();
            let task = death(&error);
            assert_eq!(task.exit_code(), Some(77), "{task}");
            assert_eq!(task.exit_signal(), None, "{task}");
            assert!(task.to_string().contains("exited with status 77"), "{task}");
            assert!(before.iter().any(|w| task.worker_pid() == Some(w.pid())), "{task}");
        }
        assert!(
            noticed.elapsed() < Duration::from_secs(10),
            "noticed at once, not after {:?}",
            noticed.elapsed()
        );
        assert_pool_goes_on(&pool);
        let now = pids_of_children();
        assert_eq!(now.len(), 2);
        assert!(now.iter().all(|pid| before.iter().all(|w| w.pid() != *pid)), "new workers");
    }

    fn an_access_violation_names_the_exception() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(fault, ()).unwrap_err();
        let task = death(&error);
        assert_eq!(task.exit_code(), Some(ACCESS_VIOLATION), "{task}");
        assert!(task.to_string().contains("access violation (0xC0000005)"), "{task}");
        assert_pool_goes_on(&pool);

        let worker = Worker::new(fault, ());
        worker.start().unwrap();
        match worker.join() {
            Err(WorkerError::Task(task)) => {
                assert_eq!(task.exit_code(), Some(ACCESS_VIOLATION), "{task}");
                assert!(task.to_string().contains("access violation"), "{task}");
            }
            other => panic!("expected the worker's death, got {other:?}"),
        }
    }

    fn an_abort_names_its_status() {
        let pool = WorkerPool::new(2).unwrap();
        let error = pool.apply(abort_now, ()).unwrap_err();
        let task = death(&error);
        assert_eq!(task.exit_code(), Some(FAST_FAIL), "{task}");
        assert!(task.to_string().contains("(0xC0000409)"), "{task}");
        assert_pool_goes_on(&pool);
        // The replacement starts as soon as the death is known.
        eventually(
            PATIENCE,
            || format!("the dead worker was replaced: {:?}", active_children()),
            || active_children().len() == 2,
        );
    }

    fn queued_tasks_complete_while_workers_keep_dying() {
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<_> = (0..24)
            .map(|i| pool.apply_async(abort_every_fourth, (i,)).unwrap())
            .collect();
        for (i, result) in (0_u64..).zip(results) {
            match result.get_timeout(PATIENCE) {
                Ok(value) => assert_eq!(value, i),
                Err(error) => {
                    assert_eq!(i % 4, 0, "task {i} failed: {error}");
                    assert_eq!(death(&error).exit_code(), Some(FAST_FAIL));
                }
            }
        }
        assert_pool_goes_on(&pool);
    }

    fn idle_workers_terminated_are_replaced_without_a_job() {
        let pool = WorkerPool::new(2).unwrap();
        // Both serve: each waits for the other at the barrier.
        let barrier = Barrier::new(2).unwrap();
        let both = [(); 2].map(|()| pool.apply_async(wait_at, (barrier.clone(),)).unwrap());
        assert!(both.into_iter().all(|r| r.get_timeout(PATIENCE).unwrap()));
        let before = children(2);
        for worker in &before {
            worker.terminate(1).unwrap();
        }
        eventually(
            PATIENCE,
            || format!("replaced: {:?}", pids_of_children()),
            || {
                let now = pids_of_children();
                now.len() == 2 && now.iter().all(|pid| before.iter().all(|w| w.pid() != *pid))
            },
        );
        // No task was running: none fails, and the next ones run.
        assert_pool_goes_on(&pool);
    }

    fn a_lock_whose_owner_was_terminated_says_owner_died() {
        let (lock, rlock, held) = (Lock::new(), RLock::new(), Event::new());
        let worker = Worker::new(hold_until_ended, (lock.clone(), rlock.clone(), held.clone()));
        worker.start().unwrap();
        assert!(held.wait_timeout(PATIENCE), "the worker took the locks");
        assert!(lock.locked());
        assert!(!lock.try_acquire(), "held by the worker");
        children(1)[0].terminate(5).unwrap();

        // Taken over, and told so, within a few of the waiters' slices.
        let taken = Instant::now();
        let died = lock.lock_checked().expect_err("the owner died holding it");
        assert!(died.to_string().contains("died"), "{died}");
        let guard = died.into_inner();
        assert!(lock.locked());
        drop(guard);
        assert!(!lock.locked());
        assert!(lock.lock_checked().is_ok(), "told once");

        let died = rlock.lock_checked().expect_err("the owner died holding it");
        drop(died.into_inner());
        assert!(rlock.lock_checked().is_ok(), "released at once, whatever the dead level");
        assert!(taken.elapsed() < Duration::from_secs(5), "{:?}", taken.elapsed());

        match worker.join() {
            Err(WorkerError::Task(task)) => assert_eq!(task.exit_code(), Some(5), "{task}"),
            other => panic!("expected the worker's death, got {other:?}"),
        }
    }

    fn a_barrier_breaks_when_a_waiting_party_is_terminated() {
        let barrier = Barrier::new(3).unwrap();
        let pool = WorkerPool::new(1).unwrap();
        let party = pool.apply_async(wait_at, (barrier.clone(),)).unwrap();
        eventually(PATIENCE, || "the worker waits".to_owned(), || barrier.n_waiting() == 1);
        let worker = children(1);
        worker[0].terminate(9).unwrap();
        // Told at once, not after the timeout.
        let start = Instant::now();
        assert_eq!(barrier.wait_timeout(PATIENCE), Err(BrokenBarrier));
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        assert!(barrier.broken());
        assert_eq!(death(&party.get_timeout(PATIENCE).unwrap_err()).exit_code(), Some(9));
        assert_pool_goes_on(&pool);
    }

    fn a_killed_parent_takes_its_workers_with_it() {
        let mut parent = KillOnDrop(
            Command::new(std::env::current_exe().unwrap())
                .args(["orphan_maker", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env("FREETHREADING_TEST_ORPHAN_MAKER", "1")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let parent = &mut parent.0;
        // Read on a thread, so that a parent that never prints fails the
        // test with what it did print, rather than hanging it.
        let stdout = parent.stdout.take().unwrap();
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let mut workers = Vec::new();
        let mut seen = Vec::new();
        while workers.len() < 3 {
            let line = line_rx.recv_timeout(PATIENCE).unwrap_or_else(|_| {
                panic!("the parent did not print its workers; it printed {seen:?}")
            });
            if let Some(pid) = line.strip_prefix("worker pid ") {
                // Held open before the parent dies, so the id stays theirs.
                workers.push(Process::open(pid.parse().unwrap()).unwrap());
            }
            seen.push(line);
        }
        for worker in &workers {
            assert_eq!(worker.wait(Duration::ZERO), None, "{} runs", worker.pid());
        }
        // TerminateProcess: no code of the parent's runs as it dies.
        parent.kill().unwrap();
        parent.wait().unwrap();
        // Ended by the job object closing with the parent's handle table
        // (exit code 0, as Wine 8 ends a job's processes), before a
        // worker's own watch on its parent could (that one exits with 1).
        for worker in &workers {
            assert_eq!(
                worker.wait(Duration::from_secs(10)),
                Some(0),
                "worker {} ended by the parent's job",
                worker.pid()
            );
        }
    }


    fn a_thousand_workers_leave_no_handles_behind() {
        // Warm up what the first spawns open once (monitor threads, the job
        // object, the arena), then count.
        for i in 0..4_u64 {
            let worker = Worker::new(square, (i,));
            worker.start().unwrap();
            assert_eq!(worker.join().unwrap(), i * i);
        }
        drop(WorkerPool::new(2).unwrap());
        std::thread::sleep(Duration::from_millis(200));
        let handles = handle_count();
        // Four at a time: Wine starts a process in tens of milliseconds.
        for batch in 0..250_u64 {
            let workers: Vec<_> = (batch * 4..batch * 4 + 4)
                .map(|i| (i, Worker::new(square, (i,))))
                .collect();
            for (_, worker) in &workers {
                worker.start().unwrap();
            }
            for (i, worker) in workers {
                assert_eq!(worker.join().unwrap(), i * i);
            }
        }
        for _ in 0..20 {
            let pool = WorkerPool::new(2).unwrap();
            assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        }
        // A worker's process handle is closed as it is reaped, just after
        // its `join` returns.
        eventually(
            PATIENCE,
            || format!("handles: {} before, {} now", handles, handle_count()),
            || handle_count() <= handles,
        );
        assert!(active_children().is_empty());
    }
}

/// Not a test: the parent that `a_killed_parent_takes_its_workers_with_it`
/// kills, with a pool's two workers and a `Worker`'s.
#[test]
#[ignore = "run by a_killed_parent_takes_its_workers_with_it, as a parent to kill"]
fn orphan_maker() {
    if std::env::var_os("FREETHREADING_TEST_ORPHAN_MAKER").is_none() {
        return;
    }
    freethreading::set_backend(freethreading::Backend::Multiprocessing).unwrap();
    let pool = WorkerPool::new(2).unwrap();
    let started = Event::new();
    let _busy = pool
        .apply_async(started_then_nap, (started.clone(),))
        .unwrap();
    let worker = Worker::new(started_then_nap, (Event::new(),));
    worker.start().unwrap();
    assert!(started.wait_timeout(PATIENCE), "the pool's task started");
    let deadline = Instant::now() + PATIENCE;
    while pids_of_children().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // After the harness's "test orphan_maker ... ", which ends no line.
    println!("workers: {:?}", active_children());
    for pid in pids_of_children() {
        println!("worker pid {pid}");
    }
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    std::thread::sleep(Duration::from_secs(600));
}
