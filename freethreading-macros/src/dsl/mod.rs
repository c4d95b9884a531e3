//! What the function-like macros share: their input (positional arguments,
//! then `key = value` options), the call shape of `spawn!` and `submit!`, and
//! the check that a task expression is a task.

mod call;
mod input;

pub(crate) use call::task_call;
pub(crate) use input::{Input, Spec, parse};

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Expr, Path};

use crate::checks;

/// A task expression, checked to be a `Task`, ready to hand to a runner.
pub(crate) struct BoundTask {
    /// Items to place before the runner call: an inline task's registration.
    pub(crate) items: TokenStream,
    /// The task, passed through `Task::__checked`, to hand to the runner.
    pub(crate) expr: TokenStream,
    /// The spans of the user's first and last tokens of the task.
    pub(crate) range: (Span, Span),
}

impl BoundTask {
    /// `task` checked to be a `Task` by `Task::__checked`, so that a function
    /// without `#[worker_fn]` gets the `Task` trait's message pointing at the
    /// user's tokens, `range`.
    ///
    /// The check's call is spanned over the same tokens as its argument: the
    /// runner's own bound on the task then fails at the same place, for the
    /// same reason, and the compiler shows the error once. The task is written
    /// inside the runner call, not evaluated into a local, whose span would
    /// differ.
    pub(crate) fn new(krate: &Path, task: TokenStream, range: (Span, Span)) -> Self {
        BoundTask {
            items: TokenStream::new(),
            expr: checks::call_spanned(quote!(#krate::Task::__checked), task, range),
            range,
        }
    }
}

/// The user's task expression `task`, checked (see [`BoundTask::new`]).
pub(crate) fn bind_task(krate: &Path, task: &Expr) -> BoundTask {
    let range = checks::span_range(task.to_token_stream());
    BoundTask::new(krate, task.to_token_stream(), range)
}
