//! What `#[worker_fn]` writes, by hand, for one function.
//!
//! The attribute turns
//!
//! ```ignore
//! /// Squares a number.
//! #[worker_fn]
//! pub fn square(x: u64) -> u64 {
//!     x * x
//! }
//! ```
//!
//! into the items below (paths spelled out, as the macro does, so that the
//! user's own `core`, `Task` or `Result` cannot interfere). The program then
//! uses `square` the three ways a program does: as a plain function, as a
//! [`Task`] handed to a runner, and by name, as a process worker finds it.
//!
//! Run it with `cargo run -p freethreading-examples --bin worker_fn-expanded`.

use freethreading::Task;

// The type of the task, in the type namespace only (a braced struct), hidden
// from the docs: a runner is handed a value of it and reads the task from its
// `Task` impl.
#[doc(hidden)]
#[allow(non_camel_case_types)]
#[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
pub struct square {}

/// Squares a number.
///
/// A `#[worker_fn]` task: call it as `square(..)`; `*square` is the function, a `fn(u64) -> u64`.
// The value of the same name, which carries the user's docs and a line naming
// the signature: `square(3)` calls through `Deref`, `*square` is the `fn`
// pointer, and `square` alone is the task to hand to a runner.
#[allow(non_upper_case_globals)]
pub const square: square = square {};

// Everything else goes in an anonymous block, so that its names never clash
// with the user's.
const _: () = {
    // The user's function, renamed, unchanged otherwise.
    #[allow(clippy::needless_pass_by_value)]
    fn __freethreading_square(x: u64) -> u64 {
        x * x
    }

    // `square(3)` still reads as a call.
    impl ::core::ops::Deref for square {
        type Target = fn(u64) -> u64;

        fn deref(&self) -> &Self::Target {
            &(__freethreading_square as fn(u64) -> u64)
        }
    }

    // What runners need: the name, the argument tuple and the result type.
    // Each type goes through `Value`, which checks at the user's type that it
    // can be sent to a worker process (`TaskValue`), so that a type that
    // cannot is one error, pointing there.
    impl ::freethreading::Task for square {
        type Args = (
            ::freethreading::__private::Value<
                u64,
                { ::freethreading::__private::is_task_value::<u64>() },
            >,
        );
        type Output = ::freethreading::__private::Value<
            u64,
            { ::freethreading::__private::is_task_value::<u64>() },
        >;

        fn name(self) -> &'static str {
            ::core::concat!(::core::module_path!(), "::", "square")
        }

        fn call(self, __freethreading_args: Self::Args) -> Self::Output {
            let (__freethreading_arg0,) = __freethreading_args;
            __freethreading_square(__freethreading_arg0)
        }
    }

    // The registry entry, collected at start-up: a worker process, which is
    // this binary started again, finds the task by its name here.
    ::freethreading::__private::inventory::submit! {
        ::freethreading::__private::TaskEntry::new(
            ::core::concat!(::core::module_path!(), "::", "square"),
            &square {},
            ::core::file!(),
            ::core::line!(),
        )
    }
};

fn main() {
    // A plain call, through `Deref`.
    println!("square(7) = {}", square(7));

    // As a task: what a `Worker` or a `WorkerPool` does with it.
    println!("square.call((8,)) = {}", square.call((8,)));
    println!("registered as {:?}", square.name());

    // By name, as a process worker finds it.
    match freethreading::lookup_task(square.name()) {
        Ok(entry) => println!(
            "found {:?}, defined at {}",
            entry.name(),
            entry.definition()
        ),
        Err(error) => println!("not found: {error}"),
    }
}
