use std::rc::Rc;

use freethreading::worker_fn;

#[worker_fn]
fn shared(value: u64) -> Rc<u64> {
    Rc::new(value)
}

fn main() {}
