//! Generated code is lint-clean: `#[worker_fn]` items of every kind, public
//! and private, under the strictest lints a user may set. Checked by
//! `cargo clippy -p freethreading-ui-tests --all-targets -- -D warnings`.
#![deny(warnings, missing_docs, clippy::pedantic)]

use freethreading::{Task, worker_fn};
use serde::{Deserialize, Serialize};

/// A point, sent to and from workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Across.
    pub x: i64,
    /// Down.
    pub y: i64,
}

/// Squares a number.
#[worker_fn]
pub fn square(x: u64) -> u64 {
    x * x
}

/// Moves a point.
#[worker_fn(name = "lint_clean::shift")]
pub fn shift(point: Point, dx: i64, dy: i64) -> Point {
    Point {
        x: point.x + dx,
        y: point.y + dy,
    }
}

/// Does nothing, publicly.
#[worker_fn]
pub fn nothing() {}

/// Joins words.
#[worker_fn]
pub(crate) fn join(words: Vec<String>, separator: String) -> String {
    words.join(&separator)
}

#[worker_fn]
fn private_answer() -> u64 {
    42
}

#[worker_fn]
#[inline]
#[allow(clippy::needless_pass_by_value)] // a task takes its arguments by value
fn length(text: String) -> usize {
    text.len()
}

#[test]
fn generated_items_work() {
    assert_eq!(square(3), 9);
    assert_eq!(square.call((4,)), 16);
    assert_eq!(shift(Point { x: 1, y: 1 }, 1, 2), Point { x: 2, y: 3 });
    assert_eq!(shift.name(), "lint_clean::shift");
    nothing();
    assert_eq!(join(vec!["a".into(), "b".into()], "-".into()), "a-b");
    assert_eq!(private_answer(), 42);
    assert_eq!(length.call(("four".to_owned(),)), 4);
}
