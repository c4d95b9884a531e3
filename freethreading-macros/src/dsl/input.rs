//! The input every DSL macro shares: positional expressions, then
//! `key = value` options, all separated by commas.
//!
//! `parallel_map!(square, 0..10, workers = 4, crate = ::ft)` has the
//! positional `square` and `0..10` and the options `workers` and `crate`. An
//! argument is an option when it starts with `identifier =` (not `==`); each
//! macro declares its positional arguments and options in a [`Spec`], and
//! everything else is an error naming what it accepts.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path, Token};

use crate::errors::Errors;

/// What one macro accepts.
pub(crate) struct Spec {
    /// The macro's name, without `!`.
    pub(crate) name: &'static str,
    /// How a call looks without options, for messages: `parallel_map!(task, items)`.
    pub(crate) usage: &'static str,
    /// The options it takes besides `crate`.
    pub(crate) options: &'static [&'static str],
}

/// The checked arguments of a call with `N` positional arguments.
pub(crate) struct Input<const N: usize> {
    pub(crate) positional: [Expr; N],
    pub(crate) options: Options,
}

/// The options of one call, each given at most once.
pub(crate) struct Options {
    values: Vec<(Ident, Expr)>,
    krate: Option<Path>,
}

impl Options {
    /// The value of the option `key`, if given.
    pub(crate) fn option(&self, key: &str) -> Option<&Expr> {
        self.values
            .iter()
            .find_map(|(k, value)| (k == key).then_some(value))
    }

    /// The path to the runtime crate: `crate = path`, else `::freethreading`.
    pub(crate) fn crate_path(&self) -> Path {
        crate::args::crate_path(self.krate.as_ref())
    }
}

/// Parses and checks the arguments of a call of the macro `spec` describes,
/// which takes `N` positional arguments.
pub(crate) fn parse<const N: usize>(spec: &Spec, tokens: TokenStream) -> syn::Result<Input<N>> {
    let raw = Parser::parse2(Raw::parse, tokens)?;
    let mut errors = Errors::default();
    let mut positional = Vec::with_capacity(N);
    let mut options = Options {
        values: Vec::new(),
        krate: None,
    };
    for argument in raw.0 {
        match argument {
            Argument::Positional(expr) if !options.values.is_empty() || options.krate.is_some() => {
                errors.push(syn::Error::new_spanned(
                    expr,
                    format!(
                        "arguments come before the options: `{}`, then options",
                        spec.usage
                    ),
                ));
            }
            Argument::Positional(expr) if positional.len() == N => {
                errors.push(syn::Error::new_spanned(
                    expr,
                    format!(
                        "unexpected argument; expected `{}`, then options: {}",
                        spec.usage,
                        expected_options(spec)
                    ),
                ));
            }
            Argument::Positional(expr) => positional.push(expr),
            Argument::Option(key, value) => {
                if let Some(option) = errors.keep(check_option(spec, &options, &key, value)) {
                    match option {
                        Checked::Crate(path) => options.krate = Some(path),
                        Checked::Other(value) => options.values.push((key, value)),
                    }
                }
            }
        }
    }
    // Missing arguments are pointed at the options they should precede.
    let missing_at = options
        .values
        .first()
        .map(|(key, _)| key.span())
        .or_else(|| options.krate.as_ref().map(Spanned::span))
        .unwrap_or_else(Span::call_site);
    let positional = <[Expr; N]>::try_from(positional).map_err(|_| {
        syn::Error::new(
            missing_at,
            format!("missing arguments: expected `{}`", spec.usage),
        )
    });
    errors.finish_with(positional).map(|positional| Input {
        positional,
        options,
    })
}

enum Checked {
    Crate(Path),
    Other(Expr),
}

fn check_option(spec: &Spec, options: &Options, key: &Ident, value: Expr) -> syn::Result<Checked> {
    let name = key.unraw().to_string();
    if name != "crate" && !spec.options.contains(&name.as_str()) {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "unknown option `{name}` for `{}!`; expected {}",
                spec.name,
                expected_options(spec)
            ),
        ));
    }
    let duplicate = if name == "crate" {
        options.krate.is_some()
    } else {
        options.option(&name).is_some()
    };
    if duplicate {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate option `{name}`"),
        ));
    }
    if name != "crate" {
        return Ok(Checked::Other(value));
    }
    match value {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Ok(Checked::Crate(path.path))
        }
        other => Err(syn::Error::new_spanned(
            other,
            "expected the path of the runtime crate, like `crate = ::freethreading`",
        )),
    }
}

/// `workers = ...`, `chunksize = ...` or `crate = ...`.
fn expected_options(spec: &Spec) -> String {
    let all: Vec<String> = spec
        .options
        .iter()
        .chain(&["crate"])
        .map(|option| format!("`{option} = ...`"))
        .collect();
    match all.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The arguments as written, before any check.
struct Raw(Vec<Argument>);

enum Argument {
    Positional(Expr),
    Option(Ident, Expr),
}

impl Parse for Raw {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut arguments = Vec::new();
        while !input.is_empty() {
            let is_option = input.peek(Ident::peek_any)
                && input.peek2(Token![=])
                && !input.peek2(Token![==])
                && !input.peek2(Token![=>]);
            if is_option {
                let key = input.call(Ident::parse_any)?;
                input.parse::<Token![=]>()?;
                arguments.push(Argument::Option(key, input.parse()?));
            } else {
                arguments.push(Argument::Positional(input.parse()?));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(Raw(arguments))
    }
}
