//! Usage guide, `BoundedSemaphore`: releasing more than acquired is an error,
//! where a plain `Semaphore` just counts up.

use freethreading::{BoundedSemaphore, Semaphore};

#[freethreading::main]
fn main() {
    let s = Semaphore::new(1);
    s.release(); // no error, the counter increases silently
    s.release(); // still no error

    let b = BoundedSemaphore::new(1);
    match b.release() {
        Ok(()) => println!("released"),
        Err(error) => println!("Error: {error}"),
    }
}
