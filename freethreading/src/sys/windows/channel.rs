//! The byte stream between a parent and one worker: the two ends of a
//! duplex, byte-mode named pipe opened for overlapped I/O, so that one
//! thread can block reading while another writes (synchronous handles would
//! queue the write behind the read). The name is random and refuses remote
//! clients and a second instance; the client end is opened at once, before
//! anything else can.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use windows_sys::Win32::Foundation::{
    ERROR_BROKEN_PIPE, ERROR_IO_PENDING, ERROR_NO_DATA, ERROR_OPERATION_ABORTED,
    ERROR_PIPE_NOT_CONNECTED, GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE, TRUE,
    WAIT_OBJECT_0,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, OPEN_EXISTING,
    PIPE_ACCESS_DUPLEX, ReadFile, WriteFile,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};
use windows_sys::Win32::System::Pipes::{
    CreateNamedPipeW, DisconnectNamedPipe, PIPE_READMODE_BYTE, PIPE_REJECT_REMOTE_CLIENTS,
    PIPE_TYPE_BYTE, PIPE_WAIT, PeekNamedPipe,
};
use windows_sys::Win32::System::Threading::{CreateEventW, WaitForSingleObject};

/// One end of a channel; clones share the handle's file object and state.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    handle: OwnedHandle,
    /// Whether this is the server end (the parent's), which can disconnect.
    server: bool,
    /// Set by `shutdown`: reads end, writes fail.
    closed: AtomicBool,
    /// A byte read ahead by `wait_readable`, delivered first.
    ahead: Mutex<Option<u8>>,
    /// Manual-reset events of requests that have ended, for the next ones:
    /// creating and closing one per request cost two more system calls (a
    /// round trip to the wineserver each, under Wine). A read or write
    /// resets its event as it begins.
    events: Mutex<Vec<OwnedHandle>>,
}

const BUFFER: u32 = 64 * 1024;

impl Channel {
    /// A connected pair: the first end for this process, the second for a
    /// child (as its standard input).
    pub(crate) fn pair() -> io::Result<(Channel, Channel)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = super::wide(format!(
            r"\\.\pipe\freethreading-{}-{}-{:x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            super::pid::own_start_time().unwrap_or(0),
        ));
        // SAFETY: plain call with a NUL-terminated name.
        let server = unsafe {
            CreateNamedPipeW(
                name.as_ptr(),
                PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                1,
                BUFFER,
                BUFFER,
                0,
                std::ptr::null(),
            )
        };
        if server == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let server = super::owned(server)?;
        // SAFETY: plain call; the only instance is ours, so this client
        // connects to it (the server needs no ConnectNamedPipe then).
        let client = unsafe {
            CreateFileW(
                name.as_ptr(),
                GENERIC_READ | GENERIC_WRITE,
                0,
                std::ptr::null(),
                OPEN_EXISTING,
                FILE_FLAG_OVERLAPPED,
                std::ptr::null_mut(),
            )
        };
        if client == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        let client = super::owned(client)?;
        Ok((Channel::new(server, true), Channel::new(client, false)))
    }

    fn new(handle: OwnedHandle, server: bool) -> Channel {
        let inner = Inner {
            handle,
            server,
            closed: AtomicBool::new(false),
            ahead: Mutex::new(None),
            events: Mutex::new(Vec::new()),
        };
        Channel {
            inner: Arc::new(inner),
        }
    }

    /// Wraps an inherited client end (a worker's standard input).
    pub(crate) fn from_client(handle: OwnedHandle) -> Channel {
        Channel::new(handle, false)
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.inner.handle.as_raw_handle()
    }

    /// The handle, for a child to inherit; `None` if a clone still shares it.
    pub(crate) fn into_handle(self) -> Option<OwnedHandle> {
        Arc::into_inner(self.inner).map(|inner| inner.handle)
    }

    #[allow(clippy::unnecessary_wraps, reason = "the signature of UnixStream's")]
    pub(crate) fn try_clone(&self) -> io::Result<Channel> {
        Ok(self.clone())
    }

    /// Ends the channel for both sides: pending reads and writes of every
    /// clone fail, and the peer reads the end. A pipe has no half-close, so
    /// `Shutdown::Write` ends both directions too, on the parent's end; on a
    /// worker's end it only ends this process's use of it.
    #[allow(clippy::unnecessary_wraps, reason = "the signature of UnixStream's")]
    pub(crate) fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        self.inner.closed.store(true, Ordering::SeqCst);
        // SAFETY: a live handle; a null OVERLAPPED cancels all its I/O.
        unsafe { CancelIoEx(self.raw(), std::ptr::null()) };
        if self.inner.server {
            // SAFETY: a live server handle of a named pipe.
            unsafe { DisconnectNamedPipe(self.raw()) };
        }
        Ok(())
    }

    fn closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Runs one overlapped read or write to its end, or for `timeout`:
    /// `Ok(None)` if it timed out (and was cancelled, nothing transferred).
    fn overlapped(
        &self,
        timeout: Option<Duration>,
        start: impl FnOnce(HANDLE, *mut OVERLAPPED) -> windows_sys::core::BOOL,
    ) -> io::Result<Option<u32>> {
        let reused = self.inner.events.lock().pop();
        let event = if let Some(event) = reused {
            event
        } else {
            // SAFETY: plain call: an unnamed manual-reset event.
            let event = unsafe { CreateEventW(std::ptr::null(), TRUE, 0, std::ptr::null()) };
            super::owned(event)?
        };
        // SAFETY: all-zero is a valid OVERLAPPED (offsets are unused on pipes).
        let mut request: OVERLAPPED = unsafe { std::mem::zeroed() };
        request.hEvent = event.as_raw_handle();
        let ended = self.run(&mut request, timeout, start);
        // The request has ended (`run` waits it out): its event is free.
        self.inner.events.lock().push(event);
        ended
    }

    /// [`overlapped`](Self::overlapped)'s request, started and waited out.
    fn run(
        &self,
        request: &mut OVERLAPPED,
        timeout: Option<Duration>,
        start: impl FnOnce(HANDLE, *mut OVERLAPPED) -> windows_sys::core::BOOL,
    ) -> io::Result<Option<u32>> {
        let handle = self.raw();
        if start(handle, request) == 0 {
            let error = io::Error::last_os_error();
            if !super::is(&error, ERROR_IO_PENDING) {
                return Err(error);
            }
            if let Some(timeout) = timeout {
                let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX - 1);
                // SAFETY: a live event handle.
                if unsafe { WaitForSingleObject(request.hEvent, ms) } != WAIT_OBJECT_0 {
                    // SAFETY: cancels only this request, still live here.
                    unsafe { CancelIoEx(handle, &raw const *request) };
                }
            }
        }
        let mut done = 0;
        // SAFETY: `request` stays in place until the request has ended,
        // which waiting here ensures.
        if unsafe { GetOverlappedResult(handle, &raw const *request, &raw mut done, TRUE) } == 0 {
            let error = io::Error::last_os_error();
            return if super::is(&error, ERROR_OPERATION_ABORTED) && !self.closed() {
                Ok(None)
            } else {
                Err(error)
            };
        }
        Ok(Some(done))
    }

    fn read_some(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(byte) = self.inner.ahead.lock().take() {
            buf[0] = byte;
            return Ok(1);
        }
        if self.closed() {
            return Ok(0);
        }
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let ptr = buf.as_mut_ptr();
        // SAFETY: `buf` outlives the request, which `overlapped` waits out.
        let read = self.overlapped(None, |h, o| unsafe {
            ReadFile(h, ptr, len, std::ptr::null_mut(), o)
        });
        match read {
            Ok(n) => Ok(n.unwrap_or(0) as usize),
            Err(e) if ended(&e) || self.closed() => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
        if self.closed() {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let ptr = buf.as_ptr();
        // SAFETY: `buf` outlives the request, which `overlapped` waits out.
        let written = self.overlapped(None, |h, o| unsafe {
            WriteFile(h, ptr, len, std::ptr::null_mut(), o)
        });
        match written {
            Ok(n) => Ok(n.unwrap_or(0) as usize),
            Err(e) if ended(&e) => Err(io::ErrorKind::BrokenPipe.into()),
            Err(e) => Err(e),
        }
    }

    /// Bytes waiting to be read, `None` once the peer has gone.
    fn available(&self) -> io::Result<Option<u32>> {
        let mut total = 0;
        // SAFETY: a live pipe handle; only the count is asked for.
        let ok = unsafe {
            PeekNamedPipe(
                self.raw(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &raw mut total,
                std::ptr::null_mut(),
            )
        };
        if ok != 0 {
            return Ok(Some(total));
        }
        let error = io::Error::last_os_error();
        if ended(&error) { Ok(None) } else { Err(error) }
    }
}

/// Whether `error` says the peer has closed its end: a client whose server
/// disconnected it reads `ERROR_PIPE_NOT_CONNECTED`, not a broken pipe.
fn ended(error: &io::Error) -> bool {
    super::is(error, ERROR_BROKEN_PIPE)
        || super::is(error, ERROR_NO_DATA)
        || super::is(error, ERROR_PIPE_NOT_CONNECTED)
}

impl Read for &Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf)
    }
}

impl Write for &Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads what `channel` holds now, without waiting: `WouldBlock` if nothing.
pub(crate) fn read_now(channel: &Channel, buf: &mut [u8]) -> io::Result<usize> {
    if channel.inner.ahead.lock().is_some() || channel.closed() {
        return channel.read_some(buf);
    }
    match channel.available()? {
        None => Ok(0),
        Some(0) => Err(io::ErrorKind::WouldBlock.into()),
        Some(n) => {
            let len = buf.len().min(n as usize);
            channel.read_some(&mut buf[..len])
        }
    }
}

/// As [`read_now`], appending to `buffer`'s spare capacity. The overlapped
/// `ReadFile` here takes an initialized slice, so the room is zero-filled
/// first (the POSIX channel reads into it uninitialized).
pub(crate) fn read_now_into(channel: &Channel, buffer: &mut Vec<u8>) -> io::Result<usize> {
    into_spare(buffer, |room| read_now(channel, room))
}

/// As [`read_now_into`], blocking until something arrives (or the pipe
/// ends: `Ok(0)`).
pub(crate) fn read_into(channel: &Channel, buffer: &mut Vec<u8>) -> io::Result<usize> {
    into_spare(buffer, |room| channel.read_some(room))
}

fn into_spare(
    buffer: &mut Vec<u8>,
    read: impl FnOnce(&mut [u8]) -> io::Result<usize>,
) -> io::Result<usize> {
    let old = buffer.len();
    buffer.resize(buffer.capacity(), 0);
    let result = read(&mut buffer[old..]);
    buffer.truncate(old + result.as_ref().map_or(0, |&n| n));
    result
}

/// Waits until `channel` has something to read (or has ended), for
/// `timeout` at most: `false` if it has not. It reads one byte ahead to wait
/// in the kernel rather than poll; the next read delivers it.
pub(crate) fn wait_readable(channel: &Channel, timeout: Duration) -> io::Result<bool> {
    if channel.inner.ahead.lock().is_some() || channel.closed() {
        return Ok(true);
    }
    // A poll needs no read ahead: the pipe says what it holds.
    match channel.available()? {
        None => return Ok(true),
        Some(n) if n > 0 => return Ok(true),
        Some(_) if timeout.is_zero() => return Ok(false),
        Some(_) => {}
    }
    let mut byte = 0_u8;
    let ptr = std::ptr::from_mut(&mut byte);
    // SAFETY: `byte` outlives the request, which `overlapped` waits out.
    let read = channel.overlapped(Some(timeout), |h, o| unsafe {
        ReadFile(h, ptr, 1, std::ptr::null_mut(), o)
    });
    match read {
        Ok(None) => Ok(false),
        Ok(Some(0)) => Ok(true),
        Ok(Some(_)) => {
            *channel.inner.ahead.lock() = Some(byte);
            Ok(true)
        }
        Err(e) if ended(&e) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Writes what it can of `buf` to `channel`, blocking until some is written;
/// a peer that has gone is a `BrokenPipe` error.
pub(crate) fn send(channel: &Channel, buf: &[u8]) -> io::Result<usize> {
    channel.write_some(buf)
}

/// As [`send`], for the first part of `parts` that is not empty: a pipe
/// has no gathering write, so a caller's loop sends one part per call.
pub(crate) fn send_vectored(channel: &Channel, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    match parts.iter().find(|part| !part.is_empty()) {
        Some(part) => channel.write_some(part),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_both_ways_and_the_end_is_seen() {
        let (a, b) = Channel::pair().unwrap();
        assert_eq!(
            read_now(&b, &mut [0; 4]).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert!(!wait_readable(&b, Duration::from_millis(20)).unwrap());
        (&a).write_all(b"ping").unwrap();
        assert!(wait_readable(&b, Duration::from_secs(5)).unwrap());
        let mut got = [0; 4];
        (&b).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        let reader = std::thread::spawn({
            let a = a.try_clone().unwrap();
            move || {
                let mut got = [0; 4];
                (&a).read_exact(&mut got).map(|()| got)
            }
        });
        send(&b, b"pong").unwrap();
        assert_eq!(&reader.join().unwrap().unwrap(), b"pong");
        drop(b);
        assert_eq!(
            (&a).read(&mut got).unwrap(),
            0,
            "the peer's end is an end of stream"
        );
        assert_eq!(
            send(&a, b"x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }

    #[test]
    fn shutdown_ends_a_blocked_read() {
        let (a, _b) = Channel::pair().unwrap();
        let reader = std::thread::spawn({
            let a = a.clone();
            move || (&a).read(&mut [0; 8])
        });
        std::thread::sleep(Duration::from_millis(50));
        a.shutdown(Shutdown::Both).unwrap();
        assert_eq!(reader.join().unwrap().unwrap(), 0);
    }

    #[test]
    fn a_client_whose_server_shut_down_reads_the_end() {
        let (a, b) = Channel::pair().unwrap();
        a.shutdown(Shutdown::Both).unwrap();
        assert_eq!((&b).read(&mut [0; 8]).unwrap(), 0, "an end of stream");
        assert!(wait_readable(&b, Duration::from_secs(5)).unwrap());
        assert_eq!(read_now(&b, &mut [0; 8]).unwrap(), 0);
        assert_eq!(
            send(&b, b"x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
