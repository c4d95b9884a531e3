//! The checks generated code makes at the user's tokens, and the span tricks
//! that put the compiler's errors there, once.
//!
//! The compiler reports a failed trait bound at the span of the expression
//! or type that needs it, and reports two failures of the same bound at the
//! same span only once. So each check is spanned at the user's tokens, and
//! the generated code that would fail for the same reason either uses an
//! expression with the same span or a type that the check makes unknown.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

/// `ty` written through the runtime's check that it is a `TaskValue`:
/// `Value<ty, { is_task_value::<ty>() }>` (see `__private::Value`), spanned
/// at `ty`, so a type that cannot be sent is one error there and no other.
pub(crate) fn checked_value(krate: &Path, ty: &Type) -> TokenStream {
    let span = ty.span();
    quote_spanned! {span=>
        #krate::__private::Value<#ty, { #krate::__private::is_task_value::<#ty>() }>
    }
}

/// A local binding of generated code.
///
/// Hygiene (`Span::mixed_site`) keeps the user's locals and ours apart, but a
/// binding pattern still resolves to the user's unit structs and constants:
/// `let pool = ..` would be a pattern of a `struct pool;` in scope. Hence
/// the prefix, which no user item is expected to carry.
pub(crate) fn local(name: &str) -> Ident {
    Ident::new(&format!("__freethreading_{name}"), Span::mixed_site())
}

/// The spans of the first and the last token of `tokens`, or the call site's
/// for none. The compiler spans an expression or type from the start of its
/// first token to the end of its last, so generated code whose first and last
/// tokens carry these spans is reported over all of the user's tokens.
pub(crate) fn span_range(tokens: TokenStream) -> (Span, Span) {
    let mut tokens = tokens.into_iter();
    let first = tokens
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| respan_token(token, span))
        .collect()
}

/// The call `callee(args)`, spanned over `first..last` as a whole, with the
/// arguments' own spans kept: a failed bound of the callee is then reported
/// over the user's tokens that the range covers.
pub(crate) fn call_spanned(
    callee: TokenStream,
    args: TokenStream,
    (first, last): (Span, Span),
) -> TokenStream {
    let mut args = Group::new(Delimiter::Parenthesis, args);
    args.set_span(last);
    let mut call = respan(callee, first);
    call.extend([TokenTree::Group(args)]);
    call
}

fn respan_token(token: TokenTree, span: Span) -> TokenTree {
    match token {
        TokenTree::Group(group) => {
            let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
            respanned.set_span(span);
            TokenTree::Group(respanned)
        }
        mut other => {
            other.set_span(span);
            other
        }
    }
}
