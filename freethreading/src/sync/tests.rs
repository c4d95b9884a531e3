//! Serde round trips: a handle serialized and read back in this process is
//! the same primitive, not a copy of its state.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let bytes = crate::codec::encode(value).expect("serializing a handle");
    crate::codec::decode(&bytes).expect("resolving a handle in its own process")
}

#[test]
fn a_lock_read_back_is_the_same_lock() {
    let lock = Lock::new();
    let copy = round_trip(&lock);
    copy.acquire();
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!copy.locked());
}

#[test]
fn an_rlock_read_back_is_the_same_rlock() {
    let rlock = RLock::new();
    let copy = round_trip(&rlock.clone());
    copy.acquire();
    assert!(rlock.is_owned());
    assert_eq!(rlock.release(), Ok(()));
    assert!(!copy.is_owned());
}

#[test]
fn semaphores_read_back_share_their_permits() {
    let semaphore = Semaphore::new(2);
    round_trip(&semaphore).acquire();
    assert_eq!(semaphore.value(), 1);

    let bounded = BoundedSemaphore::new(1);
    let copy = round_trip(&bounded);
    assert_eq!(copy.bound(), 1);
    assert!(bounded.try_acquire());
    assert_eq!(copy.value(), 0);
    assert_eq!(copy.release(), Ok(()));
    assert_eq!(bounded.release(), Err(ReleaseError::TooManyReleases));
}

#[test]
fn an_event_read_back_is_the_same_event() {
    let event = Event::new();
    round_trip(&event).set();
    assert!(event.is_set());
}

#[test]
fn a_condition_read_back_shares_its_lock() {
    let lock = Lock::new();
    let condition = Condition::with_lock(lock.clone());
    let copy = round_trip(&condition);
    let guard = copy.lock();
    assert!(lock.locked());
    assert_eq!(condition.notify(1), Ok(()), "holding the shared lock");
    drop(guard);
    assert!(!lock.locked());
}

#[test]
fn a_barrier_read_back_is_the_same_barrier() {
    let barrier = Barrier::new(2).expect("two parties");
    let copy = round_trip(&barrier);
    assert_eq!(copy.parties(), 2);
    copy.abort();
    assert!(barrier.broken());
}

/// On threads a handle names a live primitive of this process; on processes
/// a primitive once serialized stays in shared memory until the program ends
/// (its copies in other processes cannot be counted), so its handle still
/// reads back. Whichever backend `FREETHREADING_BACKEND` names.
#[test]
fn a_handle_to_a_dropped_primitive_is_an_error_on_threads_only() {
    let event = Event::new();
    let bytes = crate::codec::encode(&event).expect("serializing a handle");
    drop(event);
    let read_back = crate::codec::decode::<Event>(&bytes);
    match crate::get_backend() {
        // MPI's rank 0 makes thread-flavor primitives.
        crate::Backend::Threading | crate::Backend::Mpi => assert!(read_back.is_err()),
        crate::Backend::Multiprocessing => {
            let event = read_back.expect("a serialized process primitive lives on");
            event.set();
            assert!(event.is_set());
        }
    }
}
