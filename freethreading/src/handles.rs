//! Serializing a thread-backend primitive as a handle valid in this process.
//!
//! On the thread backend a primitive moves to a worker by value and is never
//! serialized; but it must implement serde's traits so that the same program
//! builds for the process backend. If someone does serialize one, it becomes a
//! `(process id, handle id)` pair that resolves, in this same process and while
//! the primitive lives, to the same shared state. A handle from another process,
//! or to a primitive that is gone, is a deserialization error, never a guess.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

type Entry = Weak<dyn Any + Send + Sync>;

#[derive(Default)]
struct Table {
    next_id: u64,
    by_id: HashMap<u64, Entry>,
    /// The id already given to a live allocation, so re-serializing reuses it.
    by_address: HashMap<usize, u64>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

#[derive(Serialize, Deserialize)]
struct Handle {
    process: u32,
    id: u64,
}

fn export<T: Send + Sync + 'static>(shared: &Arc<T>) -> u64 {
    let mut guard = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    let table = guard.get_or_insert_with(Table::default);
    let address = Arc::as_ptr(shared) as usize;
    if let Some(&id) = table.by_address.get(&address) {
        let same = table
            .by_id
            .get(&id)
            .and_then(Weak::upgrade)
            .is_some_and(|live| {
                Arc::as_ptr(&live).cast::<()>() == Arc::as_ptr(shared).cast::<()>()
            });
        if same {
            return id;
        }
    }
    // Forget entries whose primitive is gone before the table can grow.
    if table.by_id.len() >= 64 && table.by_id.len().is_power_of_two() {
        table.by_id.retain(|_, entry| entry.strong_count() > 0);
        let Table {
            by_id, by_address, ..
        } = table;
        by_address.retain(|_, id| by_id.contains_key(id));
    }
    table.next_id += 1;
    let id = table.next_id;
    let erased: Arc<dyn Any + Send + Sync> = shared.clone();
    table.by_id.insert(id, Arc::downgrade(&erased));
    table.by_address.insert(address, id);
    id
}

fn import<T: Send + Sync + 'static>(id: u64) -> Option<Arc<T>> {
    let guard = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
    let live = guard.as_ref()?.by_id.get(&id)?.upgrade()?;
    live.downcast::<T>().ok()
}

/// Serializes shared state as a handle; use with `#[serde(with = "crate::handles")]`.
pub(crate) fn serialize<S: Serializer, T: Send + Sync + 'static>(
    shared: &Arc<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[cfg(feature = "mpi")]
    if let Some(why) = crate::mpi::primitive_refused(short_type_name::<T>()) {
        return Err(serde::ser::Error::custom(why));
    }
    Handle {
        process: std::process::id(),
        id: export(shared),
    }
    .serialize(serializer)
}

/// Resolves a handle made by [`serialize`] in this process.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Send + Sync + 'static>(
    deserializer: D,
) -> Result<Arc<T>, D::Error> {
    let handle = Handle::deserialize(deserializer)?;
    let here = std::process::id();
    if handle.process != here {
        return Err(D::Error::custom(format_args!(
            "a thread-backend {} from process {} cannot be used in process {here}",
            short_type_name::<T>(),
            handle.process
        )));
    }
    import(handle.id).ok_or_else(|| {
        D::Error::custom(format_args!(
            "stale handle: the {} it refers to no longer exists",
            short_type_name::<T>()
        ))
    })
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Holder(#[serde(with = "super")] Arc<Mutex<u32>>);

    #[test]
    fn a_handle_round_trips_to_the_same_state_and_goes_stale_after_drop() {
        let original = Holder(Arc::new(Mutex::new(7)));
        let bytes = postcard::to_stdvec(&original).unwrap();
        assert_eq!(
            postcard::to_stdvec(&original).unwrap(),
            bytes,
            "id is reused"
        );
        let copy: Holder = postcard::from_bytes(&bytes).unwrap();
        assert!(Arc::ptr_eq(&original.0, &copy.0));
        drop((original, copy));
        // postcard keeps only the kind of a custom error, not its message.
        assert!(postcard::from_bytes::<Holder>(&bytes).is_err());
    }
}
