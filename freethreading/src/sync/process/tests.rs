//! The process flavors against two mappings of one arena, as two processes
//! would see it, with threads standing in for the processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::shared::test_support::{process, via_second_mapping, waiting_in};
use crate::sync::*;

#[test]
fn a_lock_excludes_across_two_mappings() {
    let lock = process(Lock::new);
    let other = via_second_mapping(&lock);
    let counter = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = [lock.clone(), other]
        .into_iter()
        .map(|lock| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..20_000 {
                    let _guard = lock.lock();
                    // A torn read-modify-write shows up unless the lock excludes.
                    let seen = counter.load(Ordering::Relaxed);
                    counter.store(seen + 1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 40_000);
    assert!(!lock.locked());
}

#[test]
fn a_lock_taken_in_one_mapping_is_released_in_the_other() {
    let lock = process(Lock::new);
    let other = via_second_mapping(&lock);
    assert!(lock.acquire_checked().is_ok());
    assert!(other.locked());
    assert!(!other.try_acquire());
    assert!(!other.acquire_timeout(Duration::from_millis(20)));
    let waiter = thread::spawn(move || other.lock_checked().is_ok());
    thread::sleep(Duration::from_millis(20));
    assert_eq!(lock.release(), Ok(()));
    assert!(waiter.join().unwrap());
    assert!(!lock.locked(), "the waiter's guard was dropped");
}

#[test]
fn an_rlock_is_reentrant_for_its_worker_only() {
    let rlock = process(RLock::new);
    let other = via_second_mapping(&rlock);
    rlock.acquire();
    assert!(other.try_acquire(), "same worker, other mapping");
    assert!(other.is_owned());
    let blocked = {
        let other = other.clone();
        thread::spawn(move || {
            let taken = other.acquire_timeout(Duration::from_millis(30));
            let released = other.release();
            (taken, released)
        })
    };
    assert_eq!(
        blocked.join().unwrap(),
        (false, Err(ReleaseError::NotOwner))
    );
    assert_eq!(rlock.release(), Ok(()));
    assert!(rlock.is_owned());
    assert_eq!(other.release(), Ok(()));
    assert!(!rlock.is_owned());
    assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
    let taker = thread::spawn(move || {
        let _guard = other.lock();
        other.is_owned()
    });
    assert!(taker.join().unwrap());
}

#[test]
fn semaphores_count_permits_across_mappings() {
    let semaphore = process(|| Semaphore::new(1));
    let other = via_second_mapping(&semaphore);
    assert!(other.try_acquire());
    assert!(!semaphore.try_acquire());
    let waiter = thread::spawn(move || other.acquire_timeout(Duration::from_secs(5)));
    thread::sleep(Duration::from_millis(20));
    semaphore.release();
    assert!(waiter.join().unwrap());
    assert_eq!(semaphore.value(), 0);
    semaphore.release_n(3);
    assert_eq!(semaphore.value(), 3);

    let bounded = process(|| BoundedSemaphore::new(2));
    let other = via_second_mapping(&bounded);
    assert_eq!(other.bound(), 2);
    assert_eq!(other.release(), Err(ReleaseError::TooManyReleases));
    assert!(bounded.try_acquire());
    assert_eq!(other.value(), 1);
    assert_eq!(other.release_n(2), Err(ReleaseError::TooManyReleases));
    assert_eq!(other.release(), Ok(()));
    assert_eq!(bounded.value(), 2);
}

#[test]
fn an_event_set_in_one_mapping_wakes_waiters_in_the_other() {
    let event = process(Event::new);
    let other = via_second_mapping(&event);
    assert!(!other.wait_timeout(Duration::from_millis(10)));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let other = other.clone();
            thread::spawn(move || other.wait_timeout(Duration::from_secs(5)))
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    event.set();
    event.clear();
    for waiter in waiters {
        assert!(
            waiter.join().unwrap(),
            "a set then clear still releases waiters"
        );
    }
    assert!(!other.is_set());
    other.set();
    assert!(event.is_set());
    event.wait();
}

#[test]
fn a_condition_notifies_the_oldest_waiters_first() {
    let condition = process(Condition::new);
    let other = via_second_mapping(&condition);
    let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let (other, order) = (other.clone(), Arc::clone(&order));
            let waiter = thread::spawn(move || {
                let mut guard = other.lock();
                let notified = guard.wait_timeout(Duration::from_secs(5));
                order.lock().push(i);
                notified
            });
            // Waiting before the next one starts, so the order is known.
            while waiting_in(&condition.lock()) < i + 1 {
                thread::yield_now();
            }
            waiter
        })
        .collect();
    for woken in 1..=2 {
        condition.lock().notify(1);
        while order.lock().len() < woken {
            thread::yield_now();
        }
        thread::sleep(Duration::from_millis(5));
        assert_eq!(order.lock().len(), woken, "notify(1) wakes one");
    }
    assert_eq!(*order.lock(), [0, 1], "oldest first");
    condition.lock().notify_all();
    for waiter in waiters {
        assert!(waiter.join().unwrap());
    }
    let mut guard = condition.lock();
    assert!(!guard.wait_timeout(Duration::from_millis(10)));
    assert_eq!(waiting_in(&condition), 0, "a timed-out waiter leaves");
    drop(guard);
    assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
}

#[test]
fn a_condition_over_a_lock_works_with_wait_for() {
    let lock = process(Lock::new);
    let condition = Condition::with_lock(lock.clone());
    let other = via_second_mapping(&condition);
    let ready = process(Event::new);
    let flag = via_second_mapping(&ready);
    let producer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        let guard = other.lock();
        flag.set();
        guard.notify(1);
    });
    let mut guard = condition.lock();
    assert!(lock.locked());
    assert!(guard.wait_for_timeout(|| ready.is_set(), Duration::from_secs(5)));
    drop(guard);
    producer.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn a_barrier_releases_its_parties_together_round_after_round() {
    let barrier = process(|| Barrier::new(3)).unwrap();
    let parties: Vec<_> = (0..3)
        .map(|i| {
            let barrier = if i == 0 {
                barrier.clone()
            } else {
                via_second_mapping(&barrier)
            };
            thread::spawn(move || {
                (0..200)
                    .map(|_| barrier.wait().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let indices: Vec<Vec<usize>> = parties.into_iter().map(|p| p.join().unwrap()).collect();
    for round in 0..200 {
        let mut seen: Vec<_> = indices.iter().map(|p| p[round]).collect();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2], "round {round}");
    }
    let other = via_second_mapping(&barrier);
    assert_eq!(other.parties(), 3);
    let started = Instant::now();
    assert_eq!(
        other.wait_timeout(Duration::from_millis(20)),
        Err(BrokenBarrier)
    );
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert!(barrier.broken());
    barrier.reset();
    assert!(!other.broken());
    other.abort();
    assert_eq!(barrier.wait(), Err(BrokenBarrier));
}

#[test]
fn garbage_and_stale_handles_are_errors() {
    let event = process(Event::new);
    let mut bytes = crate::codec::encode(&event).unwrap();
    assert!(crate::codec::decode::<Event>(&bytes).is_ok());
    // Flip a byte of the tag (the last varint): the handle no longer matches.
    let last = bytes.len() - 2;
    bytes[last] ^= 0x10;
    assert!(crate::codec::decode::<Event>(&bytes).is_err());
    // A handle to a lock is not a handle to an event.
    let lock = process(Lock::new);
    let lock_bytes = crate::codec::encode(&lock).unwrap();
    assert!(crate::codec::decode::<Event>(&lock_bytes).is_err());
    for garbage in [
        &[1_u8, 0, 0, 0][..],
        &[1, 0xff, 0xff, 0xff, 0xff, 0x0f, 5, 5],
        &[1; 40],
    ] {
        assert!(crate::codec::decode::<Lock>(garbage).is_err());
    }
}

#[test]
fn a_primitive_never_serialized_is_freed_with_its_last_handle() {
    let lock = process(Lock::new);
    let (offset, tag) = match &lock.flavor {
        crate::sync::lock::Flavor::Process(lock) => lock.shared().raw(),
        crate::sync::lock::Flavor::Thread(_) => unreachable!("made with the process flavor"),
        #[cfg(feature = "mpi")]
        crate::sync::lock::Flavor::Mpi(_) => unreachable!("made with the process flavor"),
    };
    let arena = crate::shared::global().unwrap();
    drop(lock);
    assert!(
        crate::shared::Shared::<super::lock::State>::open(arena, offset, tag).is_err(),
        "the block was freed and its tag cleared"
    );
}

static ACTIONS: AtomicU64 = AtomicU64::new(0);

#[crate::worker_fn(crate = crate, name = "sync::process::tests::count_round")]
fn count_round() {
    ACTIONS.fetch_add(1, Ordering::SeqCst);
}

#[crate::worker_fn(crate = crate, name = "sync::process::tests::fail_round")]
fn fail_round() {
    panic!("the action fails");
}

#[test]
fn a_barrier_action_runs_once_a_round_and_a_failing_one_breaks_it() {
    let barrier = process(|| Barrier::new(2))
        .unwrap()
        .with_action(count_round)
        .unwrap();
    let other = via_second_mapping(&barrier);
    let party = thread::spawn(move || (0..10).all(|_| other.wait().is_ok()));
    assert!((0..10).all(|_| barrier.wait().is_ok()));
    assert!(party.join().unwrap());
    assert_eq!(ACTIONS.load(Ordering::SeqCst), 10);

    let failing = process(|| Barrier::new(1))
        .unwrap()
        .with_action(fail_round)
        .unwrap();
    assert_eq!(failing.wait(), Err(BrokenBarrier));
    assert!(failing.broken());
}
