//! Rank 0's side of one link: a worker (a pool's slot, or a `Worker`) on a
//! worker rank. Opening a link only sends its welcome: nothing waits for
//! the rank, which may be busy with another link's task. The greeting is
//! read before the link's first reply ([`RankLink::ready`]); then jobs go
//! one at a time, each answered before the next is sent, and the link is
//! closed when dropped.

use std::io;

use super::comm;
use super::ranks::{self, Place};
use super::wire::{Greeting, ORDER, Order, order_message, write_order};
use crate::current::{LiveWorker, register_rank};
use crate::process::wire::{Hello, JobHeader, Welcome};
use crate::task::TaskError;

/// Why a link cannot serve.
pub(crate) enum NotReady {
    /// The initializer failed on the worker rank.
    Initializer(TaskError),
    /// The rank cannot serve: another build, or MPI itself failed.
    Lost(io::Error),
}

/// One worker on a worker rank, as rank 0 holds it.
pub(crate) struct RankLink {
    place: Place,
    /// Counts the link as a live worker while it is open.
    live: Option<LiveWorker>,
    next_id: u64,
    greeted: bool,
    /// The frame its jobs are written into, kept from one to the next
    /// (let go after one over [`KEPT_FRAME`] bytes).
    frame: Vec<u8>,
}

/// The largest order frame a link keeps for its next job.
const KEPT_FRAME: usize = 64 * 1024;

impl RankLink {
    /// Opens links named `names` on as many distinct worker ranks, the
    /// least busy: each is sent its welcome and counted as a live worker.
    pub(crate) fn open_many(
        names: &[String],
        daemon: bool,
        initializer: Option<(&str, &[u8])>,
    ) -> io::Result<Vec<RankLink>> {
        let world = super::world()?;
        if world.rank != 0 {
            // Worker ranks take orders from rank 0 alone.
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "a task on MPI worker rank {} cannot start workers or pools of its own: \
                     on the mpi backend only rank 0 does",
                    world.rank
                ),
            ));
        }
        let worker_ranks = usize::try_from(world.size - 1).unwrap_or(0);
        let places = ranks::open(names.len(), worker_ranks)?;
        let mut links = Vec::with_capacity(places.len());
        let mut places = places.into_iter();
        for (place, name) in places.by_ref().zip(names) {
            // From here on, closed (and its place given back) when dropped.
            let mut link = RankLink {
                place,
                live: None,
                next_id: 0,
                greeted: false,
                frame: Vec::new(),
            };
            let welcome = Welcome {
                build: super::build_id(),
                name: name.clone(),
                daemon,
                initializer: initializer.map(|(task, args)| (task.to_owned(), args.to_vec())),
                one_shot: false,
            };
            let order = Order::Welcome {
                link: place.tag,
                welcome,
            };
            if let Err(e) = send(place.rank, &order_message(&order, &[])) {
                // Never welcomed: nothing to close on the rank.
                link.greeted = true;
                link.place.tag = -1;
                drop(link);
                ranks::close(place);
                return Err(e);
            }
            let host = usize::try_from(place.rank)
                .ok()
                .and_then(|rank| world.hosts.get(rank))
                .cloned()
                .unwrap_or_default();
            link.live = Some(register_rank(name.clone(), place.rank, host, daemon));
            links.push(link);
        }
        Ok(links)
    }

    /// Waits for the rank's greeting, once: whether it serves this link.
    pub(crate) fn ready(&mut self) -> Result<(), NotReady> {
        if self.greeted {
            return Ok(());
        }
        let greeting = receive(self.place, |bytes| postcard::from_bytes::<Greeting>(bytes))
            .map_err(NotReady::Lost)?;
        self.greeted = true;
        let greeting = greeting.map_err(|e| {
            NotReady::Lost(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "worker rank {} sent an unreadable greeting: {e}",
                    self.place.rank
                ),
            ))
        })?;
        match greeting.hello {
            Hello::Ready => Ok(()),
            Hello::InitializerFailed(error) => Err(NotReady::Initializer(error)),
            Hello::WrongBuild(_) => Err(NotReady::Lost(io::Error::other(format!(
                "worker rank {} on {} runs another build of the program than rank 0: \
                 start the same binary on every rank",
                self.place.rank, greeting.host
            )))),
        }
    }

    /// Whether its greeting was read.
    pub(crate) fn is_ready(&self) -> bool {
        self.greeted
    }

    /// The worker rank this link runs on.
    pub(crate) fn rank(&self) -> comm::Rank {
        self.place.rank
    }

    /// Sends one job; its reply is read with [`reply`](Self::reply).
    pub(crate) fn send_job(&mut self, task: &str, chunk: bool, args: &[u8]) -> io::Result<()> {
        let header = JobHeader {
            id: self.next_id,
            task,
            chunk,
        };
        self.next_id += 1;
        let order = Order::Job {
            link: self.place.tag,
            header,
        };
        write_order(&order, args, &mut self.frame);
        let sent = send(self.place.rank, &self.frame);
        if self.frame.capacity() > KEPT_FRAME {
            self.frame = Vec::new();
        }
        sent
    }

    /// Waits for the reply frame of the job sent last (after the greeting,
    /// which must have been read), and returns what `read` makes of it.
    pub(crate) fn reply<R>(&mut self, read: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        receive(self.place, read)
    }
}

impl Drop for RankLink {
    /// Closes the link: the rank forgets it and says so, after every order
    /// sent before; only then is its tag free for another link.
    fn drop(&mut self) {
        if self.place.tag >= 0 {
            let order = Order::Close {
                link: self.place.tag,
            };
            if send(self.place.rank, &order_message(&order, &[])).is_ok() {
                // An unread greeting comes first, then the close's answer.
                if !self.greeted {
                    let _ = receive(self.place, |_| ());
                }
                let _ = receive(self.place, |_| ());
            }
            ranks::close(self.place);
        }
        self.live.take();
    }
}

/// Sends an order that `rank` will answer, counted as owed.
fn send(rank: comm::Rank, order: &[u8]) -> io::Result<()> {
    ranks::order_sent(rank);
    let sent = comm::send_parts(rank, ORDER, order);
    if sent.is_err() {
        ranks::answer_read(rank);
    }
    sent
}

/// Reads the next answer of the link at `place` with `read`. The answer
/// is counted read as soon as it has landed, before `read` runs: what
/// `read` does on rank 0 (on a driver, publish the outcome and run its
/// callbacks, for as long as they take) is no task still running on the
/// rank, which rank 0, exiting, would wait for and abort the MPI job over.
fn receive<R>(place: Place, read: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
    comm::receive_parts(place.rank, place.tag, |answer| {
        ranks::answer_read(place.rank);
        read(answer)
    })
}
