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

pub(crate) mod memory {
    /// A hint the platform has no use for here.
    pub(crate) fn prefer_huge_pages(_buffer: &mut Vec<u8>) {}

    /// No worker processes here: nothing to tune.
    pub(crate) fn keep_freed_memory_for_reuse() {}
}

pub(crate) mod pid {
    pub(crate) fn current() -> u32 {
        std::process::id()
    }

    pub(crate) fn is_alive(_pid: u32) -> bool {
        true
    }

    pub(crate) fn is_running(_pid: u32, _start: u64) -> bool {
        true
    }

    pub(crate) fn own_start_time() -> Option<u64> {
        None
    }

    pub(crate) fn is_asleep(_pid: u32) -> bool {
        false
    }

    pub(crate) fn start_time_unreaped(_pid: u32) -> Option<u64> {
        None
    }
}

pub(crate) mod process {
    use std::ffi::OsString;
    use std::io::{self, Read, Write};
    use std::net::Shutdown;
    use std::process::Command;

    /// Whether this platform can run process workers.
    pub(crate) const PROCESSES_SUPPORTED: bool = false;

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "the process backend of freethreading runs on Linux only, for now",
        )
    }

    /// No channel can be made here; the type exists so that callers compile.
    #[derive(Debug)]
    pub(crate) struct Channel;

    /// Like a socket's: callers close a channel by dropping it.
    impl Drop for Channel {
        fn drop(&mut self) {}
    }

    impl Channel {
        pub(crate) fn pair() -> io::Result<(Channel, Channel)> {
            Err(unsupported())
        }

        #[allow(clippy::unused_self, reason = "the signature of UnixStream's")]
        pub(crate) fn try_clone(&self) -> io::Result<Channel> {
            Err(unsupported())
        }

        #[allow(clippy::unused_self, reason = "the signature of UnixStream's")]
        pub(crate) fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
            Err(unsupported())
        }
    }

    impl Read for &Channel {
        fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
            Err(unsupported())
        }
    }

    impl Write for &Channel {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(unsupported())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    pub(crate) fn exit_signal(status: std::process::ExitStatus) -> Option<i32> {
        #[cfg(unix)]
        return std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        {
            let _ = status;
            None
        }
    }

    pub(crate) fn signal_name(_signal: i32) -> Option<&'static str> {
        None
    }

    pub(crate) fn has_exited(_pid: u32) -> bool {
        false
    }

    pub(crate) fn build_id() -> u64 {
        0
    }

    pub(crate) fn command_for_worker(_arg0: Option<OsString>, _channel: Channel) -> Command {
        Command::new("freethreading-process-backend-unsupported")
    }

    pub(crate) fn spawn(_command: &mut Command) -> io::Result<std::process::Child> {
        Err(unsupported())
    }

    pub(crate) fn exit_code_name(_code: i32) -> Option<&'static str> {
        None
    }

    pub(crate) fn kill_with_this_process(_child: &std::process::Child) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn stdin_is_channel_from(_parent: u32) -> bool {
        false
    }

    pub(crate) fn take_inherited_channel() -> io::Result<Channel> {
        Err(unsupported())
    }

    pub(crate) fn die_with_parent(_parent: u32) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn send_descriptors(
        _channel: &Channel,
        _child: u32,
        _arena: Option<()>,
        _stdout: bool,
    ) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn receive_descriptors(_channel: &Channel) -> io::Result<(Option<()>, Option<()>)> {
        Err(unsupported())
    }

    pub(crate) fn adopt_stdout(_fd: ()) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) fn read_now_into(_channel: &Channel, _buffer: &mut Vec<u8>) -> io::Result<usize> {
        Err(unsupported())
    }

    pub(crate) fn read_into(_channel: &Channel, _buffer: &mut Vec<u8>) -> io::Result<usize> {
        Err(unsupported())
    }

    pub(crate) fn send(_channel: &Channel, _buf: &[u8]) -> io::Result<usize> {
        Err(unsupported())
    }

    pub(crate) fn send_vectored(
        _channel: &Channel,
        _parts: &[io::IoSlice<'_>],
    ) -> io::Result<usize> {
        Err(unsupported())
    }

    pub(crate) fn wait_readable(
        _channel: &Channel,
        _timeout: std::time::Duration,
    ) -> io::Result<bool> {
        Err(unsupported())
    }
}
