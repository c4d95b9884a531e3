//! The task a pool or executor runs once in each worker before its first job.

use std::fmt;

use crate::task::Task;

/// An initializer with its arguments, copied for each worker.
///
/// On threads each worker gets a clone of the arguments and calls the task;
/// a process flavor will send every child the task's name and the arguments
/// serialized once, which is why [`name`](Self::name) is kept apart.
pub(crate) struct Initializer {
    name: &'static str,
    per_worker: Box<dyn Fn() -> Box<dyn FnOnce() + Send> + Send>,
}

impl Initializer {
    pub(crate) fn new<I>(task: I, args: I::Args) -> Self
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        Initializer {
            name: task.name(),
            per_worker: Box::new(move || {
                let args = args.clone();
                Box::new(move || task.call(args))
            }),
        }
    }

    /// The registered name of the initializer's task.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The call one worker makes, with its own copy of the arguments.
    pub(crate) fn for_worker(&self) -> Box<dyn FnOnce() + Send> {
        (self.per_worker)()
    }
}

impl fmt::Debug for Initializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initializer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
