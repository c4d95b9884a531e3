//! Big payloads: byte buffers of a few MiB as arguments and results of
//! `apply`, a `Worker` and a `map`, a `Queue` item between two workers, and
//! workers that die while a big payload is on its way. On processes these
//! travel through shared memory from 256 KiB up, so the tests also check
//! that nothing is lost or mixed up when many are in flight, and that the
//! memory is given back. The sizes stay small enough for a debug build
//! (the benchmarks time 16 and 64 MiB); the process-only tests pass 64 MiB
//! where the size is the point: memory per side, and blocks reused rather
//! than leaked (the arena is 1 GiB, and a leak would fall back to the
//! socket, never fail, so it is checked from the peak resident size).

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::Mutex;

use bytes::Bytes;
use freethreading::{Queue, Worker, WorkerPool, worker_fn};
use freethreading_tests::{backend_tests, process_tests};
use serde::{Deserialize, Serialize};

const MIB: usize = 1 << 20;

/// A payload whose pages each start with their number and `seed`, so that
/// a block of another payload, or a stale one, never passes for it (cheap
/// to make and compare even in a debug build: a fill and a few stores).
fn payload(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![seed; len];
    for (page, chunk) in bytes.chunks_mut(4096).enumerate() {
        let mark = (page as u64) << 8 | u64::from(seed);
        let n = chunk.len().min(8);
        chunk[..n].copy_from_slice(&mark.to_le_bytes()[..n]);
    }
    bytes
}

/// A checksum of a sample of `bytes`: one in every 509, and the last.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .step_by(509)
        .chain(bytes.last())
        .fold(bytes.len() as u64, |sum, &b| {
            sum.wrapping_mul(31).wrapping_add(u64::from(b))
        })
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn length(bytes: Vec<u8>) -> usize {
    bytes.len()
}

/// The same bytes back, with a fingerprint of what came.
#[worker_fn]
fn echo(bytes: Vec<u8>) -> (u64, Vec<u8>) {
    (fingerprint(&bytes), bytes)
}

/// A boxed slice of `len` bytes made in the worker.
#[worker_fn]
fn make(len: usize, seed: u8) -> Box<[u8]> {
    payload(len, seed).into_boxed_slice()
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn put_big(queue: Queue<Vec<u8>>, len: usize, seed: u8) {
    queue.put(payload(len, seed)).unwrap();
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn get_big(queue: Queue<Vec<u8>>) -> (usize, u64) {
    let item = queue.get().unwrap();
    (item.len(), fingerprint(&item))
}

/// The worker's peak resident size once it holds `bytes`, and their length.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn peak_holding(bytes: Vec<u8>) -> (u64, usize) {
    (peak_resident_bytes(), bytes.len())
}

/// Takes a big payload, then dies.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn die_holding(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() > 1 {
        std::process::abort();
    }
    bytes
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn bytes_length(bytes: Bytes) -> usize {
    bytes.len()
}

/// The same `Bytes` back, with a fingerprint of what came.
#[worker_fn]
fn bytes_echo(bytes: Bytes) -> (u64, Bytes) {
    (fingerprint(&bytes), bytes)
}

/// A `Bytes` of `len` made in the worker.
#[worker_fn]
fn make_bytes(len: usize, seed: u8) -> Bytes {
    Bytes::from(payload(len, seed))
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn bytes_through(there: Queue<Bytes>, back: Queue<Bytes>) -> u64 {
    let item = there.get().unwrap();
    let sum = fingerprint(&item);
    back.put(item).unwrap();
    sum
}

/// What a worker keeps between tasks: `Bytes` it received.
static KEPT: Mutex<Vec<Bytes>> = Mutex::new(Vec::new());

#[worker_fn]
fn keep(bytes: Bytes) {
    KEPT.lock().unwrap().push(bytes);
}

/// The fingerprints of what `keep` kept, and forgets it.
#[worker_fn]
fn kept() -> Vec<u64> {
    KEPT.lock()
        .unwrap()
        .drain(..)
        .map(|bytes| fingerprint(&bytes))
        .collect()
}

/// The same bytes back, as they are: a result streamed from 4 MiB up.
#[worker_fn]
fn echo_vec(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

/// A `Vec<u8>` of `len` made in the worker.
#[worker_fn]
fn make_vec(len: usize, seed: u8) -> Vec<u8> {
    payload(len, seed)
}

/// A result whose bytes past `readable` cannot be read: the worker dies
/// (of `SIGSEGV`) while it streams them back, part of them sent.
#[cfg(target_os = "linux")]
#[worker_fn]
fn cut_short(len: usize, readable: usize) -> Bytes {
    Bytes::from_owner(unreadable::Tail::new(len, readable))
}

/// A user's struct with a byte field marked for serde's bytes path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Frame {
    id: u32,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    name: String,
}

#[worker_fn]
fn frame_echo(frame: Frame) -> (u64, Frame) {
    (fingerprint(&frame.data), frame)
}

backend_tests! {
    fn apply_carries_payloads_over_and_under_the_threshold_each_way() {
        let pool = WorkerPool::new(2).unwrap();
        for (len, seed) in [(100_000, 0), (MIB, 1), (4 * MIB + 3, 2)] {
            let bytes = payload(len, seed);
            assert_eq!(pool.apply(length, (bytes.clone(),)).unwrap(), bytes.len());
            let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&bytes), "{len} bytes arrived whole");
            assert!(back == bytes, "{len} bytes came back whole");
        }
    }

    fn payloads_around_16_kib_arrive_whole_each_way() {
        // The mpi backend sends a message of 16 KiB or more in two parts
        // (`mpi/comm.rs`); with the order's and the reply's few bytes of
        // header, these sizes put each way's message on both sides of that
        // split, and on it.
        let pool = WorkerPool::new(1).unwrap();
        for len in (16 * 1024 - 64)..=(16 * 1024 + 8) {
            let bytes = payload(len, u8::try_from(len % 251).unwrap());
            let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&bytes), "{len} bytes arrived whole");
            assert!(back == bytes, "{len} bytes came back whole");
        }
    }

    fn payloads_around_the_part_size_stay_apart_on_links_sharing_ranks() {
        // Two pools of 4 on the CI's 4 worker ranks: on mpi two links share
        // each rank, and several threads of rank 0 each wait on a link of
        // their own (an `apply` makes its round trip on the caller's
        // thread) while messages cut in two parts (16 KiB up,
        // `mpi/comm.rs`) go both ways at once; beside them, `Worker`s on
        // the same ranks.
        let pools = [WorkerPool::new(4).unwrap(), WorkerPool::new(4).unwrap()];
        let sizes: Vec<usize> = [16 * 1024, 64 * 1024]
            .iter()
            .flat_map(|&at| (at - 24..at + 24).step_by(5))
            .chain([1, 300, 200_000])
            .collect();
        std::thread::scope(|scope| {
            for caller in 0..6_u8 {
                let (pool, sizes) = (&pools[usize::from(caller % 2)], &sizes);
                scope.spawn(move || {
                    for (i, &len) in sizes.iter().enumerate() {
                        let seed = caller.wrapping_mul(41).wrapping_add(u8::try_from(i % 251).unwrap());
                        let bytes = payload(len, seed);
                        let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
                        assert_eq!(got, fingerprint(&bytes), "{len} bytes of {caller} arrived whole");
                        assert!(back == bytes, "{len} bytes of {caller} came back whole");
                    }
                });
            }
            scope.spawn(|| {
                let sent: Vec<Vec<u8>> = sizes.iter().map(|&len| payload(len, 250)).collect();
                let back = pools[0].map(echo_vec, sent.clone()).unwrap();
                assert!(back == sent, "a map's items came back whole and in order");
            });
            for seed in [7_u8, 8] {
                scope.spawn(move || {
                    let worker = Worker::new(echo_vec, (payload(16 * 1024 + usize::from(seed), seed),));
                    worker.start().unwrap();
                    assert!(worker.join().unwrap() == payload(16 * 1024 + usize::from(seed), seed));
                });
            }
        });
    }

    fn many_big_payloads_in_flight_stay_apart() {
        let pool = WorkerPool::new(2).unwrap();
        let sent: Vec<Vec<u8>> = (0..8).map(|seed| payload(MIB / 2 + 4096 * usize::from(seed), seed)).collect();
        let pending: Vec<_> = sent.iter().map(|bytes| pool.apply_async(echo, (bytes.clone(),)).unwrap()).collect();
        for (bytes, result) in sent.iter().zip(pending) {
            let (got, back) = result.get().unwrap();
            assert_eq!(got, fingerprint(bytes));
            assert!(&back == bytes);
        }
        // A map whose items are big: each chunk is one payload.
        let lengths = pool.map(length, sent.clone()).unwrap();
        assert_eq!(lengths, sent.iter().map(Vec::len).collect::<Vec<_>>());
    }

    fn a_worker_takes_and_returns_big_buffers() {
        let worker = Worker::new(make, (2 * MIB, 9));
        worker.start().unwrap();
        let made = worker.join().unwrap();
        assert_eq!(&made[..], &payload(2 * MIB, 9)[..]);
        let worker = Worker::new(length, (payload(2 * MIB, 4),));
        worker.start().unwrap();
        assert_eq!(worker.join().unwrap(), 2 * MIB);
        // Never started: its arguments' memory goes with it.
        drop(Worker::new(length, (payload(2 * MIB, 5),)));
    }

    fn a_big_queue_item_goes_from_one_worker_to_another() {
        let pool = WorkerPool::new(2).unwrap();
        let queue = Queue::new();
        let getter = pool.apply_async(get_big, (queue.clone(),)).unwrap();
        pool.apply(put_big, (queue.clone(), 4 * MIB, 7)).unwrap();
        assert_eq!(getter.get().unwrap(), (4 * MIB, fingerprint(&payload(4 * MIB, 7))));
        // And through this process, both ways, several at once.
        for seed in 0..3 {
            queue.put(payload(MIB, seed)).unwrap();
        }
        for seed in 0..3 {
            assert_eq!(queue.get().unwrap(), payload(MIB, seed));
        }
    }
}

backend_tests! {
    fn big_arguments_streamed_while_copied_arrive_whole_at_every_size() {
        // On processes, owned arguments from 4 MiB up are streamed: the
        // worker copies them out while this process copies them in.
        let pool = WorkerPool::new(2).unwrap();
        for (len, seed) in [(4 * MIB - 1, 1), (4 * MIB, 2), (4 * MIB + 1, 3), (64 * MIB + 4095, 4)] {
            let bytes = payload(len, seed);
            let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&bytes), "{len} bytes arrived whole");
            assert!(back == bytes, "{len} bytes, byte for byte");
            assert_eq!(pool.apply(length, (bytes,)).unwrap(), len);
        }
    }

    fn many_streamed_arguments_in_a_row_and_in_flight_stay_apart() {
        let pool = WorkerPool::new(2).unwrap();
        for seed in 0..12 {
            let bytes = payload(5 * MIB + usize::from(seed), seed);
            let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&bytes));
            assert!(back == bytes, "call {seed}");
        }
        let sent: Vec<Vec<u8>> = (0..6).map(|seed| payload(6 * MIB - 4096 * usize::from(seed), seed + 20)).collect();
        let pending: Vec<_> = sent.iter().map(|bytes| pool.apply_async(echo, (bytes.clone(),)).unwrap()).collect();
        for (bytes, result) in sent.iter().zip(pending) {
            let (got, back) = result.get().unwrap();
            assert_eq!(got, fingerprint(bytes));
            assert!(&back == bytes);
        }
    }
}

backend_tests! {
    fn big_results_streamed_back_arrive_whole_at_every_size() {
        // On processes, results from 4 MiB up are streamed: this process
        // copies them out while the worker copies them in.
        let pool = WorkerPool::new(2).unwrap();
        for (len, seed) in [(4 * MIB - 1, 1), (4 * MIB, 2), (4 * MIB + 1, 3)] {
            let bytes = payload(len, seed);
            assert!(pool.apply(make_vec, (len, seed)).unwrap() == bytes, "{len} bytes made");
            assert!(pool.apply(echo_vec, (bytes.clone(),)).unwrap() == bytes, "{len} bytes back");
        }
        let bytes = payload(64 * MIB + 4095, 4);
        assert!(pool.apply(echo_vec, (bytes.clone(),)).unwrap() == bytes, "64 MiB back");
        // Through the drivers, several in flight; a boxed slice; a `Bytes`;
        // a `Worker`'s one-shot child, which exits once it has written it.
        let pending: Vec<_> = (0..5_u8).map(|seed| pool.apply_async(make_vec, (5 * MIB + usize::from(seed), seed)).unwrap()).collect();
        for (seed, result) in (0..5_u8).zip(pending) {
            assert!(result.get().unwrap() == payload(5 * MIB + usize::from(seed), seed), "call {seed}");
        }
        assert_eq!(&pool.apply(make, (6 * MIB, 5)).unwrap()[..], &payload(6 * MIB, 5)[..]);
        assert_eq!(pool.apply(make_bytes, (6 * MIB, 6)).unwrap(), Bytes::from(payload(6 * MIB, 6)));
        let worker = Worker::new(make_vec, (7 * MIB, 7));
        worker.start().unwrap();
        assert!(worker.join().unwrap() == payload(7 * MIB, 7));
    }
}

backend_tests! {
    fn bytes_cross_apply_map_and_queues_at_every_size_around_the_threshold() {
        let pool = WorkerPool::new(2).unwrap();
        let threshold = 256 * 1024;
        for (len, seed) in [(0, 0), (10, 1), (threshold - 1, 2), (threshold, 3), (threshold + 1, 4), (3 * MIB, 5)] {
            let bytes = Bytes::from(payload(len, seed));
            assert_eq!(pool.apply(bytes_length, (bytes.clone(),)).unwrap(), len);
            let (got, back) = pool.apply(bytes_echo, (bytes.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&bytes), "{len} bytes arrived whole");
            assert_eq!(back, bytes, "{len} bytes came back whole");
            assert_eq!(pool.apply(make_bytes, (len, seed)).unwrap(), bytes);
        }
        let items: Vec<Bytes> = (0..6).map(|seed| Bytes::from(payload(MIB / 3 + usize::from(seed), seed))).collect();
        let lengths = pool.map(bytes_length, items.clone()).unwrap();
        assert_eq!(lengths, items.iter().map(Bytes::len).collect::<Vec<_>>());
        // Through queues: to a worker and back, and within this process.
        let (there, back) = (Queue::new(), Queue::new());
        let through = pool.apply_async(bytes_through, (there.clone(), back.clone())).unwrap();
        there.put(items[0].clone()).unwrap();
        assert_eq!(through.get().unwrap(), fingerprint(&items[0]));
        assert_eq!(back.get().unwrap(), items[0]);
        for item in &items {
            there.put(item.clone()).unwrap();
        }
        for item in &items {
            assert_eq!(&there.get().unwrap(), item);
        }
    }

    fn received_bytes_stay_whole_while_kept_and_other_payloads_pass() {
        let pool = WorkerPool::new(1).unwrap();
        let first = Bytes::from(payload(2 * MIB, 21));
        let second = Bytes::from(payload(2 * MIB, 22));
        pool.apply(keep, (first.clone(),)).unwrap();
        // This process keeps a received one too, while more go each way.
        let held = pool.apply(make_bytes, (2 * MIB, 23)).unwrap();
        for seed in 30..36 {
            let other = Bytes::from(payload(2 * MIB, seed));
            let (got, back) = pool.apply(bytes_echo, (other.clone(),)).unwrap();
            assert_eq!((got, back), (fingerprint(&other), other));
        }
        pool.apply(keep, (second.clone(),)).unwrap();
        assert_eq!(pool.apply(kept, ()).unwrap(), vec![fingerprint(&first), fingerprint(&second)]);
        assert_eq!(held, Bytes::from(payload(2 * MIB, 23)));
        let worker = Worker::new(bytes_length, (first.clone(),));
        worker.start().unwrap();
        assert_eq!(worker.join().unwrap(), first.len());
    }

    fn a_struct_with_a_serde_bytes_field_crosses_whole() {
        let pool = WorkerPool::new(1).unwrap();
        for len in [0, 1000, 300 * 1024] {
            let frame = Frame { id: 7, data: payload(len, 8), name: "seven".to_owned() };
            let (got, back) = pool.apply(frame_echo, (frame.clone(),)).unwrap();
            assert_eq!(got, fingerprint(&frame.data));
            assert_eq!(back, frame);
            let queue = Queue::new();
            queue.put(frame.clone()).unwrap();
            assert_eq!(queue.get().unwrap(), frame);
        }
    }
}

process_tests! {
    fn received_bytes_give_their_shared_memory_back_when_dropped() {
        let pool = WorkerPool::new(1).unwrap();
        let base = peak_resident_bytes();
        // Each received where it lies in shared memory, read, then dropped:
        // ten 64 MiB payloads in blocks of 128 MiB would not fit the 1 GiB
        // arena, nor this process's peak, had any block been kept.
        for seed in 0..10 {
            let bytes = pool.apply(make_bytes, (64 * MIB, seed)).unwrap();
            assert_eq!(fingerprint(&bytes), fingerprint(&payload(64 * MIB, seed)));
        }
        let grown = peak_resident_bytes() - base;
        assert!(grown < 4 * 64 * MIB as u64, "peak grew by {} MiB", grown >> 20);
    }

    fn a_worker_that_dies_holding_received_bytes_gives_them_back() {
        let pool = WorkerPool::new(1).unwrap();
        let bytes = Bytes::from(payload(64 * MIB, 1));
        let keep_and_die = || {
            pool.apply(keep, (bytes.clone(),)).unwrap();
            let _ = pool.apply(die_holding, (vec![0_u8; 2],));
        };
        // Once first, so that the block's pages are already this process's.
        keep_and_die();
        let base = peak_resident_bytes();
        // Each worker keeps the block it received, and dies: its death gives
        // the block back, and the next payload reuses it. Had one been kept,
        // the next would take a fresh block (64 MiB more written here) or,
        // the arena full, go through the socket (as much more again).
        for _ in 0..6 {
            keep_and_die();
        }
        let grown = peak_resident_bytes() - base;
        assert!(grown < 32 * MIB as u64, "peak grew by {} MiB", grown >> 20);
    }

    fn a_worker_that_exits_holding_received_bytes_gives_them_back() {
        let bytes = Bytes::from(payload(64 * MIB, 1));
        let keep_and_exit = || {
            let worker = Worker::new(keep, (bytes.clone(),));
            worker.start().unwrap();
            worker.join().unwrap();
        };
        keep_and_exit();
        let base = peak_resident_bytes();
        // Each one-shot worker keeps the block it received and exits
        // normally (no destructor runs): its reaping gives the block back.
        // `join` returns before the reap, so one more block may be in use.
        for _ in 0..6 {
            keep_and_exit();
        }
        let grown = peak_resident_bytes() - base;
        assert!(grown < 96 * MIB as u64, "peak grew by {} MiB", grown >> 20);
    }

    fn a_retired_pool_worker_holding_received_bytes_gives_them_back() {
        // Each worker serves one job, keeps its block, and is retired.
        let pool = WorkerPool::builder()
            .workers(1)
            .max_tasks_per_worker(1)
            .build()
            .unwrap();
        let bytes = Bytes::from(payload(64 * MIB, 2));
        pool.apply(keep, (bytes.clone(),)).unwrap();
        let base = peak_resident_bytes();
        for _ in 0..6 {
            pool.apply(keep, (bytes.clone(),)).unwrap();
        }
        let grown = peak_resident_bytes() - base;
        // A retired child is reaped in the background: two may be pending.
        assert!(grown < 160 * MIB as u64, "peak grew by {} MiB", grown >> 20);
    }

    fn passing_64_mib_costs_at_most_three_times_it_on_each_side() {
        let pool = WorkerPool::new(1).unwrap();
        // The worker's own memory before any payload, and this process's.
        let (worker_base, _) = pool.apply(peak_holding, (Vec::new(),)).unwrap();
        let base = peak_resident_bytes();
        let bytes = payload(64 * MIB, 1);
        // Moved in, as a caller who is done with its buffer does.
        let (worker_peak, len) = pool.apply(peak_holding, (bytes,)).unwrap();
        assert_eq!(len, 64 * MIB);
        let limit = 3 * 64 * MIB as u64;
        let (ours, theirs) = (peak_resident_bytes() - base, worker_peak - worker_base);
        assert!(ours <= limit, "here {} MiB", ours >> 20);
        assert!(theirs <= limit, "in the worker {} MiB", theirs >> 20);
    }

    fn repeated_big_transfers_reuse_their_memory() {
        let pool = WorkerPool::new(1).unwrap();
        let bytes = payload(64 * MIB, 11);
        for _ in 0..10 {
            assert_eq!(pool.apply(length, (bytes.clone(),)).unwrap(), bytes.len());
        }
        // 10 x 64 MiB (in blocks of 128 MiB) would not fit the 1 GiB arena
        // had any block been kept; the memory this process holds stays a few
        // payloads (the caller's buffer, its clone, the arena's block).
        let peak = peak_resident_bytes();
        assert!(peak < 6 * 64 * MIB as u64, "peak resident {} MiB", peak >> 20);
    }

    fn a_worker_dying_with_a_big_payload_fails_its_task_and_frees_it() {
        let pool = WorkerPool::new(1).unwrap();
        for seed in 0..4 {
            let error = pool.apply(die_holding, (payload(16 * MIB, seed),)).unwrap_err();
            let task = error.task_error().unwrap_or_else(|| panic!("not a task error: {error}"));
            assert!(task.is_worker_death(), "not a worker death: {task}");
        }
        // The blocks of the dead went back: big payloads still fit.
        let bytes = payload(16 * MIB, 99);
        let (got, back) = pool.apply(echo, (bytes.clone(),)).unwrap();
        assert_eq!(got, fingerprint(&bytes));
        assert!(back == bytes);
        let peak = peak_resident_bytes();
        assert!(peak < 6 * 64 * MIB as u64, "peak resident {} MiB", peak >> 20);
    }

    fn a_queue_item_outlives_the_worker_that_put_it() {
        let pool = WorkerPool::new(1).unwrap();
        let queue = Queue::new();
        pool.apply(put_big, (queue.clone(), 4 * MIB, 3)).unwrap();
        let _ = pool.apply(die_holding, (vec![0_u8; 2],));
        assert_eq!(queue.get().unwrap(), payload(4 * MIB, 3));
    }
}

#[cfg(target_os = "linux")]
process_tests! {
    fn a_worker_dying_while_it_streams_a_result_fails_that_job_alone_and_frees_it() {
        let pool = WorkerPool::new(1).unwrap();
        let (len, readable) = (64 * MIB, 40 * MIB);
        let torn = |pool: &WorkerPool| {
            let error = pool.apply(cut_short, (len, readable)).unwrap_err();
            let task = error.task_error().unwrap_or_else(|| panic!("not a task error: {error}"));
            assert!(task.is_worker_death(), "not a worker death: {task}");
            // A good one after it, from the same size class: it reuses the
            // torn one's block if that was freed.
            let made = pool.apply(make_bytes, (len, 8)).unwrap();
            assert_eq!(fingerprint(&made), fingerprint(&payload(len, 8)));
        };
        torn(&pool);
        let base = peak_resident_bytes();
        for _ in 0..4 {
            torn(&pool);
        }
        // Each torn block left in use would have sent the next good result
        // to a fresh block, whose 64 MiB this process reads.
        let grown = peak_resident_bytes() - base;
        assert!(grown < 32 * MIB as u64, "peak grew by {} MiB", grown >> 20);
        // Jobs queued behind a torn one are not blamed for its death: they
        // run on the replacement.
        let torn = pool.apply_async(cut_short, (len, readable)).unwrap();
        let behind: Vec<_> = (0..4).map(|n| pool.apply_async(length, (vec![1; n],)).unwrap()).collect();
        assert!(torn.get().unwrap_err().task_error().is_some_and(freethreading::TaskError::is_worker_death));
        for (n, result) in behind.into_iter().enumerate() {
            assert_eq!(result.get().unwrap(), n);
        }
        // A `Worker`'s child too.
        let worker = Worker::new(cut_short, (8 * MIB, 6 * MIB));
        worker.start().unwrap();
        let error = worker.join().unwrap_err();
        let task = error.task_error().unwrap_or_else(|| panic!("not a task error: {error}"));
        assert!(task.is_worker_death(), "not a worker death: {task}");
    }
}

/// Memory whose tail cannot be read, for a result that kills the worker
/// that streams it (Linux: anonymous `mmap`, then `mprotect`).
#[cfg(target_os = "linux")]
mod unreadable {
    use rustix::mm::{MapFlags, MprotectFlags, ProtFlags, mmap_anonymous, mprotect, munmap};

    /// `len` bytes, the first `readable` of them (a whole number of pages)
    /// a pattern, the rest unreadable.
    pub(crate) struct Tail {
        base: *mut std::ffi::c_void,
        len: usize,
    }

    // SAFETY: the mapping is this value's alone and only ever read.
    unsafe impl Send for Tail {}

    impl Tail {
        pub(crate) fn new(len: usize, readable: usize) -> Self {
            assert!(readable % 4096 == 0 && readable <= len);
            // SAFETY: a fresh private anonymous mapping, at an address the
            // kernel picks, so it touches no other memory.
            let base = unsafe {
                mmap_anonymous(
                    std::ptr::null_mut(),
                    len,
                    ProtFlags::READ | ProtFlags::WRITE,
                    MapFlags::PRIVATE,
                )
            }
            .expect("mmap");
            // SAFETY: `readable` bytes at the start of the mapping, this
            // value's alone; then its tail made unreadable, which no Rust
            // reference covers.
            unsafe {
                std::ptr::write_bytes(base.cast::<u8>(), 0x5a, readable);
                mprotect(
                    base.cast::<u8>().add(readable).cast(),
                    len - readable,
                    MprotectFlags::empty(),
                )
                .expect("mprotect");
            }
            Tail { base, len }
        }
    }

    impl AsRef<[u8]> for Tail {
        fn as_ref(&self) -> &[u8] {
            // SAFETY: `len` bytes of the mapping, which lives as long as
            // this; reading its tail faults, which is the point (the
            // worker dies as it copies them).
            unsafe { std::slice::from_raw_parts(self.base.cast::<u8>(), self.len) }
        }
    }

    impl Drop for Tail {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`, no longer borrowed.
            let _ = unsafe { munmap(self.base, self.len) };
        }
    }
}

/// This process's peak resident set, from `/proc` (0 where there is none).
fn peak_resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}
