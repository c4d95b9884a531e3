//! How long a queue operation may block: the one thing that tells `put` from
//! `try_put` and `put_timeout` (and `get` from its variants) in every flavor.

use std::time::{Duration, Instant};

/// How long a queue operation may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Not at all: Python's `block=False`, the `try_` methods.
    Never,
    /// Until this instant: Python's `timeout=`, the `_timeout` methods.
    Until(Instant),
    /// As long as it takes: the plain methods.
    Forever,
}

impl Wait {
    /// At most `timeout` from now. A deadline too far to represent is no
    /// deadline at all rather than a panic.
    pub(crate) fn timeout(timeout: Duration) -> Self {
        Instant::now()
            .checked_add(timeout)
            .map_or(Wait::Forever, Wait::Until)
    }

    /// The deadline, or `None` for [`Wait::Forever`]; [`Wait::Never`] is a
    /// deadline already past.
    pub(crate) fn deadline(self) -> Option<Instant> {
        match self {
            Wait::Never => Some(Instant::now()),
            Wait::Until(deadline) => Some(deadline),
            Wait::Forever => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_too_long_to_represent_waits_forever() {
        assert_eq!(Wait::timeout(Duration::MAX), Wait::Forever);
        assert_eq!(Wait::Forever.deadline(), None);
        assert!(matches!(Wait::timeout(Duration::ZERO), Wait::Until(_)));
        assert!(Wait::Never.deadline().is_some());
    }
}
