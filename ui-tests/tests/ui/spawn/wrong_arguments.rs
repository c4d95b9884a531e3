use freethreading::{spawn, worker_fn};

#[worker_fn]
fn countdown(n: u32) {
    println!("{n}");
}

fn main() {
    let _ = spawn!(countdown(3, 2));
}
