//! Rejects what a worker process could not call by name with decoded arguments.

use syn::visit::{self, Visit};
use syn::{FnArg, ReturnType, Signature, Type};

use crate::errors::Errors;

/// Every reason `signature` cannot be a task, combined into one error.
pub(crate) fn signature(sig: &Signature) -> Result<(), syn::Error> {
    let mut errors = Errors::default();
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            token,
            "`#[worker_fn]` functions cannot be `const`; remove `const`",
        ));
    }
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            token,
            "`#[worker_fn]` functions cannot be `async`; a worker runs its task to completion, \
             so make it a plain `fn` (block on the future inside it if needed)",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "`#[worker_fn]` functions cannot be `unsafe`; workers call tasks without an \
             `unsafe` block, so move the `unsafe` block inside the function",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "`#[worker_fn]` functions cannot declare an ABI; remove it",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "`#[worker_fn]` functions cannot be generic; a process worker looks tasks up by \
             name, and a generic function has no single name: write one function per type",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "`#[worker_fn]` functions cannot be variadic",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "`#[worker_fn]` cannot be a method: `self` cannot be sent to a worker process; \
                 make it a free function that takes the value as an argument",
            )),
            FnArg::Typed(typed) => owned_type(&typed.ty, "`#[worker_fn]` arguments", &mut errors),
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        owned_type(ty, "`#[worker_fn]` results", &mut errors);
    }
    errors.finish()
}

/// Rejects borrowed and opaque types anywhere inside `ty`, which is one of
/// `what` (plural, for messages: "`#[worker_fn]` arguments").
pub(crate) fn owned_type(ty: &Type, what: &str, errors: &mut Errors) {
    struct Finder<'a> {
        what: &'a str,
        errors: &'a mut Errors,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
            self.errors.push(syn::Error::new_spanned(
                reference,
                format!(
                    "{} must be owned values: a reference cannot be sent to a \
                     worker process; take the owned type (e.g. `String` for `&str`, `Vec<T>` \
                     for `&[T]`)",
                    self.what
                ),
            ));
        }
        fn visit_type_impl_trait(&mut self, opaque: &'ast syn::TypeImplTrait) {
            self.errors.push(syn::Error::new_spanned(
                opaque,
                format!(
                    "{} cannot be `impl Trait`; a worker process decodes them, \
                     so name the concrete type",
                    self.what
                ),
            ));
        }
        fn visit_type_trait_object(&mut self, object: &'ast syn::TypeTraitObject) {
            self.errors.push(syn::Error::new_spanned(
                object,
                format!(
                    "{} cannot be trait objects; a worker process decodes them, \
                     so name the concrete type",
                    self.what
                ),
            ));
        }
        fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
            if lifetime.ident != "static" {
                self.errors.push(syn::Error::new_spanned(
                    lifetime,
                    format!(
                        "{} cannot borrow: a worker process has its own memory",
                        self.what
                    ),
                ));
            }
        }
    }
    let mut finder = Finder { what, errors };
    visit::visit_type(&mut finder, ty);
}
