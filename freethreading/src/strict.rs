//! Strict mode: on threads, every task's arguments and result, and every
//! queue item, make the serialize/deserialize round trip they would make on
//! processes, so that a program that only works on threads fails there too
//! (a `Serialize` that errors, a `#[serde(skip)]` field whose value a worker
//! process would never see).
//!
//! `FREETHREADING_STRICT=1` turns it on and `=0` off; unset, it is on in test
//! binaries (those with [`test_support!`](crate::test_support)) and off
//! elsewhere, where the round trips would only cost time. It has no effect on
//! processes, where the round trips are real.

use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::message::{self, Route};
use crate::queue::PutError;
use crate::task::{Task, TaskError, unwind};

/// The environment variable of strict mode: `1` turns it on, `0` off.
///
/// In strict mode every task argument and result, and every queue item, makes
/// on threads the serialize/deserialize round trip it makes on processes, so
/// that a program tested on threads does not fail on processes: a value whose
/// `Serialize` errors fails its call (or its `put`) on both backends, and a
/// `#[serde(skip)]` field arrives as its default on both. Unset, strict mode
/// is on in test binaries (those with [`test_support!`](crate::test_support))
/// and off elsewhere, where the round trips would only cost time; any value
/// but `0`, `false`, `off` or `no` turns it on.
///
/// ```text
/// FREETHREADING_STRICT=1 cargo run --release   # check a program on threads as processes would
/// ```
///
/// ```
/// assert_eq!(freethreading::STRICT_ENV_VAR, "FREETHREADING_STRICT");
/// ```
pub const STRICT_ENV_VAR: &str = "FREETHREADING_STRICT";

/// Whether strict mode is on, read once.
pub(crate) fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| match std::env::var(STRICT_ENV_VAR) {
        // Anything but an explicit "off" is on: the safe side.
        Ok(value) => !matches!(value.trim(), "0" | "false" | "off" | "no"),
        Err(_) => crate::process::is_test_binary(),
    })
}

/// `value` after the trip a worker process would give it, in the same
/// format (a byte buffer copied as it is), but never through shared memory.
fn round_trip<T: Serialize + DeserializeOwned + 'static>(value: &T) -> Result<T, String> {
    let encoded = message::encode(value, Route::InlineOnly).map_err(|e| e.to_string())?;
    message::decode(&encoded.wire).map_err(|e| e.to_string())
}

/// Runs `task` on `args` on this thread, a panic caught as a [`TaskError`];
/// in strict mode the arguments and the result first make their round trip,
/// failing as they would on processes.
pub(crate) fn call<T: Task>(task: T, args: T::Args) -> Result<T::Output, TaskError> {
    run(task, arguments(task, args)?)
}

/// The arguments of `task`, in strict mode after their round trip.
pub(crate) fn arguments<T: Task>(task: T, args: T::Args) -> Result<T::Args, TaskError> {
    if !enabled() {
        return Ok(args);
    }
    round_trip(&args).map_err(|e| TaskError::arguments(task.name(), e))
}

/// Runs `task` on arguments already through [`arguments`], a panic caught;
/// in strict mode the result then makes its round trip.
pub(crate) fn run<T: Task>(task: T, args: T::Args) -> Result<T::Output, TaskError> {
    let output = unwind::catch(|| task.call(args))?;
    if !enabled() {
        return Ok(output);
    }
    round_trip(&output).map_err(|e| TaskError::result(task.name(), e))
}

/// A thread queue's item, in strict mode after its round trip; an item that
/// cannot make it is refused as a process queue refuses it.
pub(crate) fn queue_item<T: Serialize + DeserializeOwned + 'static>(
    item: T,
) -> Result<T, PutError<T>> {
    if !enabled() {
        return Ok(item);
    }
    round_trip(&item).map_err(|e| PutError::Encode(item, e))
}
