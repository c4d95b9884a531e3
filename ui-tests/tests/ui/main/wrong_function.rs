#[freethreading::main]
fn start() {}

fn main() {}
