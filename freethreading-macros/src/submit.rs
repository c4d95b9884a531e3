//! `submit!(executor, task(args))`: submits a call of a task to a
//! `WorkerPoolExecutor`, evaluating to `Result<TaskFuture<R>, ExecutorError>`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::dsl::{self, Spec};

const SPEC: Spec = Spec {
    name: "submit",
    usage: "submit!(executor, task(args...))",
    options: &[],
};

pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    match try_expand(tokens) {
        Ok(output) => output,
        Err(error) => error.into_compile_error(),
    }
}

fn try_expand(tokens: TokenStream) -> syn::Result<TokenStream> {
    let dsl::Input {
        positional: [executor, call],
        options,
    } = dsl::parse(&SPEC, tokens)?;
    let call = dsl::task_call("submit", "submit!(executor, add(2, 3))", call)?;
    let krate = options.crate_path();
    let dsl::BoundTask { expr, range, .. } = dsl::bind_task(&krate, &call.task);
    let args = call.args(range.1);
    Ok(quote! {
        (#executor).submit(#expr, #args)
    })
}
