//! The macros' diagnostics, as snapshots: `tests/ui/<macro>/<case>.rs` must
//! fail to compile with exactly `<case>.stderr`, and `tests/pass/*.rs` must
//! compile and run. See `README.md` to refresh the snapshots.

/// The DSL cases whose expansion reaches the runtime's `Worker`, `WorkerPool`
/// and `WorkerPoolExecutor`; the other DSL cases fail in the macro itself.
const DSL_TYPE_CHECKED: &[&str] = &[
    "tests/ui/parallel_map/not_a_task.rs",
    "tests/ui/parallel_map/items_not_matching_the_task.rs",
    "tests/ui/parallel_map/capturing_closure.rs",
    "tests/ui/parallel_map/unserializable_closure_parameter.rs",
    "tests/ui/spawn/not_a_task.rs",
    "tests/ui/spawn/wrong_arguments.rs",
    "tests/ui/submit/not_a_task.rs",
];

const DSL_MACRO_ERRORS: &[&str] = &[
    "tests/ui/parallel_map/async_closure.rs",
    "tests/ui/parallel_map/closure_without_parameters.rs",
    "tests/ui/parallel_map/crate_not_a_path.rs",
    "tests/ui/parallel_map/duplicate_option.rs",
    "tests/ui/parallel_map/extra_argument.rs",
    "tests/ui/parallel_map/missing_items.rs",
    "tests/ui/parallel_map/move_closure.rs",
    "tests/ui/parallel_map/reference_closure_parameter.rs",
    "tests/ui/parallel_map/unknown_option.rs",
    "tests/ui/parallel_map/untyped_closure_parameter.rs",
    "tests/ui/spawn/duplicate_option.rs",
    "tests/ui/spawn/not_a_call.rs",
    "tests/ui/spawn/unknown_option.rs",
    "tests/ui/submit/duplicate_option.rs",
    "tests/ui/submit/missing_task.rs",
    "tests/ui/submit/not_a_call.rs",
    "tests/ui/submit/unknown_option.rs",
];

#[test]
fn attributes() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/worker_fn/*.rs");
    cases.compile_fail("tests/ui/main/*.rs");
    cases.pass("tests/pass/*.rs");
}

#[test]
fn dsl_macro_errors() {
    let cases = trybuild::TestCases::new();
    for case in DSL_MACRO_ERRORS {
        cases.compile_fail(case);
    }
}

#[test]
fn dsl_type_errors() {
    let cases = trybuild::TestCases::new();
    for case in DSL_TYPE_CHECKED {
        cases.compile_fail(case);
    }
    cases.pass("tests/pass_runtime/*.rs");
}

/// The runtime's handles to running work are `#[must_use]`, and its types
/// name `TaskValue` when given a value that cannot be sent.
#[test]
fn runtime_types() {
    trybuild::TestCases::new().compile_fail("tests/ui/runtime/*.rs");
}
