#[freethreading::main]
async fn main() {}
