//! A worker rank's side of rank 0's primitive service: a request, then its
//! answer. Several threads of a rank (a task's own threads) may wait at
//! once: whoever reads an answer that is another's leaves it in
//! [`ARRIVED`] for its owner, who looks there between its own reads.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::ops::{Answer, Op, Reply, Request};
use crate::mpi::comm::{self, Backoff};
use crate::mpi::wire::{SERVE, SERVED};

static NEXT: AtomicU64 = AtomicU64::new(0);
static ARRIVED: Mutex<Option<HashMap<u64, Answer>>> = Mutex::new(None);

/// Asks rank 0 to run `op` on object `object`, and waits for the answer.
pub(super) fn call(object: u64, op: Op) -> io::Result<Answer> {
    let number = NEXT.fetch_add(1, Ordering::Relaxed);
    let request = Request {
        number,
        object,
        thread: crate::current::thread_ident(),
        op,
    };
    send(&request)?;
    loop {
        match answer_to(number)? {
            // This thread arrived last at a barrier: it runs the action,
            // then waits on for its answer.
            Answer::RunAction(name) => {
                let ran = super::object::call_action(&name).is_ok();
                send(&Request {
                    number,
                    object,
                    thread: request.thread,
                    op: Op::ActionDone(ran),
                })?;
            }
            answer => return Ok(answer),
        }
    }
}

/// Tells rank 0 `op` about object `object`, expecting no answer.
pub(super) fn tell(object: u64, op: Op) -> io::Result<()> {
    send(&Request {
        number: NEXT.fetch_add(1, Ordering::Relaxed),
        object,
        thread: crate::current::thread_ident(),
        op,
    })
}

fn send(request: &Request) -> io::Result<()> {
    let bytes = postcard::to_stdvec(request).map_err(io::Error::other)?;
    comm::send(0, SERVE, &bytes)
}

/// The next answer to request `number`.
fn answer_to(number: u64) -> io::Result<Answer> {
    let mut backoff = Backoff::new();
    loop {
        if let Some(answer) = ARRIVED.lock().as_mut().and_then(|a| a.remove(&number)) {
            return Ok(answer);
        }
        match comm::try_receive(0, SERVED)? {
            Some(bytes) => {
                let reply: Reply = postcard::from_bytes(&bytes).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("an unreadable answer from rank 0: {e}"),
                    )
                })?;
                if reply.number == number {
                    return Ok(reply.answer);
                }
                ARRIVED
                    .lock()
                    .get_or_insert_with(HashMap::new)
                    .insert(reply.number, reply.answer);
            }
            None => backoff.pause(),
        }
    }
}
