//! Primitives and queues shared by several `Worker`s, handed over as ordinary
//! arguments: the cross-worker behaviour the Python library's suite lacks.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::time::Duration;

use freethreading::{
    Barrier, Condition, Event, Lock, Queue, RLock, ReleaseError, Semaphore, SimpleQueue, Worker,
    current_worker, get_ident, worker_fn,
};

const PATIENCE: Duration = Duration::from_secs(30);

fn start_all<R: freethreading::TaskValue>(workers: &[Worker<R>]) {
    for worker in workers {
        worker.start().expect("a worker starts");
    }
}

fn join_all<R: freethreading::TaskValue>(workers: Vec<Worker<R>>) -> Vec<R> {
    workers
        .into_iter()
        .map(|w| w.join().expect("the worker's task returns"))
        .collect()
}

#[worker_fn]
fn take_lock(lock: Lock, taken: Event) {
    lock.acquire();
    taken.set();
}

#[worker_fn]
fn release_lock(lock: Lock) -> Result<(), String> {
    lock.release().map_err(|e| e.to_string())
}

#[worker_fn]
fn release_rlock(rlock: RLock) -> bool {
    matches!(rlock.release(), Err(ReleaseError::NotOwner))
}

#[worker_fn]
fn count_down(rlock: RLock, n: u32, log: Queue<(String, u32)>) {
    let _guard = rlock.lock();
    log.put((current_worker().name().to_owned(), n))
        .expect("the log accepts entries");
    if n > 0 {
        count_down(rlock.clone(), n - 1, log);
    }
}

#[worker_fn]
fn consumer(condition: Condition, queue: Queue<u32>) -> u32 {
    let mut guard = condition.lock();
    assert!(
        guard.wait_for_timeout(|| !queue.empty(), PATIENCE),
        "the producer never notified"
    );
    queue.get().expect("an item is there")
}

#[worker_fn]
fn producer(condition: Condition, queue: Queue<u32>, data: u32) {
    let guard = condition.lock();
    queue.put(data).expect("the queue accepts items");
    guard.notify(1);
}

#[worker_fn]
fn occupy(semaphore: Semaphore, inside: Queue<i32>, gate: Event) {
    let _permit = semaphore.access();
    inside.put(1).expect("the log accepts entries");
    assert!(
        gate.wait_timeout(PATIENCE),
        "the test never opened the gate"
    );
    inside.put(-1).expect("the log accepts entries");
}

#[worker_fn]
fn runner(start: Event, checkpoint: Barrier) -> usize {
    assert!(start.wait_timeout(PATIENCE), "the start signal never came");
    checkpoint
        .wait_timeout(PATIENCE)
        .expect("every runner reaches the checkpoint")
}

#[worker_fn]
fn produce(queue: Queue<Option<u64>>, from: u64, count: u64) {
    for i in from..from + count {
        queue.put(Some(i)).expect("the queue accepts items");
    }
}

#[worker_fn]
fn consume(queue: Queue<Option<u64>>) -> Vec<u64> {
    let mut seen = Vec::new();
    while let Some(item) = queue.get().expect("the queue yields items") {
        seen.push(item);
        queue.task_done().expect("one task_done per item");
    }
    queue.task_done().expect("one task_done per item");
    seen
}

#[worker_fn]
fn reply(requests: SimpleQueue<(u64, SimpleQueue<u64>)>) {
    let (n, mailbox) = requests.get().expect("a request arrives");
    mailbox.put(n * 2).expect("the mailbox accepts the reply");
}

/// This worker's identifier, once all of them are alive at once (on MPI a
/// worker's identifier is its rank, which a worker that has ended leaves to
/// the next one).
#[worker_fn]
fn identity(all_alive: Barrier) -> u64 {
    all_alive
        .wait_timeout(PATIENCE)
        .expect("every worker reaches the barrier");
    get_ident()
}

freethreading_tests::backend_tests! {
    fn a_lock_taken_by_one_worker_is_released_by_another() {
        let lock = Lock::new();
        let taken = Event::new();
        let taker = Worker::new(take_lock, (lock.clone(), taken.clone()));
        taker.start().unwrap();
        assert!(taken.wait_timeout(PATIENCE));
        taker.join().unwrap();
        assert!(lock.locked());
        let releaser = Worker::new(release_lock, (lock.clone(),));
        releaser.start().unwrap();
        assert_eq!(releaser.join().unwrap(), Ok(()));
        assert!(!lock.locked());
        let again = Worker::new(release_lock, (lock.clone(),));
        again.start().unwrap();
        assert_eq!(again.join().unwrap(), Err("release unlocked lock".to_owned()));
    }

    fn an_rlock_belongs_to_the_worker_that_took_it() {
        let rlock = RLock::new();
        rlock.acquire();
        let other = Worker::new(release_rlock, (rlock.clone(),));
        other.start().unwrap();
        assert!(other.join().unwrap(), "a non-owner's release is NotOwner");
        rlock.release().unwrap();
    }

    fn recursive_countdowns_of_two_workers_do_not_interleave() {
        let rlock = RLock::new();
        let log = Queue::new();
        let workers: Vec<_> = (0..2)
            .map(|i| {
                Worker::new(count_down, (rlock.clone(), 3, log.clone()))
                    .with_name(format!("Worker-{i}"))
            })
            .collect();
        start_all(&workers);
        join_all(workers);
        let entries: Vec<(String, u32)> = (0..8).map(|_| log.get().unwrap()).collect();
        for run in entries.chunks(4) {
            assert!(run.iter().all(|(name, _)| *name == run[0].0), "{entries:?}");
            assert_eq!(run.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [3, 2, 1, 0]);
        }
    }

    fn a_producer_worker_wakes_a_consumer_worker_through_a_condition() {
        let condition = Condition::new();
        let queue = Queue::new();
        let c = Worker::new(consumer, (condition.clone(), queue.clone())).with_name("Consumer");
        let p = Worker::new(producer, (condition.clone(), queue.clone(), 42)).with_name("Producer");
        c.start().unwrap();
        p.start().unwrap();
        assert_eq!(c.join().unwrap(), 42);
        p.join().unwrap();
    }

    fn a_semaphore_of_two_admits_two_workers_of_three() {
        let semaphore = Semaphore::new(2);
        let inside = Queue::new();
        let gate = Event::new();
        let workers: Vec<_> = (0..3)
            .map(|_| Worker::new(occupy, (semaphore.clone(), inside.clone(), gate.clone())))
            .collect();
        start_all(&workers);
        // Two enter; the third waits for a permit until the gate opens.
        assert_eq!(inside.get_timeout(PATIENCE).unwrap(), 1);
        assert_eq!(inside.get_timeout(PATIENCE).unwrap(), 1);
        assert!(inside.get_timeout(Duration::from_millis(200)).is_err());
        gate.set();
        join_all(workers);
        let mut occupancy = 2;
        let mut peak = 2;
        for _ in 0..4 {
            occupancy += inside.get().unwrap();
            peak = peak.max(occupancy);
        }
        assert_eq!((occupancy, peak), (0, 2));
    }

    fn runners_wait_for_an_event_then_meet_at_a_barrier() {
        let start = Event::new();
        let checkpoint = Barrier::new(3).unwrap();
        let workers: Vec<_> = (0..3)
            .map(|i| {
                Worker::new(runner, (start.clone(), checkpoint.clone()))
                    .with_name(format!("Runner-{i}"))
            })
            .collect();
        start_all(&workers);
        assert_eq!(checkpoint.n_waiting(), 0, "nobody passes the event before it is set");
        start.set();
        let mut indices = join_all(workers);
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2], "each runner has its own arrival index");
        assert!(!checkpoint.broken());
    }

    fn producer_and_consumer_workers_lose_nothing() {
        let queue = Queue::bounded(8);
        let producers: Vec<_> = (0..2)
            .map(|p| Worker::new(produce, (queue.clone(), p * 1000, 500)))
            .collect();
        let consumers: Vec<_> = (0..2).map(|_| Worker::new(consume, (queue.clone(),))).collect();
        start_all(&producers);
        start_all(&consumers);
        join_all(producers);
        for _ in &consumers {
            queue.put(None).unwrap();
        }
        queue.join();
        let mut seen: Vec<u64> = join_all(consumers).into_iter().flatten().collect();
        seen.sort_unstable();
        let expected: Vec<u64> = (0..500).chain(1000..1500).collect();
        assert_eq!(seen, expected);
    }

    fn a_queue_travels_through_a_queue_to_a_running_worker() {
        let requests = SimpleQueue::new();
        let worker = Worker::new(reply, (requests.clone(),));
        worker.start().unwrap();
        let mailbox = SimpleQueue::new();
        requests.put((21, mailbox.clone())).unwrap();
        assert_eq!(mailbox.get().unwrap(), 42);
        worker.join().unwrap();
    }

    fn every_worker_has_its_own_identity() {
        let all_alive = Barrier::new(4).unwrap();
        let workers: Vec<_> = (0..4).map(|_| Worker::new(identity, (all_alive.clone(),))).collect();
        start_all(&workers);
        let mut idents = join_all(workers);
        idents.push(get_ident());
        idents.sort_unstable();
        idents.dedup();
        assert_eq!(idents.len(), 5);
    }
}
