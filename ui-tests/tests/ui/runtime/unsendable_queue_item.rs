use std::rc::Rc;

use freethreading::Queue;

fn main() {
    freethreading::init().unwrap();
    // An `Rc` cannot cross to a worker process, nor to another thread.
    let queue = Queue::new();
    queue.put(Rc::new(1_u64)).unwrap();
}
