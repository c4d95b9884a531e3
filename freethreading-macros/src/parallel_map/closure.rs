//! Inline tasks: a non-capturing closure with typed parameters, registered
//! under a name derived from where it is written.
//!
//! A process worker finds a task by name in the registry, so the closure is
//! written twice from the same tokens (see `freethreading::ClosureTask`): in
//! the registry's `static`, and at the call site. Its parameter types must be
//! written, because the registry's copy stands alone where nothing infers
//! them. The call-site copy is coerced to a `fn` pointer, which only a closure
//! that captures nothing can be: the compiler's error for one that does names
//! the captured variable and says why.

use std::hash::{DefaultHasher, Hash, Hasher};

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{Expr, ExprClosure, Pat, Path, ReturnType, Type};

use crate::checks::{self, checked_value};
use crate::dsl::BoundTask;
use crate::errors::Errors;
use crate::worker_fn::owned_type;

/// The most parameters a closure task takes, as `ClosureTask::new0..new6`.
const MAX_PARAMETERS: usize = 6;

/// A task expression: an inline closure, or anything else.
pub(super) enum TaskExpr {
    Closure(ExprClosure),
    Other(Expr),
}

/// `task` as a closure, looking through parentheses and the invisible groups
/// of `macro_rules!` fragments; else `task` itself.
pub(super) fn classify(task: Expr) -> TaskExpr {
    match task {
        Expr::Closure(closure) => TaskExpr::Closure(closure),
        Expr::Paren(inner) if inner.attrs.is_empty() => classify(*inner.expr),
        Expr::Group(inner) if inner.attrs.is_empty() => classify(*inner.expr),
        other => TaskExpr::Other(other),
    }
}

/// A closure checked to be usable as a task.
pub(super) struct InlineTask {
    closure: ExprClosure,
    types: Vec<Type>,
}

impl InlineTask {
    /// Checks that `closure` can be a task: no `move`, `async` or lifetimes,
    /// one to six parameters, each with an owned type written out.
    pub(super) fn new(closure: ExprClosure) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let not_a_task = |tokens: &dyn ToTokens, why: &str| {
            syn::Error::new_spanned(tokens, format!("a `parallel_map!` closure cannot be {why}"))
        };
        if let Some(token) = &closure.capture {
            errors.push(not_a_task(
                token,
                "`move`: a task must not capture its environment, so there is nothing to \
                 move; remove `move`",
            ));
        }
        if let Some(token) = &closure.asyncness {
            errors.push(not_a_task(
                token,
                "`async`: a worker runs its task to completion; remove `async`",
            ));
        }
        if let Some(token) = &closure.constness {
            errors.push(not_a_task(token, "`const`; remove `const`"));
        }
        if let Some(token) = &closure.movability {
            errors.push(not_a_task(token, "a coroutine; remove `static`"));
        }
        if let Some(lifetimes) = &closure.lifetimes {
            errors.push(not_a_task(
                lifetimes,
                "generic over lifetimes: its parameters are owned values sent to a worker",
            ));
        }
        let count = closure.inputs.len();
        if count == 0 || count > MAX_PARAMETERS {
            let (or1, inputs, or2) = (&closure.or1_token, &closure.inputs, &closure.or2_token);
            errors.push(syn::Error::new_spanned(
                quote!(#or1 #inputs #or2),
                format!(
                    "a `parallel_map!` closure takes one parameter per item, or up to \
                     {MAX_PARAMETERS} for items that are tuples of its arguments; this one takes \
                     {count}"
                ),
            ));
        }
        let mut types = Vec::with_capacity(count);
        for input in &closure.inputs {
            match input {
                Pat::Type(param) => {
                    owned_type(&param.ty, "`parallel_map!` closure parameters", &mut errors);
                    types.push((*param.ty).clone());
                }
                untyped => errors.push(syn::Error::new_spanned(
                    untyped,
                    format!(
                        "this parameter of a `parallel_map!` closure needs a type, like `{}: u64`: \
                         the closure is also compiled on its own, for process workers to find \
                         it by name, where the items' type is not known",
                        untyped.to_token_stream()
                    ),
                )),
            }
        }
        if let ReturnType::Type(_, ty) = &closure.output {
            owned_type(ty, "`parallel_map!` closure results", &mut errors);
        }
        errors.finish().map(|()| InlineTask { closure, types })
    }

    /// How many parameters the closure takes.
    pub(super) fn arity(&self) -> usize {
        self.types.len()
    }

    /// The task's registration, and the call site's copy, checked, for the
    /// runner.
    pub(super) fn expand(&self, krate: &Path) -> BoundTask {
        let (first, last) = checks::span_range(self.closure.to_token_stream());
        let constructor = format_ident!("new{}", self.arity());
        let name = self.name();
        // Both copies declare their parameters through the runtime's check: a
        // type that cannot be sent is one error, at that type.
        let mut closure = self.closure.clone();
        for input in &mut closure.inputs {
            if let Pat::Type(param) = input {
                *param.ty = Type::Verbatim(checked_value(krate, &param.ty));
            }
        }
        // The registry's copy and the check of the call site's are spanned
        // alike, over the closure, so that a result type that cannot be sent
        // is reported there once.
        let registered = checks::call_spanned(
            quote!(&#krate::ClosureTask::#constructor),
            quote!(#name, #closure),
            (first, last),
        );
        // The call site's copy becomes a `fn` pointer, which only a closure
        // that captures nothing can: the error for one that does says so.
        let function = checks::local("function");
        let placeholders = self.types.iter().map(|_| quote!(_));
        let coerced = quote_spanned! {first=>
            let #function: fn(#(#placeholders),*) -> _ = #closure;
        };
        // In an inline `const` block: for a closure that captures a local,
        // the compiler's help then points at the user's `let` (to make it a
        // `const`) rather than into `inventory`'s expansion.
        let registration = quote! {
            const {
                #krate::__private::inventory::submit! {
                    #krate::__private::TaskEntry::new(
                        #name,
                        #registered,
                        ::core::file!(),
                        ::core::line!(),
                    )
                }
            }
        };
        // Spanned like the registry's copy, and so like its check.
        let task = checks::call_spanned(
            quote!(#krate::ClosureTask::#constructor),
            quote!(#name, { #coerced #function }),
            (first, last),
        );
        let mut bound = BoundTask::new(krate, task, (first, last));
        bound.items = registration;
        bound
    }

    /// The registered name: the module, where the call is written, and a hash
    /// of the closure, which tells apart two closures that one `macro_rules!`
    /// call writes at the same place. The same binary, in a worker process,
    /// holds the same name.
    fn name(&self) -> TokenStream {
        let mut hasher = DefaultHasher::new();
        self.closure.to_token_stream().to_string().hash(&mut hasher);
        let hash = format!("{:08x}", hasher.finish() & 0xffff_ffff);
        quote! {
            ::core::concat!(
                ::core::module_path!(),
                "::{closure@",
                ::core::line!(),
                ":",
                ::core::column!(),
                "#",
                #hash,
                "}"
            )
        }
    }
}
