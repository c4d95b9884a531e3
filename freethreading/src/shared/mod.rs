//! Shared memory for the process flavor of every primitive and queue.
//!
//! One [`Arena`] per process tree: the root creates it before its first
//! child, every child maps the memfd it inherited ([`adopt_arena`]). A
//! primitive's state is an [`Object`] in the arena, reached through a
//! [`Shared`] handle: a validated (arena id, offset, tag) triple when
//! serialized, a plain reference while in use, so using a primitive costs
//! what the same atomics would cost in private memory.
//!
//! Integration with the process backend is three calls:
//! [`arena_fd_for_child`] (the descriptor a child must inherit, creating
//! the arena on first use), [`adopt_arena`] (in a child, before anything
//! else uses the crate), and [`process_died`].

pub(crate) mod arena;
pub(crate) mod members;
pub(crate) mod notify;
pub(crate) mod payload;
pub(crate) mod spin;
pub(crate) mod word_lock;

use std::io;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(crate) use arena::{Arena, Object};

use crate::SharedMemoryError;

static ARENA: OnceLock<&'static Arena> = OnceLock::new();
static CREATING: Mutex<()> = Mutex::new(());

/// This process's arena, created on first use in the root process.
pub(crate) fn global() -> io::Result<&'static Arena> {
    if let Some(arena) = ARENA.get() {
        return Ok(arena);
    }
    let _creating = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(arena) = ARENA.get() {
        return Ok(arena);
    }
    #[cfg(process_backend)]
    let mut inherited = INHERITED.lock().unwrap_or_else(PoisonError::into_inner);
    #[cfg(not(process_backend))]
    let inherited: Option<std::convert::Infallible> = None;
    let arena = match inherited.as_ref() {
        // Kept until it is mapped: a worker that failed to map it (no
        // address space) must not make an arena of its own on a later try.
        #[cfg(process_backend)]
        Some(fd) => {
            let arena = Arena::open(fd.try_clone()?)?;
            *inherited = None;
            arena
        }
        #[cfg(not(process_backend))]
        Some(never) => match *never {},
        None => Arena::create(arena::DEFAULT_LEN)?,
    };
    let arena: &'static Arena = Box::leak(Box::new(arena));
    let _ = ARENA.set(arena);
    Ok(arena)
}

/// The arena descriptor a worker received, until something first needs the
/// arena: mapping it costs a worker that never meets a primitive nothing.
#[cfg(process_backend)]
static INHERITED: Mutex<Option<crate::sys::memfd::Owned>> = Mutex::new(None);

/// The memfd a worker process must inherit, creating the arena on first
/// call. The parent sends it over the worker's channel as it starts it
/// (`process/spawn.rs`); the child passes it to [`adopt_arena`].
#[cfg(process_backend)]
pub(crate) fn arena_fd_for_child() -> io::Result<crate::sys::memfd::Borrowed<'static>> {
    Ok(global()?.fd())
}

/// In a worker process at start-up, before any primitive is made or
/// deserialized: takes the arena inherited from the parent, which every
/// handle the child receives refers to, as this process's arena. It is
/// mapped at its first use (a descriptor that is no arena is an error
/// then). The child's own children inherit it again through
/// [`arena_fd_for_child`].
///
/// # Errors
///
/// This process has an arena already (`AlreadyExists`).
#[cfg(process_backend)]
pub(crate) fn adopt_arena(fd: crate::sys::memfd::Owned) -> io::Result<()> {
    let _creating = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    let mut inherited = INHERITED.lock().unwrap_or_else(PoisonError::into_inner);
    if ARENA.get().is_some() || inherited.is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "this process already has a shared-memory arena",
        ));
    }
    *inherited = Some(fd);
    Ok(())
}

/// Without the process backend no worker is started, so none is handed an
/// arena: these keep its callers compiling.
#[cfg(not(process_backend))]
pub(crate) fn arena_fd_for_child() -> io::Result<()> {
    crate::sys::memfd::unsupported()
}

/// See [`arena_fd_for_child`].
#[cfg(not(process_backend))]
pub(crate) fn adopt_arena(_fd: ()) -> io::Result<()> {
    crate::sys::memfd::unsupported()
}

/// Told by the parent when child `pid`, which started at `start` (clock
/// ticks after boot, 0 if unknown), died without finishing its work
/// (killed, crashed, exited early), before or after reaping it.
///
/// Locks need no telling: their waiters check the owner's liveness every
/// [`word_lock::RECHECK`]. This is for barriers: a party that dies while
/// waiting is noticed the same way, but one that dies between rounds is
/// known only as a pid that took part before; told of it, the barrier breaks
/// rather than wait for it. Do not call it for a worker that exited
/// normally, which may have simply finished its rounds.
pub(crate) fn process_died(pid: u32, start: u64) {
    if let Some(arena) = ARENA.get() {
        // A process that never took a token never took part in anything.
        if let Some(token) = members::token_of(arena, pid, start) {
            arena.record_death(token);
            payload::reclaim(arena, token);
        }
    }
}

/// Gives back the big payloads a reaped worker still held, however it
/// ended: a `bytes::Bytes` it received owns its block, and a worker that
/// exits normally runs no destructors (`exit(0)`), so one kept in a static,
/// a thread-local or a thread would hold its block for the arena's life.
/// Unlike [`process_died`], not a death: barriers are not told. Call it once
/// the worker's replies have all been read (its own result blocks are then
/// freed already).
pub(crate) fn process_exited(pid: u32, start: u64) {
    if let Some(arena) = ARENA.get() {
        if let Some(token) = members::token_of(arena, pid, start) {
            payload::reclaim(arena, token);
        }
    }
}

/// The panic of a primitive that cannot get shared memory where it has no
/// way to return the error.
#[cold]
#[track_caller]
pub(crate) fn no_memory(what: &'static str, error: io::Error) -> ! {
    SharedMemoryError::new(what, error).panic()
}

/// A reference to an object in this process's mapping of an arena.
///
/// Dropping the last `Shared` (it is not `Clone`; flavors hold it behind an
/// `Arc`) frees the block, unless a handle to it was ever serialized: copies
/// in other processes cannot be counted, so an exported object lives as long
/// as the arena.
pub(crate) struct Shared<T: Object> {
    arena: &'static Arena,
    offset: u64,
    tag: u64,
    object: &'static T,
}

impl<T: Object> Shared<T> {
    /// A new, zeroed `T` in `arena`.
    pub(crate) fn new_in(arena: &'static Arena) -> io::Result<Self> {
        let block = arena
            .alloc(T::KIND, std::mem::size_of::<T>() as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "the arena is full"))?;
        Self::open(arena, block.offset, block.tag)
    }

    /// A new `T` in this process's arena, or an error naming the
    /// primitive `what` when there is none or it is full.
    pub(crate) fn try_new(what: &'static str) -> Result<Self, SharedMemoryError> {
        global()
            .and_then(Self::new_in)
            .map_err(|error| SharedMemoryError::new(what, error))
    }

    /// The object at `offset` with `tag` in `arena`, validated.
    pub(crate) fn open(arena: &'static Arena, offset: u64, tag: u64) -> io::Result<Self> {
        let object = arena.resolve::<T>(offset, tag).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stale or invalid handle to shared memory",
            )
        })?;
        Ok(Shared {
            arena,
            offset,
            tag,
            object,
        })
    }

    /// The arena holding the object.
    pub(crate) fn arena(&self) -> &'static Arena {
        self.arena
    }

    /// Where the object starts in the arena: how other arena objects link to it.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The raw handle, for a test that opens it in another mapping.
    #[cfg(all(test, process_backend))]
    pub(crate) fn raw(&self) -> (u64, u64) {
        (self.offset, self.tag)
    }
}

impl<T: Object> std::ops::Deref for Shared<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.object
    }
}

impl<T: Object> Drop for Shared<T> {
    fn drop(&mut self) {
        if !self.arena.is_exported(self.offset) {
            self.arena.free(self.offset);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RawHandle {
    arena: u64,
    offset: u64,
    tag: u64,
}

impl<T: Object> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "mpi")]
        if let Some(why) = crate::mpi::primitive_refused("process-backend primitive") {
            return Err(serde::ser::Error::custom(why));
        }
        self.arena.export(self.offset);
        RawHandle {
            arena: self.arena.id(),
            offset: self.offset,
            tag: self.tag,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Object> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawHandle::deserialize(deserializer)?;
        #[cfg(all(test, process_backend))]
        let mapping = test_support::MAPPING.with(std::cell::Cell::get);
        #[cfg(not(all(test, process_backend)))]
        let mapping = None;
        let arena = match mapping {
            Some(arena) => arena,
            None => global().map_err(D::Error::custom)?,
        };
        if raw.arena != arena.id() {
            return Err(D::Error::custom(
                "a handle to shared memory of another process tree",
            ));
        }
        // Validated first: a garbage handle must leave no mark on whatever
        // block its offset happens to name.
        let shared = Shared::open(arena, raw.offset, raw.tag).map_err(D::Error::custom)?;
        // Reached from a deserialized handle: copies may exist anywhere.
        arena.export(shared.offset);
        Ok(shared)
    }
}

/// Serde for an `Arc` of a process flavor, through the flavor's own impls;
/// use with `#[serde(with = "crate::shared::arc")]`.
pub(crate) mod arc {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer, T: Serialize>(
        value: &Arc<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        T::serialize(value, serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(deserializer).map(Arc::new)
    }
}

/// Whether new primitives take the process flavor: on the process backend
/// (or inside `Backend::Multiprocessing.install`), or in a test that asks for
/// it on this thread.
pub(crate) fn process_flavor() -> bool {
    #[cfg(all(test, process_backend))]
    if test_support::FORCE.with(std::cell::Cell::get) {
        return true;
    }
    // A worker whose `main` forgot `init()` takes over here, before it
    // makes an arena of its own.
    crate::entry::take_over_if_worker();
    // A bad `FREETHREADING_BACKEND` is `init`'s to report; a primitive made
    // anyway gets the thread flavor rather than a panic.
    matches!(
        crate::backend::primitives_backend(),
        Ok(crate::Backend::Multiprocessing)
    )
}

#[cfg(all(test, process_backend))]
pub(crate) mod test_support;

#[cfg(all(test, process_backend, unix))]
mod cross_process_tests;

#[cfg(all(test, process_backend))]
mod handle_tests;

#[cfg(all(test, process_backend, unix))]
mod bench_tests;
