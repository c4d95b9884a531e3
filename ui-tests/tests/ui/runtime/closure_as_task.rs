use freethreading::Worker;

fn main() {
    freethreading::init().unwrap();
    // A closure has no name a worker process could find it by.
    let worker = Worker::new(|x: u64| x + 1, (1,));
    let _ = worker.start();
}
