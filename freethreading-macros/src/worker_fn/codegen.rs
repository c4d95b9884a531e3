//! Writes the task: a type and a constant named like the function, the
//! type's `Deref` to the function and its `Task` impl, and the registry entry.
//!
//! `examples/src/bin/worker_fn-expanded.rs` shows the output for one function.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, FnArg, ItemFn, ReturnType, Type};

use crate::args::Args;
use crate::checks::checked_value;

pub(crate) fn task(args: &Args, function: ItemFn) -> TokenStream {
    let krate = args.crate_path();
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let task = sig.ident.clone();
    let name = args.name.as_ref().map_or_else(
        || {
            let ident = task.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        },
        |name| quote!(#name),
    );

    // `cfg` goes on everything; docs and deprecation describe the public
    // value; the rest (`inline`, lint levels, ...) stays on the function.
    let (cfgs, rest): (Vec<Attribute>, Vec<Attribute>) =
        attrs.into_iter().partition(|a| a.path().is_ident("cfg"));
    let (value_attrs, body_attrs): (Vec<Attribute>, Vec<Attribute>) = rest
        .into_iter()
        .partition(|a| a.path().is_ident("doc") || a.path().is_ident("deprecated"));

    let types: Vec<&Type> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let output: Type = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => syn::parse_quote!(()),
    };
    let bindings: Vec<_> = (0..types.len())
        .map(|i| crate::checks::local(&format!("arg{i}")))
        .collect();
    // Each type goes through `Value`, spanned at the user's type: one error
    // there for a type that cannot be sent, and no follow-on errors.
    let args_checked = types.iter().map(|ty| checked_value(&krate, ty));
    let output_checked = checked_value(&krate, &output);

    // Appended to the constant's docs, which would otherwise show only a
    // constant of a hidden type.
    let signature_doc = format!(
        " A `#[worker_fn]` task: call it as `{task}(..)`; `*{task}` is the function, a `{}`.",
        tidy(&quote!(fn(#(#types),*) -> #output).to_string())
    );

    let body = format_ident!("__freethreading_{}", task, span = Span::mixed_site());
    sig.ident = body.clone();
    let args_ident = crate::checks::local("args");

    quote! {
        // The type, hidden: in the type namespace only (a braced struct), so
        // that the name's value is the constant below.
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #task {}

        // The value, documented: a constant rather than a unit struct, so that
        // a call `task()` whose result is unused is not mistaken by lints for
        // building a struct with no effect.
        #(#cfgs)*
        #(#value_attrs)*
        #[doc = ""]
        #[doc = #signature_doc]
        #[allow(non_upper_case_globals)]
        #vis const #task: #task = #task {};

        #(#cfgs)*
        const _: () = {
            #(#body_attrs)*
            // A task takes its arguments by value: they are sent to it.
            #[allow(clippy::needless_pass_by_value)]
            #sig #block

            impl ::core::ops::Deref for #task {
                type Target = fn(#(#types),*) -> #output;

                fn deref(&self) -> &Self::Target {
                    &(#body as fn(#(#types),*) -> #output)
                }
            }

            impl #krate::Task for #task {
                type Args = (#(#args_checked,)*);
                type Output = #output_checked;

                fn name(self) -> &'static str {
                    #name
                }

                fn call(self, #args_ident: Self::Args) -> Self::Output {
                    let (#(#bindings,)*) = #args_ident;
                    #body(#(#bindings),*)
                }
            }

            #krate::__private::inventory::submit! {
                #krate::__private::TaskEntry::new(
                    #name,
                    &#task {},
                    ::core::file!(),
                    ::core::line!(),
                )
            }
        };
    }
}

/// Token text as a person writes it: `fn(Vec<u8>, &str) -> u64` rather than
/// the spaced-out `fn (Vec < u8 >, & str) -> u64` tokens print as.
fn tidy(tokens: &str) -> String {
    [
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
    ]
    .iter()
    .fold(tokens.to_owned(), |text, (spaced, tight)| {
        text.replace(spaced, tight)
    })
    .replace("->", " -> ")
    .replace("  ", " ")
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn signatures_read_as_written() {
        let tokens = quote::quote!(fn(Vec<u8>, &str, [u8; 4], std::string::String) -> Option<u64>);
        assert_eq!(
            tidy(&tokens.to_string()),
            "fn(Vec<u8>, &str, [u8; 4], std::string::String) -> Option<u64>"
        );
    }
}
