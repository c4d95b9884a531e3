//! Procedural macros for [`freethreading`](https://docs.rs/freethreading).
//!
//! Use them through the `freethreading` crate, which re-exports them; the
//! generated code refers to its hidden `__private` module.
//!
//! Each entry point here is thin: it converts to `proc_macro2` and hands over to
//! a module per macro, split by phase (parse the arguments, validate the item,
//! expand). Every error is collected and reported at once with the narrowest
//! span; the user's item is still emitted so that no follow-on errors appear.
#![forbid(unsafe_code)]

mod args;
mod checks;
mod dsl;
mod errors;
mod main_attr;
mod parallel_map;
mod spawn;
mod submit;
mod worker_fn;

use proc_macro::TokenStream;

/// Makes a function a task that workers run on either backend.
///
/// See the documentation of `freethreading::worker_fn` for the full story.
#[proc_macro_attribute]
pub fn worker_fn(args: TokenStream, item: TokenStream) -> TokenStream {
    worker_fn::expand(args.into(), item.into()).into()
}

/// Makes `main` the program's entry point for workers.
///
/// See the documentation of `freethreading::main` for the full story.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    main_attr::expand(args.into(), item.into()).into()
}

/// Maps a task over items on a pool: `parallel_map!(task, items, workers = n)`.
///
/// See the documentation of `freethreading::parallel_map` for the full story.
#[proc_macro]
pub fn parallel_map(input: TokenStream) -> TokenStream {
    parallel_map::expand(input.into()).into()
}

/// Starts a worker running a call of a task: `spawn!(task(args), name = "W")`.
///
/// See the documentation of `freethreading::spawn` for the full story.
#[proc_macro]
pub fn spawn(input: TokenStream) -> TokenStream {
    spawn::expand(input.into()).into()
}

/// Submits a call of a task to an executor: `submit!(executor, task(args))`.
///
/// See the documentation of `freethreading::submit` for the full story.
#[proc_macro]
pub fn submit(input: TokenStream) -> TokenStream {
    submit::expand(input.into()).into()
}
