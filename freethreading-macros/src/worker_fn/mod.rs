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
        Err(errors) => poisoned(function, &errors),
    }
}

/// What a rejected function becomes: a constant named like it whose type is
/// the error itself, so the error is reported once and every use of the
/// name (a runner's `T: Task` bound, `parallel_map!`, a plain call) is of an
/// erroneous type, about which the compiler says nothing more. The function
/// stays under a hidden name, so its body is still checked and what it uses
/// is not reported unused.
fn poisoned(function: ItemFn, errors: &syn::Error) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let name = sig.ident.clone();
    let cfgs = attrs.iter().filter(|a| a.path().is_ident("cfg"));
    sig.ident = quote::format_ident!("__freethreading_rejected_{}", name);
    let errors = errors.to_compile_error();
    quote::quote! {
        #(#cfgs)*
        #[allow(non_upper_case_globals)]
        #vis const #name: [(); { #errors 0 }] = [];
        #(#attrs)*
        #[allow(dead_code, non_snake_case, clippy::all)]
        #sig #block
    }
}
