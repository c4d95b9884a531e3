//! Errors shared by several parts of the API.

use std::fmt;

/// A `_timeout` operation whose deadline passed before it could complete.
///
/// # Examples
///
/// ```
/// assert_eq!(freethreading::Timeout.to_string(), "timed out");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Timeout {}
