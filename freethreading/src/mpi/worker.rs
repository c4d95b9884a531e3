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
use crate::task::{TaskEntry, TaskError, registry, unwind};

/// The exit status of a rank that cannot go on (a broken order, MPI gone):
/// it aborts the whole job, so that rank 0 never waits for it in vain.
const EXIT_PROTOCOL: i32 = 70;

/// A link's identity on this rank.
struct Link {
    name: String,
    daemon: bool,
}

/// What a worker rank keeps between orders.
struct Rank<'w> {
    world: &'w comm::World,
    links: HashMap<Tag, Link>,
    /// The link whose job ran last, whose name the rank's worker has: the
    /// same link's jobs in a row (the usual case) change nothing.
    current: Option<Tag>,
    /// The task the last job ran: the same task's jobs in a row are found
    /// by name once.
    task: Option<&'static TaskEntry>,
    /// The reply frame, kept from one job to the next (let go after one
    /// over [`KEPT_FRAME`] bytes).
    frame: Vec<u8>,
}

/// The largest reply frame a rank keeps for its next job.
const KEPT_FRAME: usize = 64 * 1024;

/// Serves rank 0 until it says stop.
pub(super) fn serve(world: &comm::World) -> ! {
    let mut rank = Rank {
        world,
        links: HashMap::new(),
        current: None,
        task: None,
        frame: Vec::new(),
    };
    loop {
        // Each order is read where it landed, and answered from there.
        comm::receive_parts(0, ORDER, |bytes| rank.obey(bytes))
            .unwrap_or_else(|e| fail(world, &e.to_string()));
    }
}

impl Rank<'_> {
    fn obey(&mut self, bytes: &[u8]) {
        let world = self.world;
        let (order, payload) =
            split::<Order<'_>>(bytes).unwrap_or_else(|garbled| fail(world, &garbled.0));
        match order {
            Order::Welcome { link, welcome } => {
                self.current = None;
                let hello = if welcome.build == super::build_id() {
                    crate::current::become_rank_worker(&welcome.name, welcome.daemon);
                    match &welcome.initializer {
                        Some((name, args)) => {
                            match crate::current::acting_for(link_identity(link), || {
                                self.run(name, args, false, &mut Vec::new())
                            }) {
                                Ok(()) => Hello::Ready,
                                Err(error) => Hello::InitializerFailed(error),
                            }
                        }
                        None => Hello::Ready,
                    }
                } else {
                    Hello::WrongBuild(super::build_id())
                };
                if matches!(hello, Hello::Ready) {
                    self.links.insert(
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
                // Looked up only when the link changes: it is open as long
                // as it is current.
                let known = self.current == Some(link)
                    || self.links.get(&link).is_some_and(|me| {
                        crate::current::become_rank_worker(&me.name, me.daemon);
                        self.current = Some(link);
                        true
                    });
                // The reply is written in place as the task's result is
                // encoded, behind a header that says it is one; an error
                // takes its place.
                let mut frame = std::mem::take(&mut self.frame);
                start_reply(&mut frame, header.id, true);
                let result_at = frame.len();
                let outcome = if known {
                    // Links share this thread: each is a worker of its
                    // own, which an `RLock` must tell apart.
                    crate::current::acting_for(link_identity(link), || {
                        self.run(header.task, payload, header.chunk, &mut frame)
                    })
                } else {
                    // Its welcome was refused (another build, a failed
                    // initializer): none of its jobs runs here.
                    Err(TaskError::serialization(format!(
                        "worker rank {} did not take this worker on (another build, \
                         or its initializer failed)",
                        world.rank
                    )))
                };
                let outcome = outcome.and_then(|()| {
                    if super::fits(frame.len()) {
                        Ok(())
                    } else {
                        Err(TaskError::result(
                            header.task,
                            format!(
                                "{} bytes, over what one MPI message may carry",
                                frame.len() - result_at
                            ),
                        ))
                    }
                });
                if let Err(error) = outcome {
                    start_reply(&mut frame, header.id, false);
                    frame.extend_from_slice(&error_bytes(&error));
                }
                // What the task printed comes out before its result does.
                let _ = std::io::stdout().flush();
                answer(world, link, &frame);
                if frame.capacity() <= KEPT_FRAME {
                    self.frame = frame;
                }
            }
            Order::Close { link } => {
                self.links.remove(&link);
                if self.current == Some(link) {
                    self.current = None;
                }
                answer(world, link, &[]);
            }
            Order::Stop => {
                let _ = std::io::stdout().flush();
                comm::finalize();
                std::process::exit(0);
            }
        }
    }

    /// Finds `task` by name and runs it on the serialized `args`, its
    /// result appended to `out`. A panic that escapes the task's own catch
    /// (a result whose `Drop` panics, once encoded) is the job's error
    /// too: the rank must live on, since its death would end the whole MPI
    /// job.
    fn run(
        &mut self,
        task: &str,
        args: &[u8],
        chunk: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), TaskError> {
        let entry = if let Some(entry) = self.task.filter(|entry| entry.name() == task) {
            entry
        } else {
            let entry = registry::lookup(task)?;
            self.task = Some(entry);
            entry
        };
        unwind::catch(|| entry.task().call_inline_into(args, chunk, out)).and_then(|run| run)
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

/// Starts a reply frame in `frame`, in place of what it held: the process
/// backend's `ReplyHeader`, which says whether the result or an error
/// follows (`decode_reply` reads it on rank 0).
fn start_reply(frame: &mut Vec<u8>, id: u64, ok: bool) {
    frame.clear();
    *frame =
        postcard::to_extend(&ReplyHeader { id, ok }, std::mem::take(frame)).unwrap_or_default();
}

fn error_bytes(error: &TaskError) -> Vec<u8> {
    message::encode(error, Route::InlineOnly)
        .map(|encoded| encoded.wire)
        .unwrap_or_default()
}

fn fail(world: &comm::World, why: &str) -> ! {
    eprintln!(
        "freethreading worker rank {} on {}: {why}; aborting the MPI job",
        world.rank, world.host
    );
    comm::abort(EXIT_PROTOCOL)
}
