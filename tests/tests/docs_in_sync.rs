//! The README carries the Python → Rust table that the crate's docs include,
//! word for word, so the two cannot drift apart.

// Worker processes of this test binary start here.
freethreading::test_support!();

#[test]
fn the_readme_holds_the_python_to_rust_table_of_the_docs() {
    let readme = include_str!("../../README.md");
    let table = include_str!("../../freethreading/docs/python-to-rust.md");
    assert!(
        readme.contains(table),
        "README.md must end with freethreading/docs/python-to-rust.md; copy it again"
    );
}
