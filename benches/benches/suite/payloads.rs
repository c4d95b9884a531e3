//! Big payloads between processes (issue 13): `apply` of a 1, 16 or 64 MiB
//! buffer returning its length, the same echoed back, and a 16 MiB item
//! through a `Queue` to a worker and back; against their floors in the same
//! rounds: the same bytes through a Unix socket pair to a warm child of this
//! binary (one way, and both ways), and `memcpy` of the same bytes.
//!
//! Every figure is per call. Each is taken twice, under two keys:
//!
//! - `apply_bytes_*`, `echo_bytes_*`, `queue_bytes_16m`: a `Vec<u8>`. The
//!   one-way `apply` gives its buffer away, so each of its calls includes a
//!   clone of the bytes (a user who keeps them pays it too); a row times
//!   that clone alone, and another our call with the clone made before the
//!   timer starts, so it can be read apart.
//! - `apply_shared_*`, `echo_shared_*`, `queue_shared_16m`: a
//!   `bytes::Bytes`, which a caller that keeps its bytes passes without a
//!   copy (a clone is a reference count), and which a receiver gets from
//!   shared memory without a copy either.

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use bytes::Bytes;
use freethreading::{Queue, Worker, WorkerPool, worker_fn};
use freethreading_benches::Mode;
use freethreading_benches::suite::{Side, Suite, Weight};

use crate::ours::why;

/// Set for the socket floor's child: it serves [`socket_floor_child`].
pub(crate) const SOCKET_FLOOR_ENV_VAR: &str = "FT_BENCH_SOCKET_FLOOR";

const MIB: usize = 1 << 20;

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn length(bytes: Vec<u8>) -> usize {
    bytes.len()
}

#[worker_fn]
fn echo(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn shared_length(bytes: Bytes) -> usize {
    bytes.len()
}

#[worker_fn]
fn shared_echo(bytes: Bytes) -> Bytes {
    bytes
}

/// Takes each item from `there` and puts it on `back`, `times` times.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn bounce(there: Queue<Vec<u8>>, back: Queue<Vec<u8>>, times: u32) -> Result<(), String> {
    for _ in 0..times {
        back.put(there.get().map_err(why)?).map_err(why)?;
    }
    Ok(())
}

/// A user's struct with a big byte field marked for serde's bytes path.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Tagged {
    id: u32,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn tagged_length(tagged: Tagged) -> usize {
    tagged.data.len() + usize::try_from(tagged.id).unwrap_or(0)
}

/// As [`bounce`], for `Bytes`.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // a task owns its arguments
fn shared_bounce(there: Queue<Bytes>, back: Queue<Bytes>, times: u32) -> Result<(), String> {
    for _ in 0..times {
        back.put(there.get().map_err(why)?).map_err(why)?;
    }
    Ok(())
}

/// The sizes measured, and how many calls make one sample of each; a smoke
/// run passes smaller buffers (still over the shared-memory threshold).
fn sizes(mode: Mode) -> [(&'static str, &'static str, usize, u32); 3] {
    let calls = |full: u32| mode.pick(full, 1);
    let size = |full: usize| mode.pick(full, full.min(MIB) / 2);
    [
        ("apply_bytes_1m", "echo_bytes_1m", size(MIB), calls(32)),
        (
            "apply_bytes_16m",
            "echo_bytes_16m",
            size(16 * MIB),
            calls(4),
        ),
        (
            "apply_bytes_64m",
            "echo_bytes_64m",
            size(64 * MIB),
            calls(1),
        ),
    ]
}

pub(crate) fn run(suite: &Suite, pool: &WorkerPool) -> Result<(), String> {
    let mode = suite.mode();
    let floor = SocketFloor::start()?;
    let floor = std::cell::RefCell::new(floor);
    for (key, echo_key, len, calls) in sizes(mode) {
        let bytes = vec![7_u8; len];
        let mib = key_mib(key);
        suite.time(
            key,
            &format!("apply of a {mib} MiB Vec<u8> returning its length"),
            Weight::Light,
            calls,
            vec![
                Side::new(crate::processes::OURS, || {
                    for _ in 0..calls {
                        let n = pool.apply(length, (bytes.clone(),)).map_err(why)?;
                        check(n, len)?;
                    }
                    Ok(())
                }),
                Side::measured(
                    "freethreading (processes), the clone made before the timer",
                    || {
                        let mut took = std::time::Duration::ZERO;
                        for _ in 0..calls {
                            let argument = bytes.clone();
                            let start = Instant::now();
                            let n = pool.apply(length, (argument,)).map_err(why)?;
                            took += start.elapsed();
                            check(n, len)?;
                        }
                        Ok(took)
                    },
                ),
                Side::new("socket pair to a warm child, one way (floor)", || {
                    for _ in 0..calls {
                        check(floor.borrow_mut().send(&bytes, false)?, len)?;
                    }
                    Ok(())
                }),
                Side::new("the clone each of our calls makes (part of ours)", || {
                    for _ in 0..calls {
                        black_box(bytes.clone());
                    }
                    Ok(())
                }),
            ],
        );
        let mut ours_item = Some(bytes.clone());
        suite.time(
            echo_key,
            &format!("apply of a {mib} MiB Vec<u8> echoed back"),
            Weight::Light,
            calls,
            vec![
                Side::new(crate::processes::OURS, || {
                    for _ in 0..calls {
                        let item = ours_item.take().ok_or("the buffer was lost")?;
                        let back = pool.apply(echo, (item,)).map_err(why)?;
                        check(back.len(), len)?;
                        ours_item = Some(back);
                    }
                    Ok(())
                }),
                Side::new("socket pair to a warm child, both ways (floor)", || {
                    for _ in 0..calls {
                        check(floor.borrow_mut().send(&bytes, true)?, len)?;
                    }
                    Ok(())
                }),
            ],
        );
        shared_rows(suite, pool, &floor, (key, echo_key), &bytes, calls);
    }
    nested_row(suite, pool, mode);
    queue_row(suite, mode);
    shared_queue_row(suite, mode);
    floor.into_inner().stop();
    Ok(())
}

/// The `apply` rows again, passing `Bytes`.
fn shared_rows(
    suite: &Suite,
    pool: &WorkerPool,
    floor: &std::cell::RefCell<SocketFloor>,
    (key, echo_key): (&str, &str),
    bytes: &[u8],
    calls: u32,
) {
    let len = bytes.len();
    let mib = key_mib(key);
    let shared = Bytes::copy_from_slice(bytes);
    suite.time(
        &key.replace("_bytes_", "_shared_"),
        &format!("apply of a {mib} MiB bytes::Bytes returning its length"),
        Weight::Light,
        calls,
        vec![
            Side::new(crate::processes::OURS, || {
                for _ in 0..calls {
                    let n = pool.apply(shared_length, (shared.clone(),)).map_err(why)?;
                    check(n, len)?;
                }
                Ok(())
            }),
            Side::new("socket pair to a warm child, one way (floor)", || {
                for _ in 0..calls {
                    check(floor.borrow_mut().send(bytes, false)?, len)?;
                }
                Ok(())
            }),
        ],
    );
    let mut ours_item = Some(shared.clone());
    suite.time(
        &echo_key.replace("_bytes_", "_shared_"),
        &format!("apply of a {mib} MiB bytes::Bytes echoed back"),
        Weight::Light,
        calls,
        vec![
            Side::new(crate::processes::OURS, || {
                for _ in 0..calls {
                    let item = ours_item.take().ok_or("the buffer was lost")?;
                    let back = pool.apply(shared_echo, (item,)).map_err(why)?;
                    check(back.len(), len)?;
                    ours_item = Some(back);
                }
                Ok(())
            }),
            Side::new("socket pair to a warm child, both ways (floor)", || {
                for _ in 0..calls {
                    check(floor.borrow_mut().send(bytes, true)?, len)?;
                }
                Ok(())
            }),
        ],
    );
}

/// A 16 MiB `serde_bytes` field in a struct, against the same bytes as a
/// top-level `Vec<u8>`: what serde's bytes path costs through bitcode, which
/// visits it byte by byte.
fn nested_row(suite: &Suite, pool: &WorkerPool, mode: Mode) {
    let len = mode.pick(16 * MIB, MIB / 2);
    let tagged = Tagged {
        id: 0,
        data: vec![3_u8; len],
    };
    suite.time(
        "apply_nested_16m",
        "apply of a struct with a 16 MiB #[serde(with = \"serde_bytes\")] field",
        Weight::Light,
        1,
        vec![
            Side::new(crate::processes::OURS, || {
                check(
                    pool.apply(tagged_length, (tagged.clone(),)).map_err(why)?,
                    len,
                )
            }),
            Side::new(
                "freethreading (processes), the same bytes as a top-level Vec<u8>",
                || {
                    check(
                        pool.apply(length, (tagged.data.clone(),)).map_err(why)?,
                        len,
                    )
                },
            ),
        ],
    );
}

/// A 16 MiB `Vec<u8>` put on a queue, got by a worker, put back and got
/// here: two put + get pairs per round, against one `memcpy` per pair; the
/// worker's start is not timed ([`after_meeting`]).
fn queue_row(suite: &Suite, mode: Mode) {
    let len = mode.pick(16 * MIB, MIB / 2);
    let rounds: u32 = mode.pick(4, 1);
    let source = vec![5_u8; len];
    let mut target = vec![0_u8; len];
    let mut item = Some(source.clone());
    suite.time(
        "queue_bytes_16m",
        "Queue put + get of a 16 MiB Vec<u8> between two processes",
        Weight::Light,
        2 * rounds,
        vec![
            Side::measured(crate::processes::OURS, || {
                let there = Queue::new();
                let back = Queue::new();
                let worker = Worker::new(bounce, (there.clone(), back.clone(), rounds + 1));
                worker.start().map_err(why)?;
                let mut round = || -> Result<(), String> {
                    there
                        .put(item.take().ok_or("the item was lost")?)
                        .map_err(why)?;
                    let got = back.get().map_err(why)?;
                    check(got.len(), len)?;
                    item = Some(got);
                    Ok(())
                };
                let took = after_meeting(&mut round, rounds)?;
                worker.join().map_err(why)??;
                Ok(took)
            }),
            memcpy_side(&source, &mut target, rounds),
        ],
    );
}

/// As [`queue_row`], the item a `Bytes`.
fn shared_queue_row(suite: &Suite, mode: Mode) {
    let len = mode.pick(16 * MIB, MIB / 2);
    let rounds: u32 = mode.pick(4, 1);
    let source = vec![5_u8; len];
    let mut target = vec![0_u8; len];
    let mut item = Some(Bytes::copy_from_slice(&source));
    suite.time(
        "queue_shared_16m",
        "Queue put + get of a 16 MiB bytes::Bytes between two processes",
        Weight::Light,
        2 * rounds,
        vec![
            Side::measured(crate::processes::OURS, || {
                let there = Queue::new();
                let back = Queue::new();
                let worker = Worker::new(shared_bounce, (there.clone(), back.clone(), rounds + 1));
                worker.start().map_err(why)?;
                let mut round = || -> Result<(), String> {
                    there
                        .put(item.take().ok_or("the item was lost")?)
                        .map_err(why)?;
                    let got = back.get().map_err(why)?;
                    check(got.len(), len)?;
                    item = Some(got);
                    Ok(())
                };
                let took = after_meeting(&mut round, rounds)?;
                worker.join().map_err(why)??;
                Ok(took)
            }),
            memcpy_side(&source, &mut target, rounds),
        ],
    );
}

/// Meets a freshly started worker with one round (which waits for it to
/// start, and leaves both sides' memory as warm as the floor's buffers),
/// then times `rounds` more: the worker's start stays out of the figure,
/// as in the suite's `Lock`, `Event` and `Barrier` rows.
fn after_meeting(
    round: &mut impl FnMut() -> Result<(), String>,
    rounds: u32,
) -> Result<std::time::Duration, String> {
    round()?;
    let start = Instant::now();
    for _ in 0..rounds {
        round()?;
    }
    Ok(start.elapsed())
}

/// `memcpy` of `source`, twice a round: the floor of the queue rows.
fn memcpy_side<'a>(source: &'a [u8], target: &'a mut [u8], rounds: u32) -> Side<'a> {
    Side::new(
        "memcpy of the same bytes, twice a round (floor)",
        move || {
            for _ in 0..2 * rounds {
                target.copy_from_slice(black_box(source));
                black_box(&mut *target);
            }
            Ok(())
        },
    )
}

/// The size in a workload's key (`apply_bytes_16m`), which names it even in
/// a smoke run that passes less.
fn key_mib(key: &str) -> &str {
    key.trim_start_matches("apply_bytes_").trim_end_matches('m')
}

fn check(got: usize, len: usize) -> Result<(), String> {
    if got == len {
        Ok(())
    } else {
        Err(format!("{got} bytes of {len} arrived"))
    }
}

/// A child of this binary at the other end of a socket pair, which reads
/// each message whole into one buffer it keeps, and answers its length or
/// the bytes themselves.
struct SocketFloor {
    child: Child,
    stream: UnixStream,
    back: Vec<u8>,
}

impl SocketFloor {
    fn start() -> Result<SocketFloor, String> {
        let (stream, theirs) = UnixStream::pair().map_err(why)?;
        let child = Command::new(std::env::current_exe().map_err(why)?)
            .env(SOCKET_FLOOR_ENV_VAR, "1")
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .spawn()
            .map_err(why)?;
        Ok(SocketFloor {
            child,
            stream,
            back: Vec::new(),
        })
    }

    /// Sends `bytes`; the length the child read.
    fn send(&mut self, bytes: &[u8], both_ways: bool) -> Result<usize, String> {
        let mut head = [0_u8; 9];
        head[..8].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        head[8] = u8::from(both_ways);
        self.stream.write_all(&head).map_err(why)?;
        self.stream.write_all(bytes).map_err(why)?;
        if both_ways {
            self.back.resize(bytes.len(), 0);
            self.stream.read_exact(&mut self.back).map_err(why)?;
            return Ok(self.back.len());
        }
        let mut len = [0_u8; 8];
        self.stream.read_exact(&mut len).map_err(why)?;
        usize::try_from(u64::from_le_bytes(len)).map_err(why)
    }

    fn stop(mut self) {
        drop(self.stream);
        let _ = self.child.wait();
    }
}

/// The floor's child: serves messages on its standard input until it ends.
pub(crate) fn socket_floor_child() {
    let mut stream = std::io::stdin().lock();
    // The socket is both ways: answers go back through the same descriptor.
    let Ok(answer) = std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned() else {
        return;
    };
    let mut answer = std::fs::File::from(answer);
    let mut buffer = Vec::new();
    let mut head = [0_u8; 9];
    while stream.read_exact(&mut head).is_ok() {
        let Ok(len) = usize::try_from(u64::from_le_bytes(head[..8].try_into().unwrap_or_default()))
        else {
            return;
        };
        buffer.resize(len, 0);
        if stream.read_exact(&mut buffer).is_err() {
            return;
        }
        let reply = if head[8] == 1 {
            answer.write_all(&buffer)
        } else {
            answer.write_all(&(len as u64).to_le_bytes())
        };
        if reply.is_err() {
            return;
        }
    }
}
