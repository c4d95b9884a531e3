// Tasks of every shape a worker can call: no arguments, several, unit
// results, nested owned types, and arguments that are patterns.
use std::collections::HashMap;

use freethreading::{Task, worker_fn};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

#[worker_fn]
fn answer() -> u64 {
    42
}

#[worker_fn]
fn nothing() {}

#[worker_fn]
fn log(message: String) {
    let _ = message;
}

#[worker_fn]
fn add(a: i32, b: i32, c: i32) -> i32 {
    a + b + c
}

#[worker_fn]
fn shift(point: Point, (dx, dy): (i64, i64)) -> Point {
    Point { x: point.x + dx, y: point.y + dy }
}

#[worker_fn]
fn count(words: Vec<String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in words {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

#[worker_fn]
fn parse(text: String) -> Result<u64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

fn main() {
    assert_eq!(answer(), 42);
    assert_eq!(answer.call(()), 42);
    nothing();
    nothing.call(());
    log.call(("hi".to_owned(),));
    assert_eq!(add(1, 2, 3), 6);
    assert_eq!(add.call((1, 2, 3)), 6);
    assert_eq!(shift(Point { x: 1, y: 2 }, (1, 1)), Point { x: 2, y: 3 });
    assert_eq!(count(vec!["a".into(), "a".into()])["a"], 2);
    assert_eq!(parse.call(("7".to_owned(),)), Ok(7));
}
