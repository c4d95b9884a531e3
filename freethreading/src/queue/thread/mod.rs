//! The thread flavor of the queues: items stay in this process, in a
//! crossbeam channel; the flavor of [`Queue`](crate::Queue) adds atomic
//! counters for `task_done`/`join` and for a bound too large to preallocate.

mod channel;
mod joinable;
mod parking;
mod room;
mod simple;
mod tasks;

pub(crate) use joinable::Queue;
pub(crate) use simple::SimpleQueue;
