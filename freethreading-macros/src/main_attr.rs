//! `#[freethreading::main]`: `main` starts by calling the crate's prologue
//! (fix the backend; in a worker process, serve tasks instead of running
//! `main`) and ends by waiting for non-daemon workers, as Python does at exit.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::ItemFn;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(function) = syn::parse2::<ItemFn>(item.clone()) else {
        let error = syn::Error::new_spanned(&item, "`#[freethreading::main]` applies to `fn main`");
        let mut output = item;
        output.extend(error.into_compile_error());
        return output;
    };
    let (args, mut errors) = crate::args::parse("freethreading::main", args, &["crate"]);
    let sig = &function.sig;
    if sig.ident != "main" {
        errors.push(syn::Error::new_spanned(
            &sig.ident,
            "`#[freethreading::main]` applies to `fn main` only",
        ));
    }
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            token,
            "`#[freethreading::main]` cannot be `async`; put it on a synchronous `main` \
             that starts your async runtime",
        ));
    }
    if !sig.inputs.is_empty() || !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            "`main` takes no arguments and no generic parameters",
        ));
    }
    if let Err(errors) = errors.finish() {
        let mut output = if function.sig.ident == "main" {
            // The user's `main` under another name, beside an empty one, so
            // that the compiler does not report again what is wrong with it.
            let mut renamed = function;
            renamed.sig.ident = format_ident!("__freethreading_invalid_main");
            quote! {
                #[allow(dead_code)]
                #renamed
                fn main() {}
            }
        } else {
            function.into_token_stream()
        };
        output.extend(errors.into_compile_error());
        return output;
    }

    let krate = args.crate_path();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let mut inner = sig.clone();
    inner.ident = format_ident!("__freethreading_main", span = Span::mixed_site());
    let inner_ident = &inner.ident;
    let epilogue = crate::checks::local("epilogue");
    // The epilogue is a drop guard, so it also runs when `main` panics.
    quote! {
        #(#attrs)*
        #vis #sig {
            #inner #block

            #krate::__private::main_prologue();
            let #epilogue = #krate::__private::MainEpilogue;
            #inner_ident()
        }
    }
}
