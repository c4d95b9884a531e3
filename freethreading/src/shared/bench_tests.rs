//! Benchmarks between real processes, as ignored tests because they need the
//! crate-internal arena contract to hand primitives to a child (once the
//! process backend lands they can be plain `Worker`s). Run in release, one
//! at a time:
//!
//! ```sh
//! cargo test --release -p freethreading --lib shared::bench_tests -- --ignored --nocapture --test-threads=1
//! ```
//!
//! Each prints one line: what was measured, and the figure.

use std::time::Instant;

use super::test_support::{child_role, expect_success, process, spawn_child};
use crate::codec::{decode, encode};
use crate::{Barrier, Event, Lock, Queue, SimpleQueue};

const HERE: &str = "shared::bench_tests::";

fn test_path(name: &str) -> String {
    format!("{HERE}{name}")
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_uncontended_lock_in_a_worker_process() {
    const ROUNDS: u32 = 20_000_000;
    if let Some((_, payload)) = child_role() {
        let (lock, report): (Lock, SimpleQueue<f64>) = decode(&payload).unwrap();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                lock.acquire();
                let _ = std::hint::black_box(lock.release());
            }
            best = best.min(started.elapsed().as_secs_f64() * 1e9 / f64::from(ROUNDS));
        }
        report.put(best).unwrap();
        return;
    }
    let payload = process(|| (Lock::new(), SimpleQueue::<f64>::new()));
    let child = spawn_child(
        &test_path("bench_uncontended_lock_in_a_worker_process"),
        "child",
        &encode(&payload).unwrap(),
    );
    let ns = payload.1.get().unwrap();
    expect_success(child);
    println!("uncontended Lock acquire+release in a worker process: {ns:.1} ns (best of 5)");
}

type QueuePayload = (
    Queue<u64>,
    SimpleQueue<u64>,
    Barrier,
    SimpleQueue<u64>,
    bool,
);

/// In a child: produce `PER` items, or consume until a 0 sentinel and
/// report the count.
fn queue_child(role: &str, payload: &[u8]) {
    let (queue, simple_queue, start, done, simple): QueuePayload = decode(payload).unwrap();
    let put = |n| {
        if simple {
            simple_queue.put(n).unwrap();
        } else {
            queue.put(n).unwrap();
        }
    };
    let get = || {
        if simple {
            simple_queue.get().unwrap()
        } else {
            queue.get().unwrap()
        }
    };
    start.wait().unwrap();
    if role == "produce" {
        for n in 1..=PER {
            put(n);
        }
    } else {
        let mut count = 0;
        while get() != 0 {
            count += 1;
        }
        done.put(count).unwrap();
    }
}

const PER: u64 = 2_000_000;

/// Producer processes put `PER` u64 each; consumer processes count until a
/// sentinel. Items per second, from the start barrier to the last count.
fn queue_throughput(producers: usize, consumers: usize, simple: bool, name: &str) -> Option<f64> {
    if let Some((role, payload)) = child_role() {
        queue_child(&role, &payload);
        return None;
    }
    let payload: QueuePayload = process(|| {
        (
            Queue::new(),
            SimpleQueue::new(),
            Barrier::new(producers + consumers + 1).unwrap(),
            SimpleQueue::new(),
            simple,
        )
    });
    let bytes = encode(&payload).unwrap();
    let mut children: Vec<_> = (0..producers)
        .map(|_| spawn_child(&test_path(name), "produce", &bytes))
        .chain((0..consumers).map(|_| spawn_child(&test_path(name), "consume", &bytes)))
        .collect();
    let (queue, simple_queue, start, done, _) = payload;
    start.wait().unwrap();
    let started = Instant::now();
    let consumer_children = children.split_off(producers);
    // Once the producers are gone every item is in: the sentinels go last.
    for producer in children {
        expect_success(producer);
    }
    for _ in 0..consumers {
        if simple {
            simple_queue.put(0).unwrap();
        } else {
            queue.put(0).unwrap();
        }
    }
    let got: u64 = (0..consumers).map(|_| done.get().unwrap()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    for consumer in consumer_children {
        expect_success(consumer);
    }
    let total = PER * producers as u64;
    assert_eq!(got, total);
    #[allow(clippy::cast_precision_loss, reason = "a rate")]
    Some(total as f64 / elapsed)
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_queue_one_to_one() {
    if let Some(rate) = queue_throughput(1, 1, false, "bench_queue_one_to_one") {
        println!(
            "Queue<u64> 1 producer process -> 1 consumer process: {:.2} M items/s",
            rate / 1e6
        );
    }
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_queue_two_to_two() {
    if let Some(rate) = queue_throughput(2, 2, false, "bench_queue_two_to_two") {
        println!(
            "Queue<u64> 2 producer processes -> 2 consumer processes: {:.2} M items/s",
            rate / 1e6
        );
    }
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_simple_queue_one_to_one() {
    if let Some(rate) = queue_throughput(1, 1, true, "bench_simple_queue_one_to_one") {
        println!(
            "SimpleQueue<u64> 1 producer process -> 1 consumer process: {:.2} M items/s",
            rate / 1e6
        );
    }
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_event_wake_latency() {
    const ROUNDS: usize = 20_000;
    if let Some((_, payload)) = child_role() {
        let (there, back): (Event, Event) = decode(&payload).unwrap();
        for _ in 0..ROUNDS {
            there.wait();
            there.clear();
            back.set();
        }
        return;
    }
    let (there, back) = process(|| (Event::new(), Event::new()));
    let child = spawn_child(
        &test_path("bench_event_wake_latency"),
        "child",
        &encode(&(there.clone(), back.clone())).unwrap(),
    );
    let mut round_trips = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        there.set();
        back.wait();
        back.clear();
        round_trips.push(started.elapsed());
    }
    expect_success(child);
    round_trips.sort_unstable();
    let median = round_trips[ROUNDS / 2] / 2;
    println!("Event set -> wake of a waiting process: median {median:?} (half a round trip)");
}

#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_barrier_two_processes() {
    const ROUNDS: u32 = 200_000;
    if let Some((_, payload)) = child_role() {
        let barrier: Barrier = decode(&payload).unwrap();
        for _ in 0..ROUNDS {
            barrier.wait().unwrap();
        }
        return;
    }
    let barrier = process(|| Barrier::new(2)).unwrap();
    let child = spawn_child(
        &test_path("bench_barrier_two_processes"),
        "child",
        &encode(&barrier).unwrap(),
    );
    barrier.wait().unwrap();
    let started = Instant::now();
    for _ in 1..ROUNDS {
        barrier.wait().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    expect_success(child);
    println!(
        "Barrier(2) between two processes: {:.0} rounds/s",
        f64::from(ROUNDS - 1) / elapsed
    );
}

/// A bare futex word in the arena: the floor under any wake-up.
#[repr(C)]
#[derive(Default)]
struct FutexWord(std::sync::atomic::AtomicU32);

// SAFETY: one atomic, valid when zero, no Drop.
unsafe impl super::Object for FutexWord {
    const KIND: u32 = super::arena::kind::BYTES;
}

/// Nanoseconds on the system-wide wall clock, which both processes read.
fn wall_ns() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)
}

type ParkedPayload = (
    Event,
    Event,
    super::Shared<FutexWord>,
    SimpleQueue<u64>,
    SimpleQueue<u64>,
);

/// One-way wake-up latency of a process already asleep in the kernel: an
/// `Event` against a bare futex word, round by round in one run. The
/// parent stamps the wall clock and sends the stamp ahead, then wakes the
/// child, which stamps the clock as it returns from its wait.
#[test]
#[ignore = "a benchmark: run in release with --ignored"]
fn bench_event_wake_latency_parked() {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    const ROUNDS: usize = 2_000;
    if let Some((_, payload)) = child_role() {
        let (there, back, word, stamps, latencies): ParkedPayload = decode(&payload).unwrap();
        for _ in 0..ROUNDS {
            there.wait();
            let woke = wall_ns();
            latencies
                .put(woke.saturating_sub(stamps.get().unwrap()))
                .unwrap();
            there.clear();
            back.set();
            while word.0.load(Ordering::Acquire) == 0 {
                crate::sys::futex::wait(&word.0, 0, None);
            }
            let woke = wall_ns();
            latencies
                .put(woke.saturating_sub(stamps.get().unwrap()))
                .unwrap();
            word.0.store(0, Ordering::Release);
            back.set();
        }
        return;
    }
    let payload: ParkedPayload = process(|| {
        (
            Event::new(),
            Event::new(),
            super::Shared::try_new("a futex word").unwrap(),
            SimpleQueue::new(),
            SimpleQueue::new(),
        )
    });
    let child = spawn_child(
        &test_path("bench_event_wake_latency_parked"),
        "child",
        &encode(&payload).unwrap(),
    );
    let (there, back, word, stamps, latencies) = payload;
    // Long enough for the child to stop spinning and sleep in the kernel.
    let park = || std::thread::sleep(Duration::from_micros(300));
    let (mut event, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        park();
        stamps.put(wall_ns()).unwrap();
        there.set();
        back.wait();
        back.clear();
        event.push(latencies.get().unwrap());
        park();
        stamps.put(wall_ns()).unwrap();
        word.0.store(1, Ordering::Release);
        crate::sys::futex::wake(&word.0, 1);
        back.wait();
        back.clear();
        floor.push(latencies.get().unwrap());
    }
    expect_success(child);
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        Duration::from_nanos(v[v.len() / 2])
    };
    let (event, floor) = (median(&mut event), median(&mut floor));
    println!(
        "wake of a process parked in the kernel, one way, median of {ROUNDS}: Event {event:?}, \
         bare futex {floor:?} (Event / futex = {:.2})",
        event.as_secs_f64() / floor.as_secs_f64()
    );
}

/// Run under `strace -f -c -e trace=futex,kill,getpid`: the uncontended
/// paths below make 100 000 calls each and should add no system call.
#[test]
#[ignore = "a benchmark: run in release with --ignored, under strace"]
fn bench_uncontended_paths_make_no_system_call() {
    const N: u32 = 100_000;
    let (lock, rlock, queue, simple, event, semaphore) = process(|| {
        (
            Lock::new(),
            crate::RLock::new(),
            Queue::<u64>::bounded(10),
            SimpleQueue::<u64>::new(),
            Event::new(),
            crate::Semaphore::new(1),
        )
    });
    for n in 0..N {
        lock.acquire();
        let _ = lock.release();
        rlock.acquire();
        let _ = rlock.release();
        queue.put(u64::from(n)).unwrap();
        assert_eq!(queue.get(), Ok(u64::from(n)));
        queue.task_done().unwrap();
        simple.put(u64::from(n)).unwrap();
        assert_eq!(simple.get(), Ok(u64::from(n)));
        event.set();
        event.clear();
        semaphore.acquire();
        semaphore.release();
    }
    println!("{N} rounds of uncontended operations done");
}
