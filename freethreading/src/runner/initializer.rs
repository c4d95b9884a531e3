//! The task a pool or executor runs once in each worker before its first job.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::codec::message::Route;
use crate::task::{Task, TaskError};

/// One worker's call of the initializer; a panic comes back as the error.
pub(crate) type InitCall = Box<dyn FnOnce() -> Result<(), TaskError> + Send>;

/// Makes one worker's [`InitCall`], each with its own copy of the arguments:
/// shared by a thread crew's workers and the replacements they start.
pub(crate) type InitCalls = Arc<dyn Fn() -> InitCall + Send + Sync>;

/// An initializer with its arguments, copied for each worker.
///
/// On threads each worker gets a clone of the arguments and calls the task;
/// on processes every child gets the task's name and the arguments
/// serialized once, here.
pub(crate) struct Initializer {
    name: &'static str,
    per_worker: InitCalls,
    serialized: Result<Vec<u8>, TaskError>,
}

impl Initializer {
    pub(crate) fn new<I>(task: I, args: I::Args) -> Self
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        let name = task.name();
        // Inline: every worker reads the same bytes, and the first reader
        // of a shared block frees it.
        let serialized = crate::codec::encode_arguments(name, &args, Route::InlineOnly)
            .map(|encoded| encoded.wire);
        let args = Mutex::new(args);
        Initializer {
            name,
            serialized,
            per_worker: Arc::new(move || {
                // Locked only to clone: the arguments need not be `Sync`.
                let args = args.lock().clone();
                Box::new(move || crate::strict::call(task, args))
            }),
        }
    }

    /// The registered name of the initializer's task.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The arguments, serialized for a worker process.
    pub(crate) fn serialized_args(&self) -> Result<&[u8], TaskError> {
        self.serialized.as_deref().map_err(Clone::clone)
    }

    /// What makes each worker's call, with its own copy of the arguments.
    pub(crate) fn calls(&self) -> InitCalls {
        Arc::clone(&self.per_worker)
    }
}

impl fmt::Debug for Initializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initializer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
