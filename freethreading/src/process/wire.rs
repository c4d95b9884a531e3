//! The wire protocol between a parent and one worker process.
//!
//! The channel is a byte stream of frames: a 4-byte little-endian length,
//! then a body. The first frame each way is the handshake ([`Welcome`] from
//! the parent, [`Hello`] from the worker); every later frame from the parent
//! is a job (a [`JobHeader`] and the task's serialized arguments) and every
//! later frame from the worker its reply (a [`ReplyHeader`] and the
//! serialized result or [`TaskError`]), in the order of the jobs. Headers are
//! postcard; payloads are the task's own bytes, copied once each way.
//!
//! Both sides read into one buffer and take every complete frame it holds
//! before reading again, so that many small jobs share each read. The parent
//! also writes all the jobs it has in one call; a worker writes each reply
//! before it starts the next job (see `child.rs`).

use std::io::{self, Read};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sys::process::{self, Channel};
use crate::task::TaskError;

/// The environment variable that marks a worker process: the protocol
/// version and the parent's process id, `1:<pid>`.
pub(crate) const WORKER_ENV_VAR: &str = "FREETHREADING_WORKER";

/// The protocol version in [`WORKER_ENV_VAR`].
pub(crate) const PROTOCOL: &str = "1";

/// How long a reader polls for a message before it sleeps: about the time
/// of a task's round trip, so that back-to-back calls never sleep.
pub(crate) const SPIN: Duration = Duration::from_micros(50);

/// The largest frame either side accepts: anything longer is garbage.
const MAX_FRAME: usize = u32::MAX as usize;

/// What a parent tells a new worker, before anything else.
#[derive(Serialize, Deserialize)]
pub(crate) struct Welcome {
    /// The parent's [`build_id`](crate::sys::process::build_id), which must be the worker's.
    pub(crate) build: u64,
    /// The worker's name, for `current_worker()`.
    pub(crate) name: String,
    /// Whether the worker is a daemon.
    pub(crate) daemon: bool,
    /// A task to run once before the first job, with its serialized arguments.
    pub(crate) initializer: Option<(String, Vec<u8>)>,
    /// Whether the worker exits after its first job, as a `Worker`'s does.
    pub(crate) one_shot: bool,
}

/// A worker's answer to [`Welcome`].
#[derive(Serialize, Deserialize)]
pub(crate) enum Hello {
    /// Ready for jobs.
    Ready,
    /// The worker is another build of the program, with this id.
    WrongBuild(u64),
    /// The initializer failed; the worker exits.
    InitializerFailed(TaskError),
}

/// The head of a job frame; the task's arguments follow it.
#[derive(Serialize, Deserialize)]
pub(crate) struct JobHeader<'a> {
    /// Counts the jobs sent to this worker; its reply carries it back.
    pub(crate) id: u64,
    /// The task's registered name.
    pub(crate) task: &'a str,
    /// Whether the arguments are a vector of argument tuples, one call each.
    pub(crate) chunk: bool,
}

/// The head of a reply frame; the result (or the error) follows it.
#[derive(Serialize, Deserialize)]
pub(crate) struct ReplyHeader {
    /// The id of the job answered.
    pub(crate) id: u64,
    /// `true`: the task's serialized result follows; `false`: a serialized [`TaskError`].
    pub(crate) ok: bool,
}

/// A stream that broke the protocol: the peer is not, or no longer, a sane
/// freethreading process.
#[derive(Debug)]
pub(crate) struct Garbled(pub(crate) String);

impl From<Garbled> for io::Error {
    fn from(garbled: Garbled) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, garbled.0)
    }
}

/// Splits a frame into its postcard header and the bytes after it.
pub(crate) fn split<'a, H: Deserialize<'a>>(frame: &'a [u8]) -> Result<(H, &'a [u8]), Garbled> {
    postcard::take_from_bytes(frame).map_err(|e| Garbled(format!("unreadable frame header: {e}")))
}

/// Frames read from a stream, buffered.
pub(crate) struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
    end: usize,
}

impl FrameReader {
    pub(crate) fn new() -> Self {
        FrameReader {
            buffer: vec![0; 64 * 1024],
            start: 0,
            end: 0,
        }
    }

    /// The length of the frame at the front, once its length is buffered.
    fn pending_len(&self) -> Result<Option<usize>, Garbled> {
        let Some(prefix) = self.buffer.get(self.start..self.start + 4) else {
            return Ok(None);
        };
        if self.end - self.start < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes(prefix.try_into().expect("four bytes")) as usize;
        if len > MAX_FRAME - 4 {
            return Err(Garbled(format!("a frame of {len} bytes")));
        }
        Ok(Some(len))
    }

    /// The next complete frame in the buffer, if there is one.
    pub(crate) fn next_frame(&mut self) -> Result<Option<&[u8]>, Garbled> {
        match self.pending_len()? {
            Some(len) if self.end - self.start >= 4 + len => {
                let body = self.start + 4..self.start + 4 + len;
                self.start = body.end;
                Ok(Some(&self.buffer[body]))
            }
            _ => Ok(None),
        }
    }

    /// Reads what the stream has (at least one byte, blocking until then);
    /// `Ok(false)` at the end of the stream.
    pub(crate) fn fill(&mut self, mut source: impl Read) -> io::Result<bool> {
        self.fill_with(|buf| source.read(buf))
    }

    /// As [`fill`](Self::fill), but polls without sleeping for up to `spin`
    /// first. A thread that sleeps on a socket takes a wake-up to resume,
    /// which costs tens of microseconds on a virtual machine whose other
    /// core is idle; a message that is microseconds away arrives sooner than
    /// that.
    pub(crate) fn fill_soon(&mut self, channel: &Channel, spin: Duration) -> io::Result<bool> {
        let start = Instant::now();
        loop {
            match self.fill_with(|buf| process::read_now(channel, buf)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if start.elapsed() >= spin {
                        return self.fill(channel);
                    }
                    // Lets a runnable thread have the core, if one wants it.
                    std::thread::yield_now();
                }
                other => return other,
            }
        }
    }

    fn fill_with(
        &mut self,
        mut read: impl FnMut(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<bool> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let needed = 4 + self.pending_len()?.unwrap_or(0);
        if self.start > 0 && self.buffer.len() - self.start < needed.max(4096) {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buffer.len() < needed {
            self.buffer.resize(needed, 0);
        } else if self.buffer.len() - self.end < 1024 {
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        loop {
            match read(&mut self.buffer[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until a whole frame is buffered, and returns it; `None` at the
    /// end of the stream.
    pub(crate) fn read_frame(&mut self, mut source: impl Read) -> io::Result<Option<&[u8]>> {
        while self
            .pending_len()?
            .is_none_or(|len| self.end - self.start < 4 + len)
        {
            if !self.fill(&mut source)? {
                return Ok(None);
            }
        }
        Ok(self.next_frame()?)
    }
}

/// Frames gathered to be written to a stream in one go.
#[derive(Default)]
pub(crate) struct FrameWriter {
    buffer: Vec<u8>,
}

impl FrameWriter {
    /// Appends a frame of `header` then `payload`.
    pub(crate) fn push<H: Serialize>(&mut self, header: &H, payload: &[u8]) -> Result<(), Garbled> {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&[0; 4]);
        let buffer = std::mem::take(&mut self.buffer);
        self.buffer = postcard::to_extend(header, buffer)
            .map_err(|e| Garbled(format!("header could not be written: {e}")))?;
        self.buffer.extend_from_slice(payload);
        let len = self.buffer.len() - start - 4;
        if len > MAX_FRAME - 4 {
            self.buffer.truncate(start);
            return Err(Garbled(format!(
                "a message of {len} bytes is more than a frame can carry (4 GiB)"
            )));
        }
        let len = u32::try_from(len).expect("checked against MAX_FRAME");
        self.buffer[start..start + 4].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// How many bytes are gathered: where the next frame would start.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Writes every gathered frame, and forgets them.
    #[cfg(test)]
    pub(crate) fn flush_to(&mut self, mut sink: impl std::io::Write) -> io::Result<()> {
        let result = sink.write_all(&self.buffer);
        self.forget();
        result
    }

    /// Writes every gathered frame to `channel` (a gone peer is an error,
    /// never a `SIGPIPE`), and forgets them. On error, also says how many
    /// bytes did go, so that the caller knows which frames arrived whole.
    pub(crate) fn send_to(&mut self, channel: &Channel) -> Result<(), (io::Error, usize)> {
        let mut sent = 0;
        let result = loop {
            if sent == self.buffer.len() {
                break Ok(());
            }
            match process::send(channel, &self.buffer[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err((e, sent)),
            }
        };
        self.forget();
        result
    }

    fn forget(&mut self) {
        self.buffer.clear();
        // A huge message should not pin its memory for the channel's life.
        if self.buffer.capacity() > 1 << 20 {
            self.buffer.shrink_to(64 * 1024);
        }
    }
}

/// Sends one message as a whole frame body, for the handshake.
pub(crate) fn write_message<M: Serialize>(channel: &Channel, message: &M) -> io::Result<()> {
    let mut writer = FrameWriter::default();
    writer.push(message, &[])?;
    writer.send_to(channel).map_err(|(error, _)| error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that delivers three bytes at a time, as a slow one might.
    struct Trickle<'a>(&'a mut std::io::Cursor<Vec<u8>>);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn frames_round_trip_whole_split_and_batched() {
        let mut writer = FrameWriter::default();
        for id in 0..100_u64 {
            let payload = vec![u8::try_from(id).unwrap(); usize::try_from(id).unwrap() * 37];
            writer
                .push(
                    &ReplyHeader {
                        id,
                        ok: id % 2 == 0,
                    },
                    &payload,
                )
                .unwrap();
        }
        let mut bytes = Vec::new();
        writer.flush_to(&mut bytes).unwrap();
        assert!(writer.is_empty());
        let mut slow = std::io::Cursor::new(bytes);
        let mut reader = FrameReader::new();
        for id in 0..100_u64 {
            let frame = reader.read_frame(Trickle(&mut slow)).unwrap().unwrap();
            let (header, payload): (ReplyHeader, &[u8]) = split(frame).unwrap();
            assert_eq!(header.id, id);
            assert_eq!(header.ok, id % 2 == 0);
            assert_eq!(payload.len(), usize::try_from(id).unwrap() * 37);
        }
        assert!(reader.read_frame(Trickle(&mut slow)).unwrap().is_none());
    }

    #[test]
    fn a_huge_length_is_garbage_not_an_allocation() {
        let mut reader = FrameReader::new();
        let bytes = [0xff, 0xff, 0xff, 0xff, 1, 2, 3];
        assert!(reader.read_frame(&bytes[..]).is_err());
    }
}
