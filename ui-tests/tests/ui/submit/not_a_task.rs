use freethreading::{WorkerPoolExecutor, submit};

fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {
    let executor = WorkerPoolExecutor::new(2).unwrap();
    let _ = submit!(executor, add(2, 3));
}
