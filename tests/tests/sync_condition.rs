//! `Condition`: over its own `RLock`, a given `Lock`, a given `RLock`; waiting with
//! and without timeouts, `wait_for`, exact notify counts, FIFO wake-ups, and
//! every misuse error.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use freethreading::{Condition, ConditionError, Lock, RLock, ReleaseError, Semaphore};

const SHORT: Duration = Duration::from_millis(50);
const GENEROUS: Duration = Duration::from_secs(30);

/// Starts `waiters` threads that each wait once on `condition`, and returns
/// once all of them are queued. Each thread signals `ready` while it still
/// holds the lock, and the main thread then takes the lock: since a waiter
/// enqueues itself before giving the lock up, all are waiting by then.
fn park_waiters<'scope>(
    s: &'scope std::thread::Scope<'scope, '_>,
    condition: &'scope Condition,
    waiters: usize,
    woken: &'scope Semaphore,
    order: &'scope Mutex<Vec<usize>>,
) {
    let ready = Semaphore::new(0);
    for id in 0..waiters {
        let signal = ready.clone();
        s.spawn(move || {
            let mut guard = condition.lock();
            signal.release();
            guard.wait();
            order.lock().expect("order").push(id);
            woken.release();
        });
        // One at a time, so the queue order is the spawn order.
        ready.acquire();
    }
    drop(condition.lock());
}

freethreading_tests::backend_tests! {
    fn a_condition_without_a_lock_gets_its_own_rlock() {
        let condition = Condition::new();
        let outer = condition.lock();
        let inner = condition.try_lock().expect("an RLock is reentrant");
        drop(inner);
        assert_eq!(condition.notify(1), Ok(()), "still held once");
        drop(outer);
        assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
        assert!(format!("{:?}", Condition::default()).contains("RLock"));
    }

    fn a_condition_shares_the_given_lock() {
        let lock = Lock::new();
        let condition = Condition::with_lock(lock.clone());
        {
            let _guard = condition.lock();
            assert!(lock.locked());
            assert!(condition.try_lock().is_none(), "a Lock is not reentrant");
            assert!(lock.locked());
        }
        assert!(!lock.locked());
        lock.acquire();
        assert!(!condition.try_acquire(), "taking the lock directly takes the condition's");
        assert_eq!(condition.notify_all(), Ok(()), "a held Lock may be notified on");
        assert_eq!(condition.release(), Ok(()));
        assert!(!lock.locked());
    }

    fn a_condition_shares_the_given_rlock() {
        let rlock = RLock::new();
        let condition = Condition::with_rlock(rlock.clone());
        let guard = condition.lock();
        assert!(rlock.is_owned());
        rlock.acquire();
        assert_eq!(rlock.release(), Ok(()));
        drop(guard);
        assert!(!rlock.is_owned());
        assert!(format!("{condition:?}").contains("waiting: 0"));
    }

    fn a_timed_wait_returns_false_after_the_timeout_holding_the_lock_again() {
        let lock = Lock::new();
        let condition = Condition::with_lock(lock.clone());
        let mut guard = condition.lock();
        let start = Instant::now();
        assert!(!guard.wait_timeout(SHORT));
        assert!(start.elapsed() >= SHORT);
        assert!(lock.locked());
        drop(guard);

        condition.acquire();
        let start = Instant::now();
        assert_eq!(condition.wait_timeout(SHORT), Ok(false));
        assert!(start.elapsed() >= SHORT);
        assert_eq!(condition.release(), Ok(()));
    }

    fn waiting_gives_up_every_level_of_an_rlock_and_restores_them() {
        let rlock = RLock::new();
        let condition = Condition::with_rlock(rlock.clone());
        let done = AtomicBool::new(false);
        rlock.acquire();
        rlock.acquire();
        condition.acquire();
        std::thread::scope(|s| {
            s.spawn(|| {
                // Only possible once the waiter has given up all three levels.
                let guard = condition.lock_timeout(GENEROUS).expect("the waiter let go");
                done.store(true, Ordering::SeqCst);
                guard.notify(1);
            });
            let satisfied = condition.wait_for_timeout(|| done.load(Ordering::SeqCst), GENEROUS);
            assert_eq!(satisfied, Ok(true));
            assert!(rlock.is_owned());
        });
        for _ in 0..3 {
            assert_eq!(rlock.release(), Ok(()));
        }
        assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
    }

    fn wait_for_returns_once_the_predicate_holds() {
        let condition = Condition::new();
        let count = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..3 {
                    let guard = condition.lock();
                    count.fetch_add(1, Ordering::SeqCst);
                    guard.notify_all();
                }
            });
            let mut guard = condition.lock();
            assert!(guard.wait_for(|| count.load(Ordering::SeqCst) == 3));
            assert!(guard.wait_for_timeout(|| count.load(Ordering::SeqCst) == 3, GENEROUS));
        });
    }

    fn wait_for_with_a_timeout_returns_the_predicates_last_value() {
        let condition = Condition::new();
        let mut guard = condition.lock();
        let calls = AtomicUsize::new(0);
        let start = Instant::now();
        let result = guard.wait_for_timeout(
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                false
            },
            SHORT,
        );
        assert!(!result);
        assert!(start.elapsed() >= SHORT);
        assert!(calls.load(Ordering::SeqCst) >= 1);
        // An already true predicate returns at once, without waiting.
        assert!(guard.wait_for_timeout(|| true, Duration::MAX));
        drop(guard);
        condition.acquire();
        assert_eq!(condition.wait_for_timeout(|| false, SHORT), Ok(false));
        assert_eq!(condition.wait_for_timeout(|| true, SHORT), Ok(true));
        assert_eq!(condition.release(), Ok(()));
    }

    fn notify_wakes_exactly_as_many_waiters_as_asked() {
        let condition = Condition::with_lock(Lock::new());
        let woken = Semaphore::new(0);
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            park_waiters(s, &condition, 3, &woken, &order);
            condition.lock().notify(2);
            woken.acquire();
            woken.acquire();
            assert!(!woken.acquire_timeout(SHORT), "a third waiter woke up");
            assert_eq!(order.lock().expect("order").len(), 2);
            condition.lock().notify(1);
            woken.acquire();
        });
        assert_eq!(order.lock().expect("order").len(), 3);
    }

    fn notify_wakes_the_oldest_waiters_first() {
        let condition = Condition::new();
        let woken = Semaphore::new(0);
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            park_waiters(s, &condition, 3, &woken, &order);
            for _ in 0..3 {
                condition.lock().notify(1);
                woken.acquire();
            }
        });
        assert_eq!(*order.lock().expect("order"), [0, 1, 2]);
    }

    fn notify_all_wakes_every_waiter() {
        let condition = Condition::new();
        let woken = Semaphore::new(0);
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            park_waiters(s, &condition, 4, &woken, &order);
            condition.acquire();
            assert_eq!(condition.notify_all(), Ok(()));
            assert_eq!(condition.release(), Ok(()));
            for _ in 0..4 {
                assert!(woken.acquire_timeout(GENEROUS));
            }
        });
    }

    fn notify_with_nobody_waiting_does_nothing() {
        let condition = Condition::new();
        let guard = condition.lock();
        guard.notify(5);
        guard.notify_all();
        guard.notify(0);
    }

    fn a_producer_wakes_a_consumer() {
        let condition = Condition::new();
        let items = Mutex::new(Vec::new());
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut guard = condition.lock();
                guard.wait_for(|| !items.lock().expect("items").is_empty());
                sender.send(items.lock().expect("items").pop()).expect("main thread listening");
            });
            let guard = condition.lock();
            items.lock().expect("items").push(42);
            guard.notify(1);
            drop(guard);
            assert_eq!(receiver.recv_timeout(GENEROUS), Ok(Some(42)));
        });
    }

    fn waiting_or_notifying_without_the_lock_is_an_error() {
        for condition in [Condition::new(), Condition::with_lock(Lock::new())] {
            assert_eq!(condition.wait(), Err(ConditionError::WaitUnacquired));
            assert_eq!(condition.wait_timeout(SHORT), Err(ConditionError::WaitUnacquired));
            assert_eq!(condition.wait_for(|| true), Err(ConditionError::WaitUnacquired));
            assert_eq!(
                condition.wait_for_timeout(|| true, SHORT),
                Err(ConditionError::WaitUnacquired)
            );
            assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
            assert_eq!(condition.notify_all(), Err(ConditionError::NotifyUnacquired));
        }
        assert_eq!(
            ConditionError::WaitUnacquired.to_string(),
            "cannot wait on un-acquired lock"
        );
        assert_eq!(
            ConditionError::NotifyUnacquired.to_string(),
            "cannot notify on un-acquired lock"
        );
    }

    fn an_rlock_held_by_another_thread_does_not_count_as_held() {
        let condition = Condition::new();
        let _guard = condition.lock();
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
                assert_eq!(condition.wait_timeout(SHORT), Err(ConditionError::WaitUnacquired));
                assert_eq!(condition.release(), Err(ReleaseError::NotOwner));
                assert!(!condition.try_acquire());
                assert!(!condition.acquire_timeout(SHORT));
                assert!(condition.lock_timeout(SHORT).is_none());
            });
        });
    }

    fn releasing_a_condition_nobody_holds_is_the_locks_error() {
        assert_eq!(Condition::new().release(), Err(ReleaseError::NotOwner));
        assert_eq!(
            Condition::with_lock(Lock::new()).release(),
            Err(ReleaseError::Unlocked)
        );
    }

    fn clones_share_the_condition() {
        let condition = Condition::new();
        let copy = condition.clone();
        let woken = Semaphore::new(0);
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            park_waiters(s, &condition, 1, &woken, &order);
            assert!(format!("{condition:?}").contains("waiting: 1"));
            let guard = copy.lock();
            assert!(format!("{guard:?}").starts_with("ConditionGuard"));
            guard.notify(1);
        });
        assert!(woken.try_acquire());
    }
}
