//! Primitives shared with workers, at their edges: timeouts that expire in a
//! worker, primitives made inside a worker and sent back, a task that
//! panics holding a lock, several threads of one worker on one lock, waits
//! that a worker blocks in until the program wakes it, big queue items.
//! On the mpi backend each of these crosses ranks (the primitive lives on
//! rank 0, the worker is another rank).

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use freethreading::{
    Barrier, Condition, Event, Lock, Queue, RLock, Semaphore, SimpleQueue, Worker, WorkerPool,
    worker_fn,
};

const SHORT: Duration = Duration::from_millis(100);
const PATIENCE: Duration = Duration::from_secs(30);

/// Tries each primitive with a short timeout while the program holds it:
/// how long each try took, and whether it succeeded.
#[worker_fn]
fn time_out_on_everything(
    lock: Lock,
    rlock: RLock,
    semaphore: Semaphore,
    event: Event,
    queue: Queue<u32>,
    full: Queue<u32>,
) -> Vec<(bool, Duration)> {
    let mut tries = Vec::new();
    let mut timed = |attempt: &mut dyn FnMut() -> bool| {
        let start = Instant::now();
        let ok = attempt();
        tries.push((ok, start.elapsed()));
    };
    timed(&mut || lock.acquire_timeout(SHORT));
    timed(&mut || rlock.acquire_timeout(SHORT));
    timed(&mut || semaphore.acquire_timeout(SHORT));
    timed(&mut || event.wait_timeout(SHORT));
    timed(&mut || queue.get_timeout(SHORT).is_ok());
    timed(&mut || full.put_timeout(7, SHORT).is_ok());
    timed(&mut || full.join_timeout(SHORT));
    tries
}

#[worker_fn]
fn make_primitives() -> (Lock, Event, Queue<String>, RLock, Barrier) {
    let lock = Lock::new();
    lock.acquire();
    let event = Event::new();
    event.set();
    let queue = Queue::new();
    queue.put("made in a worker".to_owned()).expect("room");
    let rlock = RLock::new();
    let barrier = Barrier::new(2).expect("two parties");
    (lock, event, queue, rlock, barrier)
}

#[worker_fn]
fn panic_holding(lock: Lock, rlock: RLock, explicit: Lock) {
    let _guard = lock.lock();
    let _rguard = rlock.lock();
    explicit.acquire();
    panic!("a task panics holding its locks");
}

#[worker_fn]
fn hammer(lock: Lock, counter: Queue<u64>, threads: u64, rounds: u64) {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..rounds {
                    let _guard = lock.lock();
                    // A read-modify-write through the queue: lost updates
                    // or a deadlock if the lock did not exclude.
                    let seen = counter.get().expect("the count is there");
                    counter.put(seen + 1).expect("room for the count");
                }
            });
        }
    });
}

#[worker_fn]
fn wait_for_flag(condition: Condition, flag: Event, ready: SimpleQueue<u8>) -> bool {
    let mut guard = condition.lock();
    ready.put(1).expect("room");
    guard.wait_for_timeout(|| flag.is_set(), PATIENCE)
}

#[worker_fn]
fn hold_rlock_until(rlock: RLock, held: Event, release: Event) -> (bool, bool) {
    rlock.acquire();
    rlock.acquire();
    let owned = rlock.is_owned();
    held.set();
    assert!(release.wait_timeout(PATIENCE), "never told to release");
    rlock.release().expect("first level");
    let still = rlock.is_owned();
    rlock.release().expect("second level");
    (owned, still && !rlock.is_owned())
}

#[worker_fn]
fn meet_twice(barrier: Barrier) -> (usize, usize) {
    let first = barrier
        .wait_timeout(PATIENCE)
        .expect("the first round fills");
    let second = barrier
        .wait_timeout(PATIENCE)
        .expect("the second round fills");
    (first, second)
}

#[worker_fn]
fn take_and_keep(rlock: RLock) {
    rlock.acquire();
}

/// For each lock: whether this worker could take it, and whether it could
/// release it.
#[worker_fn]
fn try_every_rlock(rlocks: Vec<RLock>) -> Vec<(bool, bool)> {
    rlocks
        .iter()
        .map(|rlock| (rlock.try_acquire(), rlock.release().is_ok()))
        .collect()
}

/// Set where a barrier's action ran: in the process of the last party.
static ACTED_HERE: AtomicBool = AtomicBool::new(false);

#[worker_fn]
fn note_the_action() {
    ACTED_HERE.store(true, Ordering::SeqCst);
}

#[worker_fn]
fn failing_action() {
    panic!("the barrier action failed");
}

/// Arms `barrier` with its action from inside a worker.
#[worker_fn]
fn arm(barrier: Barrier) -> bool {
    barrier.with_action(note_the_action).is_ok()
}

/// Meets the others; the arrival index, and whether the action ran here.
#[worker_fn]
fn meet_and_tell(barrier: Barrier) -> (Option<usize>, bool) {
    let index = barrier.wait_timeout(PATIENCE).ok();
    (index, ACTED_HERE.load(Ordering::SeqCst))
}

fn meet_in_workers(barrier: &Barrier, parties: usize) -> Vec<(Option<usize>, bool)> {
    let workers: Vec<_> = (0..parties)
        .map(|_| Worker::new(meet_and_tell, (barrier.clone(),)))
        .collect();
    for worker in &workers {
        worker.start().unwrap();
    }
    workers.into_iter().map(|w| w.join().unwrap()).collect()
}

/// The byte at `i` of a big item.
fn pattern(i: usize) -> u8 {
    u8::try_from(i % 251).expect("under 251")
}

#[worker_fn]
fn send_big(queue: Queue<Vec<u8>>, len: usize) {
    let bytes: Vec<u8> = (0..len).map(pattern).collect();
    queue.put(bytes).expect("room for a big item");
}

/// Makes `queues` queues one after another, puts an item of `len` bytes in
/// each and drops it, item and all, as a task that uses a queue of its own
/// for a while does.
#[worker_fn]
fn fill_and_drop_queues(queues: usize, len: usize) {
    for i in 0..queues {
        let queue = Queue::new();
        queue
            .put(vec![u8::try_from(i % 251).expect("under 251"); len])
            .expect("room");
    }
}

/// This process's resident set, from `/proc` (0 where there is none).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

freethreading_tests::backend_tests! {
    fn timeouts_expire_in_a_worker_while_the_program_holds_everything() {
        let lock = Lock::new();
        let rlock = RLock::new();
        let semaphore = Semaphore::new(0);
        let event = Event::new();
        let queue = Queue::new();
        let full = Queue::bounded(1);
        full.put(1).unwrap();
        lock.acquire();
        rlock.acquire();
        let worker = Worker::new(
            time_out_on_everything,
            (lock.clone(), rlock.clone(), semaphore, event, queue, full.clone()),
        );
        worker.start().unwrap();
        let tries = worker.join().unwrap();
        assert_eq!(tries.len(), 7);
        for (i, (ok, took)) in tries.iter().enumerate() {
            assert!(!ok, "try {i} succeeded while it was held: {tries:?}");
            assert!(*took >= SHORT, "try {i} gave up early: {tries:?}");
            assert!(*took < PATIENCE, "try {i} waited far too long: {tries:?}");
        }
        assert!(lock.locked());
        assert!(rlock.is_owned());
        assert_eq!(full.qsize(), 1);
    }

    fn primitives_made_inside_a_worker_come_back_in_their_state() {
        let worker = Worker::new(make_primitives, ());
        worker.start().unwrap();
        let (lock, event, queue, rlock, barrier) = worker.join().unwrap();
        assert!(lock.locked());
        lock.release().unwrap();
        assert!(lock.try_acquire());
        assert!(event.is_set());
        assert_eq!(queue.get_timeout(PATIENCE).unwrap(), "made in a worker");
        assert!(rlock.try_acquire() && rlock.is_owned());
        assert_eq!(barrier.parties(), 2);
    }

    fn a_task_that_panics_releases_what_its_guards_held_and_nothing_else() {
        let lock = Lock::new();
        let rlock = RLock::new();
        let explicit = Lock::new();
        let pool = WorkerPool::new(1).unwrap();
        let error = pool
            .apply(panic_holding, (lock.clone(), rlock.clone(), explicit.clone()))
            .unwrap_err();
        assert!(error.to_string().contains("a task panics holding its locks"), "{error}");
        // The guards were dropped as the panic unwound: as on threads.
        assert!(!lock.locked());
        assert!(rlock.try_acquire(), "the RLock was left held");
        rlock.release().unwrap();
        // A lock acquired without a guard stays locked, on every backend
        // (its worker lives on); a Lock has no owner, so anyone releases it.
        assert!(explicit.locked());
        explicit.release().unwrap();
        assert!(!explicit.locked());
    }

    fn threads_of_a_worker_and_of_the_program_share_one_lock() {
        let lock = Lock::new();
        let counter = Queue::new();
        counter.put(0_u64).unwrap();
        let worker = Worker::new(hammer, (lock.clone(), counter.clone(), 3, 40));
        worker.start().unwrap();
        for _ in 0..40 {
            let _guard = lock.lock();
            let seen = counter.get().unwrap();
            counter.put(seen + 1).unwrap();
        }
        worker.join().unwrap();
        assert_eq!(counter.get().unwrap(), 160);
        assert!(!lock.locked());
    }

    fn notify_all_wakes_every_worker_waiting_on_a_condition() {
        let condition = Condition::new();
        let flag = Event::new();
        let ready = SimpleQueue::new();
        let workers: Vec<_> = (0..3)
            .map(|_| Worker::new(wait_for_flag, (condition.clone(), flag.clone(), ready.clone())))
            .collect();
        for worker in &workers {
            worker.start().unwrap();
        }
        for _ in 0..3 {
            ready.get_timeout(PATIENCE).expect("a worker holds the condition");
        }
        {
            let guard = condition.lock();
            flag.set();
            guard.notify_all();
        }
        for worker in workers {
            assert!(worker.join().unwrap(), "a worker saw the flag");
        }
    }

    fn an_rlock_held_twice_by_a_worker_is_no_one_elses() {
        let rlock = RLock::new();
        let held = Event::new();
        let release = Event::new();
        let worker = Worker::new(hold_rlock_until, (rlock.clone(), held.clone(), release.clone()));
        worker.start().unwrap();
        assert!(held.wait_timeout(PATIENCE));
        assert!(!rlock.is_owned());
        assert!(!rlock.try_acquire());
        assert!(rlock.release().is_err(), "only the owner releases");
        release.set();
        assert_eq!(worker.join().unwrap(), (true, true));
        assert!(rlock.acquire_timeout(PATIENCE));
        rlock.release().unwrap();
    }

    fn four_workers_meet_at_a_barrier_round_after_round() {
        let barrier = Barrier::new(4).unwrap();
        let workers: Vec<_> = (0..4).map(|_| Worker::new(meet_twice, (barrier.clone(),))).collect();
        for worker in &workers {
            worker.start().unwrap();
        }
        let (mut first, mut second): (Vec<usize>, Vec<usize>) =
            workers.into_iter().map(|w| w.join().unwrap()).unzip();
        first.sort_unstable();
        second.sort_unstable();
        assert_eq!(first, [0, 1, 2, 3]);
        assert_eq!(second, [0, 1, 2, 3]);
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    }

    fn rlocks_kept_by_pool_workers_belong_to_no_other_worker() {
        // Four pool workers each keep an RLock; on MPI they take every
        // worker rank, so the Worker started next shares a rank (and its
        // thread) with one of them, yet is another owner.
        let pool = WorkerPool::new(4).unwrap();
        let rlocks: Vec<RLock> = (0..4).map(|_| RLock::new()).collect();
        pool.map(take_and_keep, rlocks.iter().cloned())
            .unwrap();
        let worker = Worker::new(try_every_rlock, (rlocks.clone(),));
        worker.start().unwrap();
        assert_eq!(worker.join().unwrap(), [(false, false); 4]);
        for rlock in &rlocks {
            assert!(!rlock.is_owned() && !rlock.try_acquire());
        }
    }

    fn a_barrier_action_runs_in_the_worker_that_arrives_last() {
        let barrier = Barrier::new(3).unwrap().with_action(note_the_action).unwrap();
        let seen = meet_in_workers(&barrier, 3);
        let last = seen.iter().find(|(index, _)| *index == Some(2)).expect("a last party");
        assert!(last.1, "the action ran where the last party runs: {seen:?}");
        assert!(seen.iter().all(|(index, _)| index.is_some()), "{seen:?}");
    }

    fn a_barrier_armed_in_a_worker_runs_its_action_and_a_failing_one_breaks_it() {
        let barrier = Barrier::new(2).unwrap();
        let armer = Worker::new(arm, (barrier.clone(),));
        armer.start().unwrap();
        assert!(armer.join().unwrap());
        let seen = meet_in_workers(&barrier, 2);
        let last = seen.iter().find(|(index, _)| *index == Some(1)).expect("a last party");
        assert!(last.1, "the action ran where the last party runs: {seen:?}");
        let failing = Barrier::new(2).unwrap().with_action(failing_action).unwrap();
        let seen = meet_in_workers(&failing, 2);
        assert!(seen.iter().all(|(index, _)| index.is_none()), "broken for both: {seen:?}");
        assert!(failing.broken());
    }

    fn a_big_item_comes_from_a_worker_through_a_queue() {
        let queue = Queue::new();
        let len = 3 << 20;
        let worker = Worker::new(send_big, (queue.clone(), len));
        worker.start().unwrap();
        let bytes = queue.get_timeout(PATIENCE).unwrap();
        worker.join().unwrap();
        assert_eq!(bytes.len(), len);
        assert!(bytes.iter().enumerate().all(|(i, &b)| b == pattern(i)));
    }

    fn primitives_made_and_dropped_inside_a_worker_are_freed_with_what_they_hold() {
        // 256 MiB put in queues that the task drops, one at a time: nothing
        // may keep them, here or anywhere, once the task is done.
        const MIB: usize = 1 << 20;
        let pool = WorkerPool::new(1).unwrap();
        pool.apply(fill_and_drop_queues, (1, MIB)).unwrap();
        let base = resident_bytes();
        pool.apply(fill_and_drop_queues, (32, 8 * MIB)).unwrap();
        let grown = resident_bytes().saturating_sub(base);
        assert!(grown < 96 * MIB as u64, "this process grew by {} MiB", grown >> 20);
    }
}
