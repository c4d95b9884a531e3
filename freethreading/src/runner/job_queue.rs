//! The queue a crew's drivers take their jobs from, shared by the process
//! crew (`process/mod.rs`) and the MPI crew (`mpi.rs`): crossbeam's
//! unbounded multi-consumer channel of serialized jobs (`process/job.rs`),
//! whose sending end the queue alone holds, so that closing it disconnects
//! every driver once the jobs queued before are taken, and whose receiving
//! end it keeps, to fail what is still queued when the crew is terminated
//! or its pending work cancelled.

use crossbeam_channel::{Receiver, Sender};
use parking_lot::RwLock;

use super::process::job::Job;
use super::{Failure, Refused};

pub(super) struct JobQueue {
    /// `None` once closed: senders never outlive it, so closing disconnects.
    sender: RwLock<Option<Sender<Job>>>,
    receiver: Receiver<Job>,
}

impl JobQueue {
    pub(super) fn new() -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        JobQueue {
            sender: RwLock::new(Some(sender)),
            receiver,
        }
    }

    /// A receiving end for a driver: it yields jobs until the queue is
    /// closed and empty.
    pub(super) fn receiver(&self) -> Receiver<Job> {
        self.receiver.clone()
    }

    /// Queues `job`; refused once the queue is closed.
    pub(super) fn submit(&self, job: Job) -> Result<(), Refused> {
        match &*self.sender.read() {
            Some(sender) => sender.send(job).map_err(|_| Refused),
            None => Err(Refused),
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.sender.read().is_none()
    }

    /// Takes no more jobs; the drivers run those queued, then end.
    pub(super) fn close(&self) {
        self.sender.write().take();
    }

    /// Fails every job still queued with `why`.
    pub(super) fn discard(&self, why: &Failure) {
        while let Ok(job) = self.receiver.try_recv() {
            job.fail(why.clone());
        }
    }
}
