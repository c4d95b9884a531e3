//! What rank 0 and a worker rank say to each other.
//!
//! Rank 0 sends every order to a worker rank with the tag [`ORDER`]: a
//! postcard [`Order`], followed for a job by its arguments as a message
//! (`codec/message.rs`). Several links (a pool's slot, a `Worker`) may
//! share one worker rank, which serves their orders in turn; each link
//! has a tag of its own, on which the rank answers it: a [`Greeting`] to
//! its welcome, a reply to each job (the process backend's reply frame,
//! a `ReplyHeader` and the result or the error, read by the same
//! `decode_reply`), an empty message when it is closed. MPI keeps the
//! messages of one sender, tag and receiver in order, so each link reads
//! its answers in the order of its orders.

use serde::{Deserialize, Serialize};

use super::comm::Tag;
use crate::process::wire::{Hello, JobHeader, Welcome};

/// The tag of every order from rank 0.
pub(crate) const ORDER: Tag = 1;
/// The tag of a request to rank 0's primitive service (`mpi/served/`).
pub(crate) const SERVE: Tag = 2;
/// The tag of the service's answers to a worker rank.
pub(crate) const SERVED: Tag = 3;
/// The first tag a link may answer on; below it, the protocol's own.
pub(crate) const FIRST_LINK_TAG: Tag = 16;
/// The last: MPI promises tags up to at least 32767 (`MPI_TAG_UB`).
pub(crate) const LAST_LINK_TAG: Tag = 32_767;

/// What rank 0 asks of a worker rank.
#[derive(Serialize, Deserialize)]
pub(crate) enum Order<'a> {
    /// A new link, answered on tag `link`: check the build, take the name,
    /// run the initializer, then answer with a [`Greeting`].
    Welcome { link: Tag, welcome: Welcome },
    /// A job of link `link`; its arguments follow the order.
    Job {
        link: Tag,
        #[serde(borrow)]
        header: JobHeader<'a>,
    },
    /// The link is done: the rank forgets it and answers with an empty message.
    Close { link: Tag },
    /// The program is ending: the rank finalizes MPI and exits.
    Stop,
}

/// A worker rank's answer to a welcome.
#[derive(Serialize, Deserialize)]
pub(crate) struct Greeting {
    pub(crate) hello: Hello,
    /// The rank's processor (host) name.
    pub(crate) host: String,
}

/// An order and what follows it, as one message.
pub(crate) fn order_message(order: &Order<'_>, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_order(order, payload, &mut bytes);
    bytes
}

/// Writes an order and what follows it into `frame`, as one message, in
/// place of what it held: a link keeps its frame from job to job.
pub(crate) fn write_order(order: &Order<'_>, payload: &[u8], frame: &mut Vec<u8>) {
    frame.clear();
    frame.reserve(payload.len() + 64);
    *frame = postcard::to_extend(order, std::mem::take(frame)).expect("an order always serializes");
    frame.extend_from_slice(payload);
}
