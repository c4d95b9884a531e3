//! Sending and receiving on a crossbeam channel as a [`Wait`] allows.
//!
//! Every queue of this flavor holds both ends of its channel for as long as
//! it lives, so the channel is never disconnected and crossbeam's
//! `Disconnected` errors cannot occur.

use crossbeam_channel::{
    Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};

use crate::queue::wait::Wait;

const CONNECTED: &str = "a queue holds both ends of its channel, so it stays connected";

/// Sends `item`, waiting for room as `wait` allows; gives the item back if
/// the channel stayed full.
pub(super) fn send<T>(sender: &Sender<T>, item: T, wait: Wait) -> Result<(), T> {
    match wait {
        Wait::Never => sender.try_send(item).map_err(|error| match error {
            TrySendError::Full(item) => item,
            TrySendError::Disconnected(_) => unreachable!("{CONNECTED}"),
        }),
        Wait::Until(deadline) => {
            sender
                .send_deadline(item, deadline)
                .map_err(|error| match error {
                    SendTimeoutError::Timeout(item) => item,
                    SendTimeoutError::Disconnected(_) => unreachable!("{CONNECTED}"),
                })
        }
        Wait::Forever => match sender.send(item) {
            Ok(()) => Ok(()),
            Err(_) => unreachable!("{CONNECTED}"),
        },
    }
}

/// Receives an item, waiting for one as `wait` allows; `None` if the channel
/// stayed empty.
pub(super) fn receive<T>(receiver: &Receiver<T>, wait: Wait) -> Option<T> {
    match wait {
        Wait::Never => match receiver.try_recv() {
            Ok(item) => Some(item),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => unreachable!("{CONNECTED}"),
        },
        Wait::Until(deadline) => match receiver.recv_deadline(deadline) {
            Ok(item) => Some(item),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => unreachable!("{CONNECTED}"),
        },
        Wait::Forever => match receiver.recv() {
            Ok(item) => Some(item),
            Err(_) => unreachable!("{CONNECTED}"),
        },
    }
}
