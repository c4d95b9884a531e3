#[freethreading::main]
mod program {}

fn main() {}
