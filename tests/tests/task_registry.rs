//! `#[worker_fn]` tasks: plain calls, names, and lookup by name.

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{RegistryError, Task, lookup_task, worker_fn};

/// Squares its argument.
#[worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

#[worker_fn]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[worker_fn]
fn nothing() {}

#[worker_fn]
fn factorial(n: u64) -> u64 {
    if n == 0 { 1 } else { n * factorial(n - 1) }
}

#[worker_fn(name = "custom::greeting")]
fn greet(name: String) -> String {
    format!("hello {name}")
}

#[worker_fn(name = "dup::twice")]
fn first_twice() -> u8 {
    1
}

#[worker_fn(name = "dup::twice")]
fn second_twice() -> u8 {
    2
}

#[test]
fn a_task_is_still_a_plain_function() {
    assert_eq!(square(3), 9);
    assert_eq!(add(2, 3), 5);
    assert_eq!(factorial(5), 120);
    nothing();
    // The name dereferences to the function pointer, which `map` takes.
    let squares: Vec<u64> = (0..4).map(*square).collect();
    assert_eq!(squares, [0, 1, 4, 9]);
}

#[test]
fn a_task_has_a_stable_name_and_calls_through_the_trait() {
    assert_eq!(square.name(), "task_registry::square");
    assert_eq!(greet.name(), "custom::greeting");
    assert_eq!(add.call((40, 2)), 42);
    assert_eq!(greet.call(("x".to_owned(),)), "hello x");
}

#[test]
fn lookup_finds_a_registered_task_with_its_definition() {
    let entry = lookup_task("task_registry::add").unwrap();
    assert_eq!(entry.name(), "task_registry::add");
    assert!(entry.definition().contains("task_registry.rs"));
}

#[test]
fn lookup_of_an_unknown_name_lists_the_registered_ones() {
    let error = lookup_task("task_registry::missing").unwrap_err();
    let RegistryError::Unknown { registered, .. } = &error else {
        panic!("expected Unknown, got {error:?}");
    };
    assert!(registered.iter().any(|n| n == "task_registry::square"));
    assert!(error.to_string().contains("task_registry::square"));
}

#[test]
fn two_tasks_under_one_name_are_an_error_naming_both() {
    assert_eq!(first_twice(), 1);
    assert_eq!(second_twice(), 2);
    let error = lookup_task("dup::twice").unwrap_err();
    let RegistryError::Duplicate { definitions, .. } = &error else {
        panic!("expected Duplicate, got {error:?}");
    };
    assert_eq!(definitions.len(), 2);
    assert!(error.to_string().contains("dup::twice"));
}
