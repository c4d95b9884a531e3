use freethreading::{parallel_map, worker_fn, Worker, WorkerPool};

// The one error is the signature's; the uses below add nothing.
#[worker_fn]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

fn main() {
    freethreading::init().unwrap();
    let _ = Worker::new(shout, ("hi".to_string(),));
    let pool = WorkerPool::new(2).unwrap();
    let _ = pool.map(shout, vec!["a".to_string()]);
    let _ = parallel_map!(shout, vec!["b".to_string()]);
    let _ = shout("direct");
}
