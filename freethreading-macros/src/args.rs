//! The `key = value` arguments shared by the attributes: `name` and `crate`.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Path};

use crate::errors::Errors;

/// The arguments an attribute was given, each at most once.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

impl Args {
    /// The path to the runtime crate: `crate = path`, else `::freethreading`.
    pub(crate) fn crate_path(&self) -> Path {
        crate_path(self.krate.as_ref())
    }
}

/// The path generated code names the runtime crate by: `krate`, given by a
/// `crate = path` argument, else `::freethreading`.
pub(crate) fn crate_path(krate: Option<&Path>) -> Path {
    krate
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(::freethreading))
}

/// Parses `args`, accepting only the keys in `allowed`; the errors are kept.
pub(crate) fn parse(attribute: &str, args: TokenStream, allowed: &[&str]) -> (Args, Errors) {
    let mut parsed = Args::default();
    let mut errors = Errors::default();
    let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let expected = allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(meta.error(format!(
                "unknown argument to `#[{attribute}]`; expected {expected}"
            )));
        }
        let duplicate = || meta.error(format!("duplicate `{key}` argument"));
        if key == "name" {
            let value: LitStr = meta.value()?.parse()?;
            if value.value().is_empty() {
                return Err(syn::Error::new(value.span(), "a task name cannot be empty"));
            }
            if parsed.name.replace(value).is_some() {
                return Err(duplicate());
            }
        } else {
            let value: Path = meta.value()?.parse()?;
            if parsed.krate.replace(value).is_some() {
                return Err(duplicate());
            }
        }
        Ok(())
    });
    errors.keep(syn::parse::Parser::parse2(parser, args));
    (parsed, errors)
}
