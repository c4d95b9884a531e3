//! The worker side: a process started from this same binary recognises
//! itself, takes over from `main`, and serves its parent's jobs until the
//! parent closes the channel (or resets it) or dies; it then exits quietly.
//!
//! The take-over point is [`init`](crate::init) (which
//! `#[freethreading::main]` puts first in `main`), else the first worker,
//! pool, executor or primitive made (all through
//! [`entry::take_over_if_worker`](crate::entry::take_over_if_worker)), so a
//! worker never runs much of `main` even when `init` is forgotten; a test binary's entry point is the test that
//! [`test_support!`](crate::test_support) defines. The worker is told apart
//! from a program that merely inherited the environment variable by its
//! standard input, which must be a socket its parent made. A worker whose
//! parent died before it took over exits at once, whatever `main` holds.
//!
//! Jobs run one at a time on the thread that took over. The worker dies with
//! its parent: the kernel kills it when the parent's thread that started it
//! ends (a driver or monitor thread, which outlives its worker by design, so
//! in practice when the parent process dies). A parent that terminates a
//! pool kills its workers itself.

use std::io::{self, Write};
use std::process;
use std::sync::atomic::{AtomicBool, Ordering};

use super::wire::{
    FrameReader, FrameWriter, Hello, JobHeader, PROTOCOL, ReplyHeader, SPIN, WORKER_ENV_VAR,
    Welcome, split, write_message,
};
use crate::codec::message::{self, Message, Route};
use crate::sys::process::{self as sys, Channel};
use crate::task::{TaskError, registry};

/// The exit status of a worker whose parent broke the protocol, or that could
/// not talk to its parent at all.
const EXIT_PROTOCOL: i32 = 70;
/// The exit status of a worker that is another build than its parent.
const EXIT_WRONG_BUILD: i32 = 71;

/// If this process is a worker, serves its parent and exits; else returns.
pub(crate) fn take_over_if_worker() {
    static CHECKED: AtomicBool = AtomicBool::new(false);
    // Every use of the crate passes here: a plain load once it is settled.
    if CHECKED.load(Ordering::Acquire) || CHECKED.swap(true, Ordering::AcqRel) {
        return;
    }
    if let Some(parent) = parent_if_worker() {
        serve(parent);
    }
}

/// The parent's process id, when the environment says this is a worker of
/// that parent and standard input is a channel the parent made. A program
/// that only inherited the variable (a task that runs this binary as a
/// plain command, say) is no worker and runs as usual.
fn parent_if_worker() -> Option<u32> {
    let value = std::env::var_os(WORKER_ENV_VAR)?;
    let value = value.to_string_lossy();
    let (protocol, parent) = value.split_once(':')?;
    let parent = parent.parse::<u32>().ok()?;
    (protocol == PROTOCOL && sys::stdin_is_channel_from(parent)).then_some(parent)
}

/// Whether a failed read means the parent hung up: a parent that closes the
/// channel with a reply still unread resets it, rather than ending it.
fn hung_up(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof
    )
}

fn fail(why: &str) -> ! {
    eprintln!("freethreading worker process {}: {why}", process::id());
    process::exit(EXIT_PROTOCOL);
}

/// Ends the worker, with what its tasks printed written out.
fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    process::exit(code);
}

fn serve(parent: u32) -> ! {
    if sys::die_with_parent(parent).is_err() {
        // The parent is gone already: nobody is waiting for this worker.
        exit(0);
    }
    // Task after task allocates and frees the same buffers: keep them.
    crate::sys::memory::keep_freed_memory_for_reuse();
    let channel = sys::take_inherited_channel()
        .unwrap_or_else(|e| fail(&format!("no channel to the parent on standard input: {e}")));
    let (arena, stdout) = match sys::receive_descriptors(&channel) {
        Ok(received) => received,
        // The parent is gone: nobody is waiting for this worker.
        Err(e) if hung_up(&e) => exit(0),
        Err(e) => fail(&format!("reading the parent's shared memory: {e}")),
    };
    if let Some(stdout) = stdout {
        // A test binary's worker starts with its output going nowhere, so
        // that the harness's lines before the take-over stay unseen; the
        // parent's output is its own from here, before any task runs.
        let _ = io::stdout().flush();
        if let Err(e) = sys::adopt_stdout(stdout) {
            fail(&format!(
                "cannot write to the parent's standard output: {e}"
            ));
        }
    }
    if let Some(arena) = arena {
        if let Err(e) = crate::shared::adopt_arena(arena) {
            fail(&format!("cannot map the parent's shared memory: {e}"));
        }
    }

    let mut reader = FrameReader::new();
    let welcome: Welcome = match reader.read_frame(&channel) {
        Ok(Some(frame)) => match split::<Welcome>(frame) {
            Ok((welcome, _)) => welcome,
            Err(garbled) => fail(&garbled.0),
        },
        Ok(None) => exit(0),
        Err(e) if hung_up(&e) => exit(0),
        Err(e) => fail(&format!("reading the handshake: {e}")),
    };
    if welcome.build != sys::build_id() {
        let _ = write_message(&channel, &Hello::WrongBuild(sys::build_id()));
        exit(EXIT_WRONG_BUILD);
    }
    crate::current::become_process_worker(welcome.name, welcome.daemon);
    if let Some((name, args)) = welcome.initializer {
        if let Err(error) = run(&name, &args, false) {
            let _ = write_message(&channel, &Hello::InitializerFailed(error));
            exit(0);
        }
    }
    let mut writer = FrameWriter::default();
    writer
        .push(&Hello::Ready, &[])
        .unwrap_or_else(|garbled| fail(&garbled.0));
    // Sent at once, even by a one-shot worker whose job waits in the
    // channel: a worker that dies in its task must not look like one that
    // never took over.
    if writer.send_to(&channel).is_err() {
        exit(0);
    }
    serve_jobs(&channel, reader, writer, welcome.one_shot)
}

/// Runs every job that arrives, replying in order, until the channel ends.
///
/// Jobs are read many at a time (whatever the parent has sent), but each is
/// answered on its own. A `one_shot` worker exits after its first reply.
fn serve_jobs(
    channel: &Channel,
    mut reader: FrameReader,
    mut writer: FrameWriter,
    one_shot: bool,
) -> ! {
    loop {
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(garbled) => fail(&garbled.0),
            };
            let (header, args) =
                split::<JobHeader<'_>>(frame).unwrap_or_else(|garbled| fail(&garbled.0));
            // The result's block, if it has one, is lent until the reply
            // is sent: a result over the limit drops it unread.
            let mut lent = None;
            let pushed = match run(header.task, args, header.chunk) {
                Ok(Message { wire, lent: block }) => {
                    let reply = ReplyHeader {
                        id: header.id,
                        ok: true,
                    };
                    let pushed = writer.push_shared(&reply, &bytes::Bytes::from(wire));
                    lent = Some(block);
                    pushed
                }
                Err(error) => encode_error(&mut writer, header.id, &error),
            };
            if let Err(too_big) = pushed {
                drop(lent.take());
                let error = TaskError::result(header.task, too_big.0);
                encode_error(&mut writer, header.id, &error)
                    .unwrap_or_else(|garbled| fail(&garbled.0));
            }
            // Each reply leaves before the next job starts, so that if that
            // job kills the process, the parent knows which one did and that
            // every job before it is done. What the task printed comes out
            // before its result does.
            let _ = std::io::stdout().flush();
            if writer.send_to(channel).is_err() {
                exit(0);
            }
            // A streamed result is written now, the parent copying it out
            // behind; then its block is the parent's to free.
            if let Some(lent) = lent {
                lent.hand_over();
            }
            if one_shot {
                exit(0);
            }
        }
        match reader.fill_soon(channel, SPIN, None) {
            Ok(true) => {}
            Ok(false) => exit(0),
            Err(e) if hung_up(&e) => exit(0),
            Err(e) => fail(&format!("reading a job: {e}")),
        }
    }
}

fn encode_error(
    writer: &mut FrameWriter,
    id: u64,
    error: &TaskError,
) -> Result<(), super::wire::Garbled> {
    // An error goes inline: it is small, and a reply that fails to be
    // written must not leave a block behind.
    let bytes = message::encode(error, Route::InlineOnly)
        .map(|encoded| encoded.wire)
        .unwrap_or_default();
    writer.push(&ReplyHeader { id, ok: false }, &bytes)
}

/// Finds `task` by name and runs it on the serialized `args`. A panic that
/// escapes the task's own catch (a result whose `Drop` panics, once it is
/// encoded) is the job's error, not the end of the worker.
fn run(task: &str, args: &[u8], chunk: bool) -> Result<Message, TaskError> {
    let entry = registry::lookup(task)?;
    let output = crate::task::unwind::catch(|| {
        if chunk {
            entry.task().call_chunk_serialized(args)
        } else {
            entry.task().call_serialized(args)
        }
    })??;
    Ok(output.0)
}
