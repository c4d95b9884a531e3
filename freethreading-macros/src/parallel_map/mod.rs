//! `parallel_map!(task, items, workers = n, chunksize = c)`: maps a task over
//! items on a pool and evaluates to `Result<Vec<Output>, PoolError>`, in order.
//!
//! The task is a `#[worker_fn]` (any expression of a `Task` type) or an inline
//! closure, which [`closure`] turns into a registered task. Without `workers`
//! the call runs on the lazily started default pool; with it, on a pool made
//! for the call and dropped after. A closure of several parameters maps over
//! tuples of arguments (the pool's `starmap`).

mod closure;

use proc_macro2::TokenStream;
use quote::quote;

use self::closure::TaskExpr;
use crate::checks;
use crate::dsl::{self, Spec};
use crate::errors::Errors;

const SPEC: Spec = Spec {
    name: "parallel_map",
    usage: "parallel_map!(task, items)",
    options: &["workers", "chunksize"],
};

pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    match try_expand(tokens) {
        Ok(output) => output,
        Err(error) => error.into_compile_error(),
    }
}

fn try_expand(tokens: TokenStream) -> syn::Result<TokenStream> {
    let dsl::Input {
        positional: [task, items],
        options,
    } = dsl::parse(&SPEC, tokens)?;
    let krate = options.crate_path();
    let mut errors = Errors::default();

    let task = closure::classify(task);
    // A closure of several parameters maps over tuples of its arguments.
    let star = matches!(&task, TaskExpr::Closure(closure) if closure.inputs.len() > 1);
    let chunksize = options.option("chunksize");
    if let (true, Some(key)) = (star, options.option_key("chunksize")) {
        errors.push(syn::Error::new(
            key.span(),
            "`chunksize` applies to tasks of one parameter; a closure of several \
             parameters maps over tuples with the pool's `starmap`, which does not chunk",
        ));
    }
    let bound = match task {
        TaskExpr::Closure(closure) => {
            closure::InlineTask::new(closure).map(|inline| inline.expand(&krate))
        }
        TaskExpr::Other(task) => Ok(dsl::bind_task(&krate, &task)),
    };
    let dsl::BoundTask {
        items: registration,
        expr: task,
        ..
    } = errors.finish_with(bound)?;

    let items_local = checks::local("items");
    let pool = checks::local("pool");
    let error = checks::local("error");
    let run = match (star, chunksize) {
        (true, _) => quote!(#pool.starmap(#task, #items_local)),
        (false, Some(chunksize)) => quote!(#pool.map_chunked(#task, #items_local, #chunksize)),
        (false, None) => quote!(#pool.map(#task, #items_local)),
    };
    // A `match` rather than `and_then`: the task expression stays out of a
    // closure, where a `?` or `return` in it would change meaning.
    let run = match options.option("workers") {
        None => quote! {{
            let #pool = #krate::__private::default_pool();
            #run
        }},
        Some(workers) => quote! {
            match #krate::WorkerPool::new(#workers) {
                ::core::result::Result::Ok(#pool) => #run,
                ::core::result::Result::Err(#error) => ::core::result::Result::Err(#error),
            }
        },
    };
    Ok(quote! {
        {
            #registration
            let #items_local = #items;
            #run
        }
    })
}
