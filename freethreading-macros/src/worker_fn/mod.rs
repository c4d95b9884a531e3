//! `#[worker_fn]`: a function becomes a registered task.
//!
//! The function's name becomes a constant of a (hidden) type of the same
//! name, so that the name, handed by value to a runner, has a type that
//! implements `Task`. A constant rather than a unit struct: lints take a call
//! of a unit struct's name, `nothing();`, for building a value to no effect.
//!
//! - `Deref` to a function pointer keeps `square(3)` a plain call;
//! - `Task` gives its registered name, argument tuple and result type, so the
//!   runner's bounds check serializability on both backends;
//! - an `inventory` entry registers it under that name for process workers.
//!
//! The phases: [`crate::args`] parses the attribute, [`validate`] rejects the
//! signatures a worker process could not call, [`codegen`] writes the output.

mod codegen;
mod validate;

pub(crate) use validate::owned_type;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(function) = syn::parse2::<ItemFn>(item.clone()) else {
        let error = syn::Error::new_spanned(
            &item,
            "`#[worker_fn]` applies to free functions: `fn name(args) -> Output { ... }`",
        );
        let mut output = item;
        output.extend(error.into_compile_error());
        return output;
    };
    let (args, mut errors) = crate::args::parse("worker_fn", args, &["name", "crate"]);
    errors.keep(validate::signature(&function.sig));
    match errors.finish() {
        Ok(()) => codegen::task(&args, function),
        // Still emit the function, so its callers see no follow-on errors.
        Err(errors) => {
            let mut output = function.into_token_stream();
            output.extend(errors.into_compile_error());
            output
        }
    }
}
