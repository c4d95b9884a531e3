//! The call shape `task(arg, ...)` that `spawn!` and `submit!` take: the task
//! and its arguments written as a plain call, turned into a task and a tuple.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

/// A call of a task: `countdown(3)` is the task `countdown` and `(3,)`.
pub(crate) struct TaskCall {
    pub(crate) task: Expr,
    args: Punctuated<Expr, Token![,]>,
}

impl TaskCall {
    /// The arguments as a tuple, `()`, `(a,)` or `(a, b)`, spanned at `last`,
    /// the last token of the task.
    ///
    /// The runner expects the tuple as the task's `Args`: when the task is not
    /// a task, that fails for the same reason as its check, at the same place
    /// (for a task named by one identifier), so it is shown once; when the
    /// arguments do not fit, the error points at the task, whose parameters
    /// they must match.
    pub(crate) fn args(&self, last: Span) -> TokenStream {
        let args = self.args.iter();
        let mut tuple = Group::new(Delimiter::Parenthesis, quote!(#(#args,)*));
        tuple.set_span(last);
        TokenTree::Group(tuple).into()
    }
}

/// Reads `expr` as a call of a task by path, or says what to write instead.
pub(crate) fn task_call(macro_name: &str, example: &str, expr: Expr) -> syn::Result<TaskCall> {
    let hint = match expr {
        Expr::Call(call) if matches!(*call.func, Expr::Path(_)) => {
            return Ok(TaskCall {
                task: *call.func,
                args: call.args,
            });
        }
        Expr::Path(ref path) => format!(
            "; write the call with its arguments, even none: `{}(...)`",
            path.to_token_stream()
        ),
        Expr::Closure(_) => "; a closure has no name for a worker process to find it by \
                              (only `parallel_map!` registers inline closures): make it a \
                              `#[worker_fn]` function and call that"
            .to_owned(),
        Expr::MethodCall(_) => {
            "; a method cannot be a task: make it a free `#[worker_fn]` function".to_owned()
        }
        _ => String::new(),
    };
    Err(syn::Error::new_spanned(
        expr,
        format!("`{macro_name}!` expects a call of a `#[worker_fn]` task, like `{example}`{hint}"),
    ))
}
