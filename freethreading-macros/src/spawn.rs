//! `spawn!(task(args), name = .., daemon = ..)`: builds a `Worker` for a call
//! of a task, starts it, and evaluates to `Result<Worker<R>, WorkerError>`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::checks;
use crate::dsl::{self, Spec};

const SPEC: Spec = Spec {
    name: "spawn",
    usage: "spawn!(task(args...))",
    options: &["name", "daemon"],
};

pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    match try_expand(tokens) {
        Ok(output) => output,
        Err(error) => error.into_compile_error(),
    }
}

fn try_expand(tokens: TokenStream) -> syn::Result<TokenStream> {
    let dsl::Input {
        positional: [call],
        options,
    } = dsl::parse(&SPEC, tokens)?;
    let call = dsl::task_call("spawn", "spawn!(countdown(3))", call)?;
    let krate = options.crate_path();
    let dsl::BoundTask { expr, range, .. } = dsl::bind_task(&krate, &call.task);
    let args = call.args(range.1);
    let name = options.option("name").map(|name| quote!(.with_name(#name)));
    let daemon = options
        .option("daemon")
        .map(|daemon| quote!(.with_daemon(#daemon)));
    let worker = checks::local("worker");
    // Spanned over the task, like its check: a bound of `Worker::new` that
    // fails because the task is not one is then the same error, shown once.
    let new = checks::call_spanned(quote!(#krate::Worker::new), quote!(#expr, #args), range);
    Ok(quote! {
        {
            let #worker = #new #name #daemon;
            ::core::result::Result::map(#krate::Worker::start(&#worker), |()| #worker)
        }
    })
}
