//! Rank 0's side of one link: a worker (a pool's slot, or a `Worker`) on a
//! worker rank, greeted once, then sent jobs one at a time, each answered
//! before the next is sent, and closed when its crew is done.

use std::io;

use super::comm;
use super::ranks::{self, Place};
use super::wire::{Greeting, ORDER, Order, order_message};
use crate::current::{LiveWorker, register_rank};
use crate::process::wire::{Hello, JobHeader, Welcome};
use crate::task::TaskError;

/// Why a link could not be opened.
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
}

impl RankLink {
    /// Opens links named `names` on as many distinct worker ranks, each
    /// greeted and ready, or none.
    pub(crate) fn open_many(
        names: &[String],
        daemon: bool,
        initializer: Option<(&str, &[u8])>,
    ) -> Result<Vec<RankLink>, NotReady> {
        let world = super::world().map_err(NotReady::Lost)?;
        let worker_ranks = usize::try_from(world.size - 1).unwrap_or(0);
        let places = ranks::open(names.len(), worker_ranks).map_err(NotReady::Lost)?;
        // Every welcome first, then every greeting: the ranks start at once.
        let mut sent = Vec::with_capacity(places.len());
        let mut failure = None;
        for (place, name) in places.into_iter().zip(names) {
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
            match comm::send(place.rank, ORDER, &order_message(&order, &[])) {
                Ok(()) => sent.push((place, name)),
                Err(e) => {
                    ranks::close(place);
                    failure.get_or_insert(NotReady::Lost(e));
                }
            }
        }
        let mut links = Vec::with_capacity(sent.len());
        for (place, name) in sent {
            // A link is closed (and its place given back) when dropped.
            let mut link = RankLink {
                place,
                live: None,
                next_id: 0,
            };
            match link.greeting() {
                Ok(host) => {
                    link.live = Some(register_rank(name.clone(), place.rank, host, daemon));
                    links.push(link);
                }
                Err(why) => {
                    failure.get_or_insert(why);
                }
            }
        }
        match failure {
            None => Ok(links),
            Some(why) => Err(why),
        }
    }

    fn greeting(&mut self) -> Result<String, NotReady> {
        let bytes = comm::receive(self.place.rank, self.place.tag).map_err(NotReady::Lost)?;
        let greeting: Greeting = postcard::from_bytes(&bytes).map_err(|e| {
            NotReady::Lost(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "worker rank {} sent an unreadable greeting: {e}",
                    self.place.rank
                ),
            ))
        })?;
        match greeting.hello {
            Hello::Ready => Ok(greeting.host),
            Hello::InitializerFailed(error) => Err(NotReady::Initializer(error)),
            Hello::WrongBuild(_) => Err(NotReady::Lost(io::Error::other(format!(
                "worker rank {} on {} runs another build of the program than rank 0: \
                 start the same binary on every rank",
                self.place.rank, greeting.host
            )))),
        }
    }

    /// The worker rank this link runs on.
    pub(crate) fn rank(&self) -> comm::Rank {
        self.place.rank
    }

    /// Sends one job and waits for its reply frame.
    pub(crate) fn round_trip(
        &mut self,
        task: &str,
        chunk: bool,
        args: &[u8],
    ) -> io::Result<Vec<u8>> {
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
        comm::send(self.place.rank, ORDER, &order_message(&order, args))?;
        comm::receive(self.place.rank, self.place.tag)
    }
}

impl Drop for RankLink {
    /// Closes the link: the rank forgets it and says so, after every order
    /// sent before; only then is its tag free for another link.
    fn drop(&mut self) {
        let order = Order::Close {
            link: self.place.tag,
        };
        if comm::send(self.place.rank, ORDER, &order_message(&order, &[])).is_ok() {
            let _ = comm::receive(self.place.rank, self.place.tag);
        }
        self.live.take();
        ranks::close(self.place);
    }
}
