//! The consumer side of both flavors behind one small trait, crossbeam-style:
//! `get`, `try_get` and `get_timeout` of [`Queue`](crate::Queue) and
//! [`SimpleQueue`](crate::SimpleQueue) are one [`Wait`] policy each over
//! [`Receive::receive`], so a public queue picks its flavor once (in its
//! private `receive`) and each flavor answers with the one error type,
//! [`GetError`].

use super::wait::Wait;
use super::{GetError, process, thread};
use crate::TaskValue;

/// A queue flavor's `get`, waiting as `wait` says.
pub(crate) trait Receive<T> {
    fn receive(&self, wait: Wait) -> Result<T, GetError>;
}

impl<T> Receive<T> for thread::Queue<T> {
    #[inline]
    fn receive(&self, wait: Wait) -> Result<T, GetError> {
        Ok(self.get(wait)?)
    }
}

impl<T> Receive<T> for thread::SimpleQueue<T> {
    #[inline]
    fn receive(&self, wait: Wait) -> Result<T, GetError> {
        Ok(self.get(wait)?)
    }
}

impl<T: TaskValue> Receive<T> for process::Queue<T> {
    #[inline]
    fn receive(&self, wait: Wait) -> Result<T, GetError> {
        self.get(wait)
    }
}
