//! Real processes: each test spawns its own test binary as a child sharing
//! this process's arena (see [`test_support`](super::test_support)), hands
//! it primitives as serialized handles, and checks what the two see. The
//! death tests kill the child with SIGKILL (or let it abort in the middle of
//! a queue operation) and check that the survivors neither hang nor see a
//! broken queue.

use std::thread;
use std::time::{Duration, Instant};

use super::test_support::{child_role, expect_success, kill, process, spawn_child, waiting_in};
use crate::codec::{decode, encode};
use crate::{Barrier, BrokenBarrier, Condition, Event, Lock, Queue, RLock, Semaphore, SimpleQueue};

const HERE: &str = "shared::cross_process_tests::";

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

fn park_forever() -> ! {
    loop {
        thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn primitives_passed_to_a_child_work_there() {
    type Payload = (
        Queue<u64>,
        SimpleQueue<u64>,
        Event,
        Barrier,
        Semaphore,
        SimpleQueue<Lock>,
    );
    if let Some((_, payload)) = child_role() {
        let (jobs, results, go, barrier, permits, locks): Payload = decode(&payload).unwrap();
        go.wait();
        assert!(barrier.wait().is_ok());
        let mut sum = 0;
        while let Some(n) = jobs.get().ok().filter(|&n| n != 0) {
            sum += n;
            jobs.task_done().unwrap();
        }
        jobs.task_done().unwrap();
        results.put(sum).unwrap();
        permits.release();
        // A lock handed over while this process was already running.
        let lock = locks.get().unwrap();
        lock.acquire();
        results.put(1).unwrap();
        return;
    }
    let payload: Payload = process(|| {
        (
            Queue::new(),
            SimpleQueue::new(),
            Event::new(),
            Barrier::new(2).unwrap(),
            Semaphore::new(0),
            SimpleQueue::new(),
        )
    });
    let child = spawn_child(
        &format!("{HERE}primitives_passed_to_a_child_work_there"),
        "worker",
        &encode(&payload).unwrap(),
    );
    let (jobs, results, go, barrier, permits, locks) = payload;
    go.set();
    assert!(barrier.wait().is_ok());
    for n in 1..=1000 {
        jobs.put(n).unwrap();
    }
    jobs.put(0).unwrap();
    jobs.join();
    assert_eq!(results.get(), Ok(500_500));
    assert!(permits.acquire_timeout(Duration::from_secs(20)));
    let lock = process(Lock::new);
    locks.put(lock.clone()).unwrap();
    assert_eq!(results.get(), Ok(1));
    assert!(lock.locked(), "the child took the lock it was sent");
    expect_success(child);
}

#[test]
fn a_lock_held_by_a_killed_process_is_taken_over_and_reported() {
    if let Some((_, payload)) = child_role() {
        let (lock, rlock): (Lock, RLock) = decode(&payload).unwrap();
        lock.acquire();
        rlock.acquire();
        rlock.acquire();
        park_forever();
    }
    let pair = process(|| (Lock::new(), RLock::new()));
    let child = spawn_child(
        &format!("{HERE}a_lock_held_by_a_killed_process_is_taken_over_and_reported"),
        "holder",
        &encode(&pair).unwrap(),
    );
    let (lock, rlock) = pair;
    wait_for("the child to hold both locks", || {
        lock.locked() && format!("{rlock:?}").contains("count: 2")
    });
    assert!(
        !lock.acquire_timeout(Duration::from_millis(60)),
        "held by a live process"
    );
    let waiter = {
        let lock = lock.clone();
        thread::spawn(move || lock.lock_checked().is_err())
    };
    thread::sleep(Duration::from_millis(30));
    kill(child);
    let killed = Instant::now();
    assert!(waiter.join().unwrap(), "the waiter is told the owner died");
    assert!(
        killed.elapsed() < Duration::from_secs(2),
        "noticed in {:?}",
        killed.elapsed()
    );
    assert!(
        !lock.locked(),
        "the waiter's guard, in the error, was dropped"
    );
    assert!(
        lock.lock_checked().is_ok(),
        "a clean release before the next take"
    );
    assert!(rlock.acquire_checked().is_err(), "the RLock too");
    assert!(rlock.is_owned());
    assert_eq!(rlock.release(), Ok(()));
    assert!(
        !rlock.is_owned(),
        "taken over at one level, not the dead one's two"
    );
}

#[test]
fn a_process_dying_mid_put_or_mid_get_leaves_the_queue_consistent() {
    if let Some((role, payload)) = child_role() {
        let queue: Queue<u64> = decode(&payload).unwrap();
        if role == "put" {
            crate::queue::process_crash_at(1);
            let _ = queue.put(3);
        } else {
            crate::queue::process_crash_at(2);
            let _ = queue.get();
        }
        unreachable!("the crash point aborts the process");
    }
    let queue = process(Queue::<u64>::new);
    queue.put(1).unwrap();
    queue.put(2).unwrap();
    let bytes = encode(&queue).unwrap();
    let test = format!("{HERE}a_process_dying_mid_put_or_mid_get_leaves_the_queue_consistent");
    for role in ["put", "get"] {
        let mut child = spawn_child(&test, role, &bytes);
        let status = child.wait().unwrap();
        assert!(!status.success(), "{role}: the child aborted");
        assert_eq!(queue.unfinished_tasks_for_test(), 2, "{role}");
    }
    // The next lock holder rolls back the dead operations.
    assert_eq!(queue.get(), Ok(1));
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get(), Ok(2));
    assert!(queue.try_get().is_err());
    assert_eq!(queue.unfinished_tasks_for_test(), 2);
    queue.put(4).unwrap();
    assert_eq!(queue.get(), Ok(4));
    assert!(queue.empty());
}

#[test]
fn a_process_dying_while_it_grows_a_queue_leaves_it_consistent() {
    if let Some((_, payload)) = child_role() {
        let queue: Queue<u64> = decode(&payload).unwrap();
        crate::queue::process_crash_at(3);
        // Small items until one needs the next segment: that `put` aborts
        // once it has allocated and linked it, before counting its item.
        for i in 0.. {
            let _ = queue.put(i);
        }
        unreachable!("the crash point aborts the process");
    }
    let queue = process(Queue::<u64>::new);
    queue.put(u64::MAX).unwrap();
    let test = format!("{HERE}a_process_dying_while_it_grows_a_queue_leaves_it_consistent");
    let status = spawn_child(&test, "grow", &encode(&queue).unwrap())
        .wait()
        .unwrap();
    assert!(!status.success(), "the child aborted");
    let put_by_child = queue.qsize() - 1;
    assert!(put_by_child > 10, "it filled a segment first");
    // The next producer undoes the dead `put`; a consumer never saw it.
    queue.put(7).unwrap();
    assert_eq!(queue.get(), Ok(u64::MAX));
    for i in 0..put_by_child as u64 {
        assert_eq!(queue.get(), Ok(i));
    }
    assert_eq!(queue.get(), Ok(7));
    assert!(queue.try_get().is_err());
    assert_eq!(queue.unfinished_tasks_for_test(), put_by_child + 2);
    // And the queue goes on growing across segments.
    for i in 0..20_000 {
        queue.put(i).unwrap();
    }
    for i in 0..20_000 {
        assert_eq!(queue.get(), Ok(i));
    }
    assert!(queue.empty());
}

#[test]
fn a_process_dying_as_it_leaves_a_segment_loses_no_item() {
    const ITEMS: u64 = 10_000;
    if let Some((_, payload)) = child_role() {
        let queue: Queue<u64> = decode(&payload).unwrap();
        crate::queue::process_crash_at(4);
        // Gets until one crosses into the next segment: that `get` aborts
        // after counting its item, before it closes its journal.
        loop {
            let _ = queue.get();
        }
    }
    let queue = process(|| Queue::<u64>::bounded(20_000));
    for i in 0..ITEMS {
        queue.put(i).unwrap();
    }
    let test = format!("{HERE}a_process_dying_as_it_leaves_a_segment_loses_no_item");
    let status = spawn_child(&test, "get", &encode(&queue).unwrap())
        .wait()
        .unwrap();
    assert!(!status.success(), "the child aborted");
    // Its last get counted, then undone by the next consumer: the item is
    // still there, and the segment it was leaving was not freed under it.
    let taken_by_child = ITEMS - queue.qsize() as u64 - 1;
    assert!(taken_by_child > 10, "it crossed a segment");
    for i in taken_by_child..ITEMS {
        assert_eq!(queue.get(), Ok(i));
    }
    assert!(queue.try_get().is_err());
    for i in 0..3 * ITEMS {
        queue.put(i).unwrap();
        assert_eq!(queue.get(), Ok(i));
    }
    assert!(queue.empty());
}

#[test]
fn a_barrier_breaks_when_a_waiting_party_dies() {
    if let Some((_, payload)) = child_role() {
        let barrier: Barrier = decode(&payload).unwrap();
        let _ = barrier.wait();
        park_forever();
    }
    let barrier = process(|| Barrier::new(3)).unwrap();
    let child = spawn_child(
        &format!("{HERE}a_barrier_breaks_when_a_waiting_party_dies"),
        "party",
        &encode(&barrier).unwrap(),
    );
    wait_for("the child to wait", || barrier.n_waiting() == 1);
    let waiter = {
        let barrier = barrier.clone();
        thread::spawn(move || barrier.wait())
    };
    wait_for("both to wait", || barrier.n_waiting() == 2);
    kill(child);
    let killed = Instant::now();
    assert_eq!(waiter.join().unwrap(), Err(BrokenBarrier));
    assert!(killed.elapsed() < Duration::from_secs(2));
    assert!(barrier.broken());
    barrier.reset();
    assert!(!barrier.broken(), "mended once the survivors left");
}

#[test]
fn a_condition_notify_skips_a_waiter_that_died() {
    if let Some((_, payload)) = child_role() {
        let condition: Condition = decode(&payload).unwrap();
        let mut guard = condition.lock();
        guard.wait();
        park_forever();
    }
    let condition = process(Condition::new);
    let child = spawn_child(
        &format!("{HERE}a_condition_notify_skips_a_waiter_that_died"),
        "waiter",
        &encode(&condition).unwrap(),
    );
    wait_for("the child to wait", || waiting_in(&condition) == 1);
    kill(child);
    let local = {
        let condition = condition.clone();
        thread::spawn(move || condition.lock().wait_timeout(Duration::from_secs(20)))
    };
    wait_for("the local waiter", || waiting_in(&condition) == 2);
    condition.lock().notify(1);
    assert!(local.join().unwrap(), "notify(1) reached the living waiter");
    assert_eq!(waiting_in(&condition), 0);
}

#[test]
fn a_queue_survives_producers_and_consumers_killed_at_random() {
    if let Some((role, payload)) = child_role() {
        let queue: Queue<u64> = decode(&payload).unwrap();
        if role == "producer" {
            for n in 0.. {
                queue.put(n).unwrap();
            }
        }
        loop {
            let _ = queue.get();
            // Slow enough that the parent kills it before the queue drains.
            for _ in 0..2000 {
                std::hint::spin_loop();
            }
        }
    }
    let queue = process(Queue::<u64>::new);
    let bytes = encode(&queue).unwrap();
    let test = format!("{HERE}a_queue_survives_producers_and_consumers_killed_at_random");
    let producer = spawn_child(&test, "producer", &bytes);
    wait_for("items", || queue.qsize() >= 20_000);
    kill(producer);
    let put = queue.qsize();
    let consumer = spawn_child(&test, "consumer", &bytes);
    wait_for("a few gets", || queue.qsize() < put - 1000);
    kill(consumer);
    // Whatever either was doing when killed, what is left is a run of
    // consecutive items, as many as `qsize` says.
    let left = queue.qsize();
    assert!(left < put);
    if left == 0 {
        return;
    }
    let first = queue.get().unwrap();
    for expected in first + 1..first + left as u64 {
        assert_eq!(queue.try_get(), Ok(expected));
    }
    assert!(queue.empty());
    assert!(queue.try_get().is_err());
}

#[test]
fn a_queue_stays_whole_when_producers_and_consumers_die_while_they_run() {
    const ROUNDS: u32 = 6;
    if let Some((role, payload)) = child_role() {
        let (queue, round): (Queue<(u32, u64)>, u32) = decode(&payload).unwrap();
        // Paced, the consumer slower, so that items pile up but not too
        // many: a few tens of thousands a round.
        let pause = |hints| (0..hints).for_each(|_| std::hint::spin_loop());
        if role == "producer" {
            for n in 0.. {
                queue.put((round, n)).unwrap();
                pause(100);
            }
        }
        loop {
            let _ = queue.get();
            pause(300);
        }
    }
    let queue = process(Queue::<(u32, u64)>::new);
    let test = format!("{HERE}a_queue_stays_whole_when_producers_and_consumers_die_while_they_run");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mut random = u64::from(seed) | 1;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    // Each round a producer and a consumer run at once, both killed at a
    // random moment, most likely in the middle of a `put` or a `get`; the
    // next round's pair repairs what they left.
    for round in 0..ROUNDS {
        let bytes = encode(&(queue.clone(), round)).unwrap();
        let producer = spawn_child(&test, "producer", &bytes);
        let consumer = spawn_child(&test, "consumer", &bytes);
        // Longer than a take-over of a dead owner's lock, so that each
        // round's pair gets to work.
        thread::sleep(Duration::from_millis(80 + next() % 80));
        if next() % 2 == 0 {
            kill(producer);
            kill(consumer);
        } else {
            kill(consumer);
            kill(producer);
        }
    }
    // FIFO, nothing torn, nothing twice: what is left is the end of one
    // round's run and then whole runs of the later rounds, each run
    // consecutive from where it starts, and as many items as `qsize` says.
    // (Whether the kills landed inside a `put` or a `get` is up to chance;
    // the crash-point tests above hit each point on purpose.)
    let left = queue.qsize();
    let mut items = Vec::with_capacity(left);
    while let Ok(item) = queue.try_get() {
        items.push(item);
    }
    assert_eq!(items.len(), left, "seed {seed}");
    for pair in items.windows(2) {
        let ((r0, n0), (r1, n1)) = (pair[0], pair[1]);
        let consecutive = r1 == r0 && n1 == n0 + 1;
        let next_round = r1 > r0 && n1 == 0;
        assert!(consecutive || next_round, "seed {seed}: {pair:?}");
    }
    queue.put((ROUNDS, 0)).unwrap();
    assert_eq!(
        queue.get(),
        Ok((ROUNDS, 0)),
        "seed {seed}: the queue goes on"
    );
}

#[test]
fn a_process_adopts_one_arena_only() {
    if child_role().is_some() {
        // The child adopted its parent's arena in `child_role`: a second
        // adoption, or its own arena, is refused.
        let fd = super::arena_fd_for_child()
            .unwrap()
            .try_clone_to_owned()
            .unwrap();
        let error = super::adopt_arena(fd).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        return;
    }
    let fd = super::arena_fd_for_child().unwrap();
    assert_eq!(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        std::os::fd::AsRawFd::as_raw_fd(&super::arena_fd_for_child().unwrap()),
        "one arena per process"
    );
    // A descriptor that is not an arena is refused.
    let not_arena = std::fs::File::open("/proc/self/stat").unwrap();
    assert!(super::arena::Arena::open(not_arena.into()).is_err());
    expect_success(spawn_child(
        &format!("{HERE}a_process_adopts_one_arena_only"),
        "child",
        &[],
    ));
}

#[test]
fn a_barrier_breaks_when_a_party_is_reported_dead_between_rounds() {
    if let Some((_, payload)) = child_role() {
        let barrier: Barrier = decode(&payload).unwrap();
        barrier.wait().unwrap();
        park_forever();
    }
    let barrier = process(|| Barrier::new(2)).unwrap();
    let child = spawn_child(
        &format!("{HERE}a_barrier_breaks_when_a_party_is_reported_dead_between_rounds"),
        "party",
        &encode(&barrier).unwrap(),
    );
    let pid = child.id();
    let start = crate::sys::pid::start_time(pid).unwrap();
    assert!(barrier.wait().is_ok(), "one round together");
    kill(child);
    // What the process backend does when it reaps a worker that crashed.
    super::process_died(pid, start);
    let started = Instant::now();
    assert_eq!(barrier.wait(), Err(BrokenBarrier));
    assert!(started.elapsed() < Duration::from_secs(2));
}
