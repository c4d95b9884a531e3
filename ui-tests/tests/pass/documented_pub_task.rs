// A public, documented task: its docs and deprecation go on the public item,
// and `missing_docs` is satisfied.
#![deny(missing_docs)]
//! A crate with a public task.

/// Squares a number.
///
/// # Examples
///
/// ```ignore
/// assert_eq!(square(3), 9);
/// ```
#[freethreading::worker_fn]
pub fn square(x: u64) -> u64 {
    x * x
}

/// The old name of [`square`].
#[deprecated = "use `square`"]
#[freethreading::worker_fn]
pub fn old_square(x: u64) -> u64 {
    x * x
}

/// Runs the checks.
pub fn main() {
    assert_eq!(square(3), 9);
    #[allow(deprecated)]
    let nine = old_square(3);
    assert_eq!(nine, 9);
}
