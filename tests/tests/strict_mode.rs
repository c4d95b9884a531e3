//! Strict mode (on in test binaries): on threads, arguments, results and
//! queue items make the round trip they make on processes, so a value that
//! cannot cross a process boundary fails on both backends alike.

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{PutError, Queue, SimpleQueue, Worker, WorkerError, WorkerPool, worker_fn};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// A value whose `Serialize` fails when it holds `poisoned`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Fragile {
    poisoned: bool,
}

impl Serialize for Fragile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.poisoned {
            return Err(serde::ser::Error::custom(
                "this value refuses to be serialized",
            ));
        }
        let mut fields = serializer.serialize_struct("Fragile", 1)?;
        fields.serialize_field("poisoned", &false)?;
        fields.end()
    }
}

/// A value with a field a worker process never sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct WithSkipped {
    kept: u32,
    #[serde(skip)]
    skipped: u32,
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn check(value: Fragile) -> bool {
    value.poisoned
}

#[worker_fn]
fn poisoned_result() -> Fragile {
    Fragile { poisoned: true }
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn skipped_part(value: WithSkipped) -> (u32, u32) {
    (value.kept, value.skipped)
}

freethreading_tests::backend_tests! {
    fn arguments_that_cannot_be_serialized_fail_the_call() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(check, (Fragile { poisoned: true },)).unwrap_err();
        assert!(error.to_string().contains("refuses to be serialized"), "{error}");
        assert!(!pool.apply(check, (Fragile { poisoned: false },)).unwrap());
        // Refused at `start`, before any worker runs, on both backends.
        let worker = Worker::new(check, (Fragile { poisoned: true },));
        let error = worker.start().unwrap_err();
        assert!(matches!(error, WorkerError::Task(_)), "{error}");
        assert!(error.to_string().contains("refuses to be serialized"), "{error}");
    }

    fn a_result_that_cannot_be_serialized_fails_the_call() {
        let pool = WorkerPool::new(1).unwrap();
        let error = pool.apply(poisoned_result, ()).unwrap_err();
        assert!(error.to_string().contains("refuses to be serialized"), "{error}");
        let error = pool.starmap(poisoned_result, vec![(); 3]).unwrap_err();
        assert!(error.to_string().contains("refuses to be serialized"), "{error}");
    }

    fn a_skipped_field_arrives_as_its_default_on_both_backends() {
        let pool = WorkerPool::new(1).unwrap();
        let value = WithSkipped { kept: 7, skipped: 9 };
        assert_eq!(pool.apply(skipped_part, (value.clone(),)).unwrap(), (7, 0));
        assert_eq!(pool.map(skipped_part, vec![value]).unwrap(), [(7, 0)]);
    }

    fn a_queue_refuses_an_item_that_cannot_be_serialized() {
        let queue = Queue::new();
        match queue.put(Fragile { poisoned: true }) {
            Err(PutError::Encode(item, why)) => {
                assert!(item.poisoned);
                assert!(!why.is_empty());
            }
            other => panic!("expected an encoding error, got {other:?}"),
        }
        assert!(queue.empty());
        let simple = SimpleQueue::new();
        assert!(matches!(simple.put(Fragile { poisoned: true }), Err(PutError::Encode(..))));
        let skipping = SimpleQueue::new();
        skipping.put(WithSkipped { kept: 1, skipped: 2 }).unwrap();
        assert_eq!(skipping.get().unwrap(), WithSkipped { kept: 1, skipped: 0 });
    }
}
