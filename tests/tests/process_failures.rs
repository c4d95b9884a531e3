//! What only the process backend can survive: workers that abort, exit, are
//! killed or write garbage, results that cannot be read back, a pool that
//! cannot start all its workers, a parent that dies, and thousands of
//! workers that come and go. Each failure must reach
//! the caller as an error, the pool must go on, and nothing may hang or leak.
//!
//! Linux only: they read `/proc` and send signals. Their Windows
//! counterparts are `process_failures_windows.rs`.
#![cfg(target_os = "linux")]

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use freethreading::{PoolError, Worker, WorkerError, WorkerPool, active_children, worker_fn};
use freethreading_tests::process_tests;
use rustix::process::{Resource, Signal, getrlimit, setrlimit};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const PATIENCE: Duration = Duration::from_secs(30);

#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn abort_now() {
    std::process::abort();
}

#[worker_fn]
fn exit_with(code: i32) {
    std::process::exit(code);
}

#[worker_fn]
fn nap(millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    millis
}

#[worker_fn]
fn abort_every_fourth(i: u64) -> u64 {
    if i % 4 == 0 {
        std::process::abort();
    }
    i
}

/// Writes bytes that are no frame to every socket of the worker: its channel.
#[worker_fn]
fn scribble() {
    write_to_channel(&[0xff; 16]);
    std::thread::sleep(Duration::from_secs(5));
}

/// Writes the length of a frame of `claim` bytes to the worker's channel,
/// and none of those bytes: its reply, then nothing, follows.
#[worker_fn]
fn claim_a_frame_of(claim: u32) {
    write_to_channel(&claim.to_le_bytes());
}

/// Writes `bytes` to every socket of this worker process: its channel.
fn write_to_channel(bytes: &[u8]) {
    for entry in std::fs::read_dir("/proc/self/fd").expect("the fd table") {
        let path = entry.expect("an fd entry").path();
        let is_socket = std::fs::read_link(&path)
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        let fd: Option<i32> = path.file_name().and_then(|n| n.to_str()?.parse().ok());
        if let (true, Some(fd)) = (is_socket, fd) {
            // SAFETY: the descriptor is open (just listed) and only written to here.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let _ = rustix::io::write(fd, bytes);
        }
    }
}

/// Serializes like a `u32`, but never deserializes.
#[derive(Debug)]
struct Unreadable;

impl Serialize for Unreadable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(7)
    }
}

impl<'de> Deserialize<'de> for Unreadable {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("Unreadable never deserializes"))
    }
}

/// Never serializes.
#[derive(Debug)]
struct Unwritable;

impl Serialize for Unwritable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("Unwritable never serializes"))
    }
}

impl<'de> Deserialize<'de> for Unwritable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(|_| Unwritable)
    }
}

/// Serializes as its number, except 13, which fails to, and 14, whose
/// `Serialize` panics.
#[derive(Debug)]
struct Picky(u32);

impl Serialize for Picky {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            13 => Err(serde::ser::Error::custom("Picky never serializes 13")),
            14 => panic!("Picky panics on 14"),
            n => serializer.serialize_u32(n),
        }
    }
}

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(Picky)
    }
}

#[worker_fn]
fn picky_square(value: Picky) -> u32 {
    value.0 * value.0
}

#[worker_fn]
fn make_unreadable() -> Unreadable {
    Unreadable
}

#[worker_fn]
fn take_unwritable(_value: Unwritable) {}

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

/// The state letter of process `pid` (`Z` for a zombie), `None` once it is gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.trim_start().chars().next()
}

/// Kills `pids` with SIGKILL and waits until they are dead (zombies or
/// gone): a signal is delivered asynchronously, and a process that is still
/// dying could be handed a job meanwhile, which would then fail with it.
fn kill_and_await(pids: &[u32]) {
    for pid in pids {
        let raw = rustix::process::Pid::from_raw(i32::try_from(*pid).unwrap()).unwrap();
        rustix::process::kill_process(raw, Signal::KILL).unwrap();
    }
    // Dead means a zombie whose every thread is gone: only then can its
    // parent reap it (the leader of a thread group turns zombie first).
    let threads =
        |pid: u32| std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count);
    for pid in pids {
        let dead = || process_state(*pid).is_none_or(|state| state == 'Z') && threads(*pid) <= 1;
        eventually(PATIENCE, || format!("worker {pid} survived SIGKILL"), dead);
    }
}

fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&me.to_string().as_str())
        })
        .collect()
}

/// The most memory this process has held, in KiB (`VmHWM`).
fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("the fd table")
        .count()
}

process_tests! {
    fn a_task_that_aborts_fails_with_the_signal_and_the_pool_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        let error = pool.apply(abort_now, ()).unwrap_err();
        let task = death(&error);
        assert_eq!(task.exit_signal(), Some(Signal::ABORT.as_raw()), "{task}");
        assert!(task.to_string().contains("SIGABRT"), "{task}");
        assert_pool_goes_on(&pool);
        // The replacement starts as soon as the death is known, in the background.
        eventually(
            PATIENCE,
            || format!("the dead worker was replaced: {:?}", active_children()),
            || active_children().len() == 2,
        );
    }

    fn a_task_that_exits_reports_its_status() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(exit_with, (7,)).unwrap_err();
        assert_eq!(death(&error).exit_code(), Some(7));
        assert_pool_goes_on(&pool);

        let worker = Worker::new(exit_with, (3,));
        worker.start().unwrap();
        match worker.join() {
            Err(WorkerError::Task(task)) => {
                assert!(task.is_worker_death());
                assert_eq!(task.exit_code(), Some(3));
                assert!(task.to_string().contains("exited with status 3"), "{task}");
            }
            other => panic!("expected the worker's death, got {other:?}"),
        }
    }

    fn a_worker_killed_from_outside_fails_only_its_task() {
        let pool = WorkerPool::new(2).unwrap();
        let before = pids_of_children();
        let long = pool.apply_async(nap, (60_000,)).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        kill_and_await(&before);
        let started = Instant::now();
        let error = long.get_timeout(PATIENCE).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "noticed at once, not after {:?}",
            started.elapsed()
        );
        assert_eq!(death(&error).exit_signal(), Some(Signal::KILL.as_raw()));
        assert_pool_goes_on(&pool);
        // The idle one is replaced too, by its driver's periodic check if
        // no job came for it.
        eventually(PATIENCE, || "both replaced".to_owned(), || pids_of_children().len() >= 2);
        let after = pids_of_children();
        assert_eq!(after.len(), 2);
        assert!(after.iter().all(|pid| !before.contains(pid)), "new workers");
    }

    fn idle_workers_killed_from_outside_are_replaced_without_a_job() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.apply(square, (2,)).unwrap(), 4);
        let before = pids_of_children();
        assert_eq!(before.len(), 2);
        kill_and_await(&before);
        eventually(
            PATIENCE,
            || format!("replaced: {:?}", pids_of_children()),
            || {
                let now = pids_of_children();
                now.len() == 2 && now.iter().all(|pid| !before.contains(pid))
            },
        );
        assert_pool_goes_on(&pool);
    }

    fn apply_on_workers_killed_while_idle_runs_on_their_replacements() {
        let pool = WorkerPool::new(2).unwrap();
        assert_eq!(pool.apply(square, (2,)).unwrap(), 4);
        kill_and_await(&pids_of_children());
        // No task was running: none fails, and the next ones run.
        assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        assert_pool_goes_on(&pool);
    }

    fn queued_tasks_complete_while_workers_keep_dying() {
        let pool = WorkerPool::new(2).unwrap();
        let results: Vec<_> = (0..40)
            .map(|i| pool.apply_async(abort_every_fourth, (i,)).unwrap())
            .collect();
        for (i, result) in (0_u64..).zip(results) {
            match result.get_timeout(PATIENCE) {
                Ok(value) => assert_eq!(value, i),
                Err(error) => {
                    assert_eq!(i % 4, 0, "task {i} failed: {error}");
                    assert_eq!(death(&error).exit_signal(), Some(Signal::ABORT.as_raw()));
                }
            }
        }
        assert_pool_goes_on(&pool);
    }

    fn a_garbled_reply_is_an_error_and_the_worker_is_replaced() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(scribble, ()).unwrap_err();
        let task = error.task_error().expect("a task error");
        assert!(task.is_serialization(), "{task}");
        assert!(task.to_string().contains("worker process"), "{task}");
        assert_pool_goes_on(&pool);
    }

    fn a_reply_claiming_a_huge_length_fails_at_once_without_the_memory() {
        let pool = WorkerPool::new(1).unwrap();
        // Under the limit of 1 GiB, then over it.
        for claim in [(1 << 30) - 64, u32::MAX - 8] {
            let peak = peak_memory_kib();
            let started = Instant::now();
            let outcome = pool
                .apply_async(claim_a_frame_of, (claim,))
                .unwrap()
                .get_timeout(PATIENCE);
            let grown = peak_memory_kib().saturating_sub(peak);
            assert!(grown < 128 * 1024, "{claim} bytes claimed: {grown} KiB taken");
            let error = outcome.expect_err("a reply of a frame cut short");
            let task = error
                .task_error()
                .unwrap_or_else(|| panic!("not a task error: {error}"));
            assert!(task.is_serialization(), "{task}");
            assert!(task.to_string().contains("worker process"), "{task}");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{claim} bytes claimed: failed after {:?}",
                started.elapsed()
            );
            assert_pool_goes_on(&pool);
        }
    }

    fn an_initializer_claiming_a_huge_frame_breaks_the_pool_without_a_hang() {
        // Its claim comes before the worker's hello, which it swallows.
        let pool = WorkerPool::builder()
            .workers(1)
            .initializer(claim_a_frame_of, ((1 << 30) - 64,))
            .build()
            .unwrap();
        let started = Instant::now();
        let error = pool
            .apply_async(square, (2,))
            .unwrap()
            .get_timeout(PATIENCE)
            .expect_err("a pool whose worker never said hello");
        assert!(!matches!(error, PoolError::Timeout), "{error}");
        assert!(error.to_string().contains("frame"), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "failed after {:?}",
            started.elapsed()
        );
    }

    fn a_result_that_cannot_be_read_back_is_an_error_naming_the_task() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(make_unreadable, ()).unwrap_err();
        let task = error.task_error().expect("a task error");
        assert!(task.is_serialization(), "{task}");
        assert!(task.to_string().contains("make_unreadable"), "{task}");
        assert_pool_goes_on(&pool);
    }

    fn arguments_that_cannot_be_serialized_fail_at_the_call() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(take_unwritable, (Unwritable,)).unwrap_err();
        let task = error.task_error().expect("a task error");
        assert!(task.is_serialization(), "{task}");
        assert!(task.to_string().contains("take_unwritable"), "{task}");
        assert_pool_goes_on(&pool);
        let worker = Worker::new(take_unwritable, (Unwritable,));
        assert!(matches!(worker.start(), Err(WorkerError::Task(e)) if e.is_serialization()));
    }

    fn a_map_item_that_cannot_be_serialized_fails_the_map_and_the_pool_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        for (bad, why) in [(13, "never serializes 13"), (14, "panics on 14")] {
            let items = (0..40).map(|i| Picky(if i == 21 { bad } else { 100 + i }));
            let error = pool.map_chunked(picky_square, items, 4).unwrap_err();
            let task = error.task_error().expect("a task error");
            assert!(task.is_serialization(), "{task}");
            assert!(task.to_string().contains("picky_square"), "{task}");
            assert!(task.to_string().contains(why), "{task}");
        }
        let error = pool.apply(picky_square, (Picky(14),)).unwrap_err();
        let task = error.task_error().expect("a task error");
        assert!(task.is_serialization() && task.to_string().contains("panics on 14"), "{task}");
        let squares = pool.map(picky_square, (0..12).map(Picky)).unwrap();
        assert_eq!(squares, (0..12).map(|i| i * i).collect::<Vec<u32>>());
        assert_pool_goes_on(&pool);
    }

    fn a_killed_parent_leaves_no_orphans() {
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args(["orphan_maker", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("FREETHREADING_TEST_ORPHAN_MAKER", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Read on a thread, so that a parent that never prints fails the
        // test with what it did print, rather than hanging it.
        let stdout = parent.stdout.take().unwrap();
        let (line_tx, line_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let mut pids = Vec::new();
        let mut seen = Vec::new();
        while pids.len() < 2 {
            let line = line_rx.recv_timeout(PATIENCE).unwrap_or_else(|_| {
                panic!("the parent did not print its workers; it printed {seen:?}")
            });
            if let Some(pid) = line.strip_prefix("worker pid ") {
                pids.push(pid.parse::<u32>().unwrap());
            }
            seen.push(line);
        }
        parent.kill().unwrap();
        parent.wait().unwrap();
        for pid in pids {
            eventually(
                Duration::from_secs(10),
                || format!("worker {pid} outlived its parent"),
                || process_state(pid).is_none_or(|state| state == 'Z'),
            );
        }
    }

    fn thousands_of_workers_leave_no_zombies_or_descriptors() {
        // Warm up whatever the first spawn opens once, then count.
        Worker::new(square, (1,)).start().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let descriptors = open_descriptors();
        for i in 0..1_000_u64 {
            let worker = Worker::new(square, (i,));
            worker.start().unwrap();
            assert_eq!(worker.join().unwrap(), i * i);
        }
        for _ in 0..50 {
            let pool = WorkerPool::new(2).unwrap();
            assert_eq!(pool.apply(square, (3,)).unwrap(), 9);
        }
        assert_eq!(open_descriptors(), descriptors, "no descriptor leaked");
        // A worker's process is reaped just after its `join` returns.
        eventually(
            PATIENCE,
            || format!("zombies left: {:?}", zombie_children()),
            || zombie_children().is_empty(),
        );
        assert!(active_children().is_empty());
    }

    fn a_pool_that_runs_out_of_descriptors_fails_to_build_and_leaves_nothing() {
        // What the first pool opens once (the shared memory) is opened here;
        // then room for the channels of two or three workers of eight. The
        // pool's drivers start their children side by side: those started
        // before the failure must be ended and reaped, none left running.
        drop(WorkerPool::new(1).unwrap());
        let descriptors = open_descriptors();
        let before = getrlimit(Resource::Nofile);
        let mut limited = before;
        limited.current = Some(u64::try_from(descriptors).unwrap() + 8);
        setrlimit(Resource::Nofile, limited).expect("lowering RLIMIT_NOFILE");
        let built = WorkerPool::new(8);
        setrlimit(Resource::Nofile, before).expect("restoring RLIMIT_NOFILE");
        match built {
            Err(PoolError::Spawn(error)) => assert_eq!(
                error.raw_os_error(),
                Some(rustix::io::Errno::MFILE.raw_os_error()),
                "{error}"
            ),
            Err(other) => panic!("expected a spawn error, got {other}"),
            Ok(_) => panic!("eight workers started with room for three"),
        }
        eventually(
            PATIENCE,
            || format!("left: {:?}, zombies {:?}", active_children(), zombie_children()),
            || active_children().is_empty() && zombie_children().is_empty(),
        );
        assert_eq!(open_descriptors(), descriptors, "no descriptor leaked");
        assert_pool_goes_on(&WorkerPool::new(8).unwrap());
    }

    fn pools_dropped_as_they_start_leave_no_zombies() {
        // Dropped at once, a pool terminates while its drivers still start
        // their children: each child must be killed and reaped all the same.
        for _ in 0..50 {
            drop(WorkerPool::new(2).unwrap());
        }
        eventually(
            Duration::from_secs(5),
            || format!("zombies left: {:?}", zombie_children()),
            || zombie_children().is_empty(),
        );
    }
}

/// Not a test: the parent that `a_killed_parent_leaves_no_orphans` kills.
#[test]
#[ignore = "run by a_killed_parent_leaves_no_orphans, as a parent to kill"]
fn orphan_maker() {
    if std::env::var_os("FREETHREADING_TEST_ORPHAN_MAKER").is_none() {
        return;
    }
    freethreading::set_backend(freethreading::Backend::Multiprocessing).unwrap();
    let pool = WorkerPool::new(2).unwrap();
    let _busy = pool.apply_async(nap, (60_000,)).unwrap();
    let deadline = Instant::now() + PATIENCE;
    while pids_of_children().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let pids = pids_of_children();
    println!(
        "workers: {:?}, broken: {:?}",
        active_children(),
        pool.apply(square, (2,)).err()
    );
    for pid in pids {
        println!("worker pid {pid}");
    }
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    std::thread::sleep(Duration::from_secs(60));
}
