//! Rejects what a worker process could not call by name with decoded arguments.

use syn::visit::{self, Visit};
use syn::{FnArg, ReturnType, Signature, Type};

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
            FnArg::Typed(typed) => owned_type(&typed.ty, "arguments", &mut errors),
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        owned_type(ty, "results", &mut errors);
    }
    errors.finish()
}

/// Rejects borrowed and opaque types anywhere inside `ty`.
fn owned_type(ty: &Type, role: &str, errors: &mut Errors) {
    struct Finder<'a> {
        role: &'a str,
        errors: &'a mut Errors,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
            self.errors.push(syn::Error::new_spanned(
                reference,
                format!(
                    "`#[worker_fn]` {} must be owned values: a reference cannot be sent to a \
                     worker process; take the owned type (e.g. `String` for `&str`, `Vec<T>` \
                     for `&[T]`)",
                    self.role
                ),
            ));
        }
        fn visit_type_impl_trait(&mut self, opaque: &'ast syn::TypeImplTrait) {
            self.errors.push(syn::Error::new_spanned(
                opaque,
                format!(
                    "`#[worker_fn]` {} cannot be `impl Trait`; a worker process decodes them, \
                     so name the concrete type",
                    self.role
                ),
            ));
        }
        fn visit_type_trait_object(&mut self, object: &'ast syn::TypeTraitObject) {
            self.errors.push(syn::Error::new_spanned(
                object,
                format!(
                    "`#[worker_fn]` {} cannot be trait objects; a worker process decodes them, \
                     so name the concrete type",
                    self.role
                ),
            ));
        }
        fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
            if lifetime.ident != "static" {
                self.errors.push(syn::Error::new_spanned(
                    lifetime,
                    format!(
                        "`#[worker_fn]` {} cannot borrow: a worker process has its own memory",
                        self.role
                    ),
                ));
            }
        }
    }
    let mut finder = Finder { role, errors };
    visit::visit_type(&mut finder, ty);
}

#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}
