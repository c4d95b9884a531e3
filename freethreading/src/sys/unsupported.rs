//! Platforms without shared-memory support yet (macOS, Windows): the same
//! names as `linux/`, failing with `io::ErrorKind::Unsupported`.

fn unsupported() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "freethreading shares primitives between processes only on Linux for now",
    )
}

pub(crate) mod futex {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// Never reached: no arena exists here to hold a futex word.
    pub(crate) fn wait(_word: &AtomicU32, _expected: u32, timeout: Option<Duration>) {
        std::thread::sleep(timeout.unwrap_or(Duration::from_millis(1)));
    }

    pub(crate) fn wake(_word: &AtomicU32, _n: u32) {}
}

pub(crate) mod memfd {
    use std::convert::Infallible;
    use std::io;
    use std::ptr::NonNull;

    /// A mapping that cannot exist here: no arena is ever made.
    pub(crate) struct Mapping {
        never: Infallible,
    }

    impl Mapping {
        pub(crate) fn base(&self) -> NonNull<u8> {
            match self.never {}
        }

        pub(crate) fn len(&self) -> usize {
            match self.never {}
        }
    }

    pub(crate) fn unsupported<T>() -> io::Result<T> {
        Err(super::unsupported())
    }
}

pub(crate) mod pid {
    pub(crate) fn current() -> u32 {
        std::process::id()
    }

    pub(crate) fn is_alive(_pid: u32) -> bool {
        true
    }
}
