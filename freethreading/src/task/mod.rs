//! Tasks: functions that a worker can run, found by a stable name.
//!
//! A thread worker calls a task directly. A process worker is the same binary
//! started again, so it cannot receive a function pointer; it receives the
//! task's registered name and serialized arguments, finds the task in the
//! [`registry`] built from every `#[worker_fn]` in the binary, and runs it.
//! Both backends go through the [`Task`] trait, so the bounds that make a task
//! runnable in a child process are checked at compile time on both.

mod closure;
mod error;
pub(crate) mod registry;
pub(crate) mod unwind;

pub use closure::ClosureTask;
pub use error::TaskError;
pub(crate) use error::describe_exit;
pub use registry::{RegistryError, TaskEntry};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::message::{self, Route};

/// A value that can be an argument or a result of a task.
///
/// It must cross a process boundary on the process backend (serde
/// `Serialize + DeserializeOwned`) and a thread boundary on the thread backend
/// (`Send + 'static`). The bound holds on both backends, so a program that
/// builds runs on either.
///
/// Big byte buffers: a `Vec<u8>`, `Box<[u8]>` or `bytes::Bytes` that is a
/// task's one argument, its result or a queue item is copied as it is, and
/// from 256 KiB up it crosses through shared memory; a `Bytes` is then
/// received without a copy, owning its block of shared memory until it is
/// dropped. A struct's `#[serde(with = "serde_bytes")]` field is copied in
/// one go too.
///
/// # Examples
///
/// ```
/// fn assert_task_value<T: freethreading::TaskValue>() {}
/// assert_task_value::<(u64, String, Vec<f32>)>();
/// ```
///
/// ```compile_fail,E0277
/// fn assert_task_value<T: freethreading::TaskValue>() {}
/// assert_task_value::<&'static str>(); // borrowed data cannot leave the process
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent to or from a worker",
    label = "not a `TaskValue`: it must be `Serialize + DeserializeOwned + Send + 'static`",
    note = "task arguments, results and queue items cross to worker processes serialized: \
            derive `serde::Serialize` and `serde::Deserialize` for your own types, and pass \
            owned data"
)]
pub trait TaskValue: Serialize + DeserializeOwned + Send + 'static {}

// Not recommended, so that the error names this trait once, with its message,
// rather than each of `Serialize`, `Deserialize`, `Send` that fails.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + 'static> TaskValue for T {}

/// A function that workers can run on either backend.
///
/// Implemented by [`#[worker_fn]`](crate::worker_fn) for the type it makes
/// of a function, and by [`ClosureTask`] for the inline closures of
/// [`parallel_map!`](crate::parallel_map). Write `#[worker_fn]` rather than
/// implementing it by hand: the attribute also registers the task under its
/// name, which a process worker needs to find it.
///
/// `Args` is a tuple of the function's parameters: `()` for none, `(A,)` for one.
///
/// # Examples
///
/// ```
/// use freethreading::{worker_fn, Task};
///
/// #[worker_fn]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// assert_eq!(add(2, 3), 5); // still callable as a function
/// assert_eq!(add.call((2, 3)), 5);
/// assert!(add.name().ends_with("::add"));
/// ```
///
/// A function without the attribute is rejected when handed to a runner:
///
/// ```compile_fail,E0277
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
/// let worker = freethreading::Worker::new(add, (2, 3));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `#[worker_fn]` task",
    label = "not a task: a worker process could not find it by name",
    note = "add `#[freethreading::worker_fn]` to the function's definition",
    note = "a closure cannot be a task, since a worker process finds tasks by name: move its body \
            into a `#[worker_fn]` function, or map a non-capturing closure with `parallel_map!`, \
            which names and registers it"
)]
pub trait Task: Copy + Send + Sync + 'static {
    /// The function's parameters, as a tuple.
    type Args: TaskValue;
    /// What the function returns.
    type Output: TaskValue;

    /// The name the task is registered under: its module path and function
    /// name, unless `#[worker_fn(name = "...")]` chose another.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Task};
    ///
    /// #[worker_fn]
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// #[worker_fn(name = "docs::cube")]
    /// fn cube(x: u64) -> u64 {
    ///     x * x * x
    /// }
    ///
    /// assert_eq!(square.name(), concat!(module_path!(), "::square"));
    /// assert_eq!(cube.name(), "docs::cube");
    /// ```
    fn name(self) -> &'static str;

    /// Runs the task on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use freethreading::{worker_fn, Task};
    ///
    /// #[worker_fn]
    /// fn add(a: i32, b: i32) -> i32 {
    ///     a + b
    /// }
    ///
    /// assert_eq!(add.call((2, 3)), 5); // the arguments as a tuple
    /// ```
    fn call(self, args: Self::Args) -> Self::Output;

    // Not public API. The macros pass a task expression through it, so that
    // a function without `#[worker_fn]` gets this trait's message at the
    // user's tokens, naming no internal function.
    #[doc(hidden)]
    #[must_use]
    fn __checked(self) -> Self {
        self
    }
}

// Not public API. Used by the registry to run a task from bytes in a worker process.
#[doc(hidden)]
pub trait ErasedTask: Sync {
    /// Decodes the arguments, runs the task catching a panic, encodes the result.
    fn call_serialized(&self, args: &[u8]) -> Result<EncodedOutput, TaskError>;

    /// Decodes a vector of argument tuples, runs the task on each in order
    /// (a panic fails the whole chunk, as on threads), encodes the results.
    fn call_chunk_serialized(&self, chunk: &[u8]) -> Result<EncodedOutput, TaskError>;

    /// As [`call_serialized`](Self::call_serialized), or with `chunk`
    /// [`call_chunk_serialized`](Self::call_chunk_serialized), the result
    /// appended inline to `out` (as it was on an error): what an MPI rank,
    /// which shares no memory, writes straight into its reply.
    fn call_inline_into(
        &self,
        args: &[u8],
        chunk: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), TaskError>;
}

// Not public API. What a task's result became in a worker process: a
// message to send as the reply, whose block, if the result is a big byte
// buffer, is [streamed](message::encode_owned): written once the reply has
// gone out ([`Lent::fill`](message::Lent::fill)), while the parent copies
// it out behind.
#[doc(hidden)]
#[derive(Debug)]
pub struct EncodedOutput(pub(crate) message::Message);

impl<T: Task> ErasedTask for T {
    fn call_serialized(&self, args: &[u8]) -> Result<EncodedOutput, TaskError> {
        serialized_call(self.name(), args, |args| self.call(args))
    }

    fn call_chunk_serialized(&self, chunk: &[u8]) -> Result<EncodedOutput, TaskError> {
        serialized_call(self.name(), chunk, |chunk| call_each(self, chunk))
    }

    fn call_inline_into(
        &self,
        args: &[u8],
        chunk: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), TaskError> {
        let task = self.name();
        let written = if chunk {
            let outputs = decoded_call(task, args, |chunk| call_each(self, chunk))?;
            message::encode_inline_into(&outputs, out)
        } else {
            let output = decoded_call(task, args, |args| self.call(args))?;
            message::encode_inline_into(&output, out)
        };
        written.map_err(|e| TaskError::result(task, e))
    }
}

/// Runs `task` on each of a chunk's arguments, in order.
fn call_each<T: Task>(task: &T, chunk: Vec<T::Args>) -> Vec<T::Output> {
    chunk.into_iter().map(|args| task.call(args)).collect()
}

/// Decodes `bytes` as `run`'s input, runs it catching a panic, encodes its
/// output, taking it (so that a big byte buffer is streamed back); errors
/// name `task`.
fn serialized_call<A, O>(
    task: &str,
    bytes: &[u8],
    run: impl FnOnce(A) -> O,
) -> Result<EncodedOutput, TaskError>
where
    A: DeserializeOwned + 'static,
    O: Serialize + Send + 'static,
{
    let output = decoded_call(task, bytes, run)?;
    // The sender hands the block over once the reply is sent (and the
    // block filled, if streamed); the parent frees it once it has read the
    // reply, or reclaims it with this process's death.
    let encoded =
        message::encode_owned(output, Route::MayShare).map_err(|e| TaskError::result(task, e))?;
    Ok(EncodedOutput(encoded))
}

/// Decodes `bytes` as `run`'s input and runs it, catching a panic; errors
/// name `task`.
fn decoded_call<A: DeserializeOwned + 'static, O>(
    task: &str,
    bytes: &[u8],
    run: impl FnOnce(A) -> O,
) -> Result<O, TaskError> {
    let input: A = message::decode(bytes).map_err(|e| TaskError::arguments(task, e))?;
    unwind::catch(|| run(input))
}
