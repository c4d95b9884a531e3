//! `parallel_map!(task, items, workers = n, chunksize = c)`: maps a task over
//! items on a pool and evaluates to `Result<Vec<Output>, PoolError>`, in order.
//!
//! The task is a `#[worker_fn]` (any expression of a `Task` type) or an inline
//! closure, which [`closure`] turns into a registered task. Without `workers`
//! the call runs on the lazily started default pool; with it, on a pool made
//! for the call and dropped after. A closure of several parameters maps over
//! tuples of arguments (the pool's `starmap`), as does a named task of several
//! (chosen by its argument type: `__private::ArgsFromItems`); `chunksize` picks the chunked
//! form of either.

mod closure;

use proc_macro2::TokenStream;
use quote::quote;

use self::closure::TaskExpr;
use crate::checks;
use crate::dsl::{self, Spec};

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
    let task = closure::classify(task);
    // A closure of several parameters maps over tuples of its arguments.
    let star = matches!(&task, TaskExpr::Closure(closure) if closure.inputs.len() > 1);
    let dsl::BoundTask {
        items: registration,
        expr: task,
        ..
    } = match task {
        TaskExpr::Closure(closure) => closure::InlineTask::new(closure)?.expand(&krate),
        TaskExpr::Other(task) => dsl::bind_task(&krate, &task),
    };

    let items_local = checks::local("items");
    let pool = checks::local("pool");
    let error = checks::local("error");
    let run = match (star, options.option("chunksize")) {
        // Method resolution picks the range path for an integer range: see
        // `__private::MapItems`.
        (false, size) => {
            let size = match size {
                None => quote!(::core::option::Option::None),
                Some(size) => quote!(::core::option::Option::Some(#size)),
            };
            quote! {{
                #[allow(unused_imports)]
                use #krate::__private::{ViaIter as _, ViaRange as _};
                (&&#krate::__private::MapItems::new(#items_local)).map_on(&#pool, #task, #size)
            }}
        }
        (true, None) => quote!(#pool.starmap(#task, #items_local)),
        (true, Some(size)) => quote!(#pool.starmap_chunked(#task, #items_local, #size)),
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
