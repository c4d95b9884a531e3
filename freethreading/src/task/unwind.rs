//! Catching a task's panic so that it reaches the caller as a [`TaskError`].
//!
//! The panic payload carries the message but not the location, so a panic hook,
//! installed once and chained to the one before it, records the location in a
//! thread-local just before unwinding starts. The previous hook still runs, so
//! the usual `thread '…' panicked at …` line is printed as for any thread.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::TaskError;

thread_local! {
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_location_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let location = info.location().map(ToString::to_string);
            // `try_with`: a panic while thread-locals are being destroyed must not abort.
            let _ = PANIC_LOCATION.try_with(|slot| *slot.borrow_mut() = location);
            previous(info);
        }));
    });
}

/// Runs `f`, turning a panic into a [`TaskError`] with its message and location.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, TaskError> {
    install_location_hook();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let location = PANIC_LOCATION.with(|slot| slot.borrow_mut().take());
        TaskError::panicked(payload_message(payload.as_ref()), location)
    })
}

/// The text of a panic payload: `panic!` makes a `&str` or a `String`.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic payload of a non-string type".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_message_and_location() {
        let error = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.panic_message(), Some("boom 7"));
        assert!(error.panic_location().unwrap().contains("unwind.rs"));
        assert_eq!(catch(|| 5), Ok(5));
    }
}
