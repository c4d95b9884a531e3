//! Every primitive is a handle a worker can be given: `Clone`, `Send`,
//! `Sync`, `Debug`, and a task value (serializable) on every backend; its
//! errors are ordinary error types. Checked at compile time.

// Worker processes of this test binary start here.
freethreading::test_support!();

use std::fmt::Debug;

use freethreading::{
    Barrier, BarrierError, BoundedSemaphore, BrokenBarrier, Condition, ConditionError, Event, Lock,
    LockGuard, OwnerDied, RLock, ReleaseError, Semaphore, SemaphoreGuard, SharedMemoryError,
    TaskValue,
};

fn assert_handle<T: Clone + Send + Sync + Debug + TaskValue>() {}
fn assert_error<T: std::error::Error + Clone + Send + Sync + 'static>() {}
fn assert_send<T: Send>() {}

freethreading_tests::backend_tests! {
    fn primitives_are_shareable_serializable_handles() {
        assert_handle::<Lock>();
        assert_handle::<RLock>();
        assert_handle::<Semaphore>();
        assert_handle::<BoundedSemaphore>();
        assert_handle::<Condition>();
        assert_handle::<Event>();
        assert_handle::<Barrier>();
        assert_handle::<Vec<(Lock, Event)>>();
    }

    fn errors_are_error_types() {
        assert_error::<ReleaseError>();
        assert_error::<ConditionError>();
        assert_error::<BarrierError>();
        assert_error::<BrokenBarrier>();
        assert_error::<SharedMemoryError>();
        assert_error::<OwnerDied<()>>();
        assert_send::<OwnerDied<LockGuard<'static>>>();
    }

    fn guards_without_an_owner_may_move_between_threads() {
        // `RLockGuard` and `ConditionGuard` are not `Send`: their docs hold
        // the `compile_fail` tests.
        assert_send::<LockGuard<'static>>();
        assert_send::<SemaphoreGuard<'static>>();
        let lock = Lock::new();
        let guard = lock.lock();
        std::thread::scope(|s| {
            s.spawn(move || drop(guard));
        });
        assert!(!lock.locked());
    }
}
