//! A worker rank: ranks 1 and up take over from `main` (in
//! [`take_over_if_worker`](super::take_over_if_worker)) and serve rank 0's
//! orders until it says stop, then finalize MPI and exit.
//!
//! Orders run one at a time, in the order they came, whichever link they
//! belong to: a link's welcome (the build check, the name its jobs run
//! under, its initializer), its jobs, its close. A job finds its task by
//! name in the registry, exactly as a worker process does, and a panic in
//! it is a `TaskError` in the reply.

use std::collections::HashMap;
use std::io::Write;

use super::comm::{self, Tag};
use super::wire::{Greeting, ORDER, Order};
use crate::codec::message::{self, Route};
use crate::process::wire::{Hello, ReplyHeader, split};
use crate::task::{TaskError, registry, unwind};

/// The exit status of a rank that cannot go on (a broken order, MPI gone):
/// it aborts the whole job, so that rank 0 never waits for it in vain.
const EXIT_PROTOCOL: i32 = 70;

/// A link's identity on this rank.
struct Link {
    name: String,
    daemon: bool,
}

/// Serves rank 0 until it says stop.
pub(super) fn serve(world: &comm::World) -> ! {
    let mut links: HashMap<Tag, Link> = HashMap::new();
    loop {
        let bytes = comm::receive_parts(0, ORDER).unwrap_or_else(|e| fail(world, &e.to_string()));
        let (order, payload) =
            split::<Order<'_>>(&bytes).unwrap_or_else(|garbled| fail(world, &garbled.0));
        match order {
            Order::Welcome { link, welcome } => {
                let hello = if welcome.build == super::build_id() {
                    crate::current::become_rank_worker(&welcome.name, welcome.daemon);
                    match &welcome.initializer {
                        Some((name, args)) => {
                            match crate::current::acting_for(link_identity(link), || {
                                run(name, args, false)
                            }) {
                                Ok(_) => Hello::Ready,
                                Err(error) => Hello::InitializerFailed(error),
                            }
                        }
                        None => Hello::Ready,
                    }
                } else {
                    Hello::WrongBuild(super::build_id())
                };
                if matches!(hello, Hello::Ready) {
                    links.insert(
                        link,
                        Link {
                            name: welcome.name,
                            daemon: welcome.daemon,
                        },
                    );
                }
                let greeting = Greeting {
                    hello,
                    host: world.host.clone(),
                };
                let bytes = postcard::to_stdvec(&greeting)
                    .unwrap_or_else(|e| fail(world, &format!("a greeting: {e}")));
                answer(world, link, &bytes);
            }
            Order::Job { link, header } => {
                let outcome = match links.get(&link) {
                    Some(me) => {
                        crate::current::become_rank_worker(&me.name, me.daemon);
                        // Links share this thread: each is a worker of its
                        // own, which an `RLock` must tell apart.
                        crate::current::acting_for(link_identity(link), || {
                            run(header.task, payload, header.chunk)
                        })
                    }
                    // Its welcome was refused (another build, a failed
                    // initializer): none of its jobs runs here.
                    None => Err(TaskError::serialization(format!(
                        "worker rank {} did not take this worker on (another build, \
                         or its initializer failed)",
                        world.rank
                    ))),
                };
                let reply = reply_message(header.id, header.task, outcome);
                // What the task printed comes out before its result does.
                let _ = std::io::stdout().flush();
                answer(world, link, &reply);
            }
            Order::Close { link } => {
                links.remove(&link);
                answer(world, link, &[]);
            }
            Order::Stop => {
                let _ = std::io::stdout().flush();
                comm::finalize();
                std::process::exit(0);
            }
        }
    }
}

/// The identity (`current::thread_ident`) of this rank's thread while it
/// runs link `link`'s jobs: above the thread counters, so no thread a task
/// starts has it.
fn link_identity(link: Tag) -> u64 {
    (1 << 47) | u64::try_from(link).unwrap_or(0)
}

fn answer(world: &comm::World, link: Tag, bytes: &[u8]) {
    if let Err(e) = comm::send_parts(0, link, bytes) {
        fail(world, &format!("answering rank 0: {e}"));
    }
}

/// A reply frame: the process backend's `ReplyHeader` and the result or
/// the error, which `decode_reply` reads on rank 0.
fn reply_message(id: u64, task: &str, outcome: Result<Vec<u8>, TaskError>) -> Vec<u8> {
    let (ok, bytes) = match outcome {
        Ok(bytes) if super::fits(bytes.len()) => (true, bytes),
        Ok(bytes) => (
            false,
            error_bytes(&TaskError::result(
                task,
                format!("{} bytes, over what one MPI message may carry", bytes.len()),
            )),
        ),
        Err(error) => (false, error_bytes(&error)),
    };
    // The header's few bytes first, in a vector with room for the rest.
    let frame = Vec::with_capacity(bytes.len() + 16);
    let mut frame = postcard::to_extend(&ReplyHeader { id, ok }, frame).unwrap_or_default();
    frame.extend_from_slice(&bytes);
    frame
}

fn error_bytes(error: &TaskError) -> Vec<u8> {
    message::encode(error, Route::InlineOnly)
        .map(|encoded| encoded.wire)
        .unwrap_or_default()
}

/// Finds `task` by name and runs it on the serialized `args`. A panic
/// that escapes the task's own catch (a result whose `Drop` panics, once
/// encoded) is the job's error too: the rank must live on, since its death
/// would end the whole MPI job.
fn run(task: &str, args: &[u8], chunk: bool) -> Result<Vec<u8>, TaskError> {
    unwind::catch(|| {
        let entry = registry::lookup(task)?;
        if chunk {
            entry.task().call_chunk_serialized(args)
        } else {
            entry.task().call_serialized(args)
        }
    })
    .and_then(|outcome| outcome)
    // Inline on a rank (it shares no memory with rank 0): nothing is lent.
    .map(|output| output.0.wire)
}

fn fail(world: &comm::World, why: &str) -> ! {
    eprintln!(
        "freethreading worker rank {} on {}: {why}; aborting the MPI job",
        world.rank, world.host
    );
    comm::abort(EXIT_PROTOCOL)
}
