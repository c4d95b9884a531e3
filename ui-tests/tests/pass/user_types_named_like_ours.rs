// A user's own `Task`, `Worker`, `TaskEntry`, ... beside the generated code.
#![allow(dead_code)]

struct Task;
struct Worker;
struct WorkerPool;
struct TaskEntry;
struct ClosureTask;
trait TaskValue {}
mod __private {}

#[freethreading::worker_fn]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(freethreading::Task::call(square, (4,)), 16);
}
