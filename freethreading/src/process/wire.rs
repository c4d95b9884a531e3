//! The wire protocol between a parent and one worker process.
//!
//! The channel is a byte stream of frames: a 4-byte little-endian length,
//! then a body. The first frame each way is the handshake ([`Welcome`] from
//! the parent, [`Hello`] from the worker); every later frame from the parent
//! is a job (a [`JobHeader`] and the task's serialized arguments) and every
//! later frame from the worker its reply (a [`ReplyHeader`] and the
//! serialized result or [`TaskError`]), in the order of the jobs. Headers are
//! postcard; payloads are [messages](crate::codec::message), a payload of
//! 8 KiB or more written from where it lies beside its header in one
//! vectored write (`sendmsg`), never copied behind it.
//!
//! Both sides read into one buffer, never zero-filled, and take every
//! complete frame it holds before reading again, so that many small jobs
//! share each read. The parent also writes all the jobs it has in one call;
//! a worker writes each reply before it starts the next job (see
//! `child.rs`).

use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::codec::message;
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

/// The environment variable that sets the largest message, in bytes, that
/// crosses to or from a worker process: a job's arguments, or a task's result
/// or error, with a few bytes of header. 1 GiB when unset; at most 4 GiB − 1
/// (a frame's length is 32 bits), at least 64 KiB. A result over the limit
/// fails its call with a [`TaskError`]; a worker whose reply claims more is
/// garbled, and replaced. Read once, by the program's first process; its
/// workers are told the same.
///
/// # Examples
///
/// ```
/// assert_eq!(freethreading::MAX_MESSAGE_ENV_VAR, "FREETHREADING_MAX_MESSAGE");
/// ```
pub const MAX_MESSAGE_ENV_VAR: &str = "FREETHREADING_MAX_MESSAGE";

/// The largest message when [`MAX_MESSAGE_ENV_VAR`] is unset.
const DEFAULT_MAX_FRAME: usize = 1 << 30;
/// The least [`MAX_MESSAGE_ENV_VAR`] may set: the handshake must fit.
const LEAST_MAX_FRAME: usize = 64 * 1024;

/// How much a reader reads ahead of a frame's bytes: it never makes room for
/// more than twice what has arrived and this, whatever a length prefix
/// claims, so that a lying prefix costs no memory.
const READ_CHUNK: usize = 64 * 1024;

/// The largest frame either side sends or accepts (see [`MAX_MESSAGE_ENV_VAR`]):
/// anything longer is garbage.
pub(crate) fn max_frame() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let Some(value) = std::env::var_os(MAX_MESSAGE_ENV_VAR) else {
            return DEFAULT_MAX_FRAME;
        };
        let bytes = value
            .to_str()
            .and_then(|text| text.trim().parse::<u64>().ok());
        let Some(bytes) = bytes else {
            eprintln!(
                "freethreading: {MAX_MESSAGE_ENV_VAR}={} is not a number of bytes; \
                 the limit stays {DEFAULT_MAX_FRAME}",
                value.to_string_lossy()
            );
            return DEFAULT_MAX_FRAME;
        };
        usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .clamp(LEAST_MAX_FRAME, u32::MAX as usize)
    })
}

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
///
/// The buffer grows with the bytes that arrive, never ahead of them by more
/// than their own size or [`READ_CHUNK`], so a length prefix that lies
/// costs nothing; a frame longer than the limit is garbage at once.
/// Bytes are read into the buffer's spare capacity, never zero-filled first:
/// its length is where the bytes that have arrived end.
pub(crate) struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
    /// The longest frame body accepted.
    limit: usize,
}

impl FrameReader {
    pub(crate) fn new() -> Self {
        Self::with_limit(max_frame())
    }

    fn with_limit(limit: usize) -> Self {
        FrameReader {
            buffer: Vec::with_capacity(READ_CHUNK),
            start: 0,
            limit,
        }
    }

    /// The length of the frame at the front, once its length is buffered.
    fn pending_len(&self) -> Result<Option<usize>, Garbled> {
        let Some(prefix) = self.buffer.get(self.start..self.start + 4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes(prefix.try_into().expect("four bytes")) as usize;
        if len > self.limit {
            return Err(Garbled(format!(
                "a frame of {len} bytes, over the limit of {} ({MAX_MESSAGE_ENV_VAR})",
                self.limit
            )));
        }
        Ok(Some(len))
    }

    /// The frame at the front, begun but not whole: how many of its bytes
    /// (with its length) have arrived, and how many it has.
    pub(crate) fn partial_frame(&self) -> Option<(usize, usize)> {
        let arrived = self.arrived();
        match self.pending_len() {
            Ok(Some(len)) if arrived < 4 + len => Some((arrived, 4 + len)),
            Ok(None) if arrived > 0 => Some((arrived, 4)),
            _ => None,
        }
    }

    /// Whether a complete frame is buffered.
    pub(crate) fn has_frame(&self) -> Result<bool, Garbled> {
        Ok(self
            .pending_len()?
            .is_some_and(|len| self.arrived() >= 4 + len))
    }

    /// The next complete frame in the buffer, if there is one.
    pub(crate) fn next_frame(&mut self) -> Result<Option<&[u8]>, Garbled> {
        match self.pending_len()? {
            Some(len) if self.arrived() >= 4 + len => {
                let body = self.start + 4..self.start + 4 + len;
                self.start = body.end;
                Ok(Some(&self.buffer[body]))
            }
            _ => Ok(None),
        }
    }

    /// How many bytes are buffered, not yet taken as frames.
    fn arrived(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Reads what `source` has (at least one byte, blocking until then);
    /// `Ok(false)` at the end of the stream. For the tests' sources (slices,
    /// readers), read through `&mut [u8]`, so the room is zero-filled first;
    /// a channel is read with [`fill_soon`](Self::fill_soon), which does not.
    #[cfg(test)]
    pub(crate) fn fill(&mut self, mut source: impl io::Read) -> io::Result<bool> {
        self.fill_with(|buffer| {
            let old = buffer.len();
            buffer.resize(buffer.capacity(), 0);
            let read = source.read(&mut buffer[old..]);
            buffer.truncate(old + read.as_ref().map_or(0, |&n| n));
            read
        })
    }

    /// Reads what `channel` has (at least one byte, blocking until then;
    /// `Ok(false)` at its end) into the buffer's spare capacity, polling
    /// without sleeping for up to `spin` first. A thread that sleeps on a
    /// socket takes a wake-up to resume, which costs tens of microseconds on
    /// a virtual machine whose other core is idle; a message that is
    /// microseconds away arrives sooner than that.
    ///
    /// With a `stall`, a frame begun but not whole waits that long at most
    /// for its next bytes: then the error is `TimedOut`, for the caller to
    /// judge (a frame is written in one go, so a pause inside one is rare).
    pub(crate) fn fill_soon(
        &mut self,
        channel: &Channel,
        spin: Duration,
        stall: Option<Duration>,
    ) -> io::Result<bool> {
        let start = Instant::now();
        loop {
            match self.fill_with(|buffer| process::read_now_into(channel, buffer)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if start.elapsed() >= spin {
                        if let Some(stall) = stall.filter(|_| self.partial_frame().is_some()) {
                            if !process::wait_readable(channel, stall)? {
                                return Err(io::ErrorKind::TimedOut.into());
                            }
                            return self.fill_soon(channel, Duration::ZERO, None);
                        }
                        return self.fill_with(|buffer| process::read_into(channel, buffer));
                    }
                    // Lets a runnable thread have the core, if one wants it.
                    std::thread::yield_now();
                }
                other => return other,
            }
        }
    }

    /// Makes room and reads once with `read`, which appends to the
    /// buffer's spare capacity and says how many bytes it appended.
    fn fill_with(
        &mut self,
        mut read: impl FnMut(&mut Vec<u8>) -> io::Result<usize>,
    ) -> io::Result<bool> {
        if self.arrived() == 0 {
            self.start = 0;
            self.buffer.clear();
            // A huge frame should not pin its memory for the channel's life.
            if self.buffer.capacity() > 1 << 20 {
                self.buffer.shrink_to(READ_CHUNK);
            }
        }
        let needed = 4 + self.pending_len()?.unwrap_or(0);
        if self.start > 0 && self.buffer.capacity() - self.start < needed.max(4096) {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        if self.buffer.capacity() - self.buffer.len() < 1024 {
            // Room for the rest of the frame, but never more than has
            // arrived (or a read chunk): the length is a claim, the bytes
            // are facts. Doubling keeps the copies of a big frame linear.
            let arrived = self.arrived();
            let room = needed.saturating_sub(arrived).min(arrived.max(READ_CHUNK));
            self.buffer.reserve_exact(room.max(1024));
        }
        loop {
            match read(&mut self.buffer) {
                Ok(0) => return Ok(false),
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until a whole frame is buffered, and returns it; `None` at the
    /// end of the stream.
    pub(crate) fn read_frame(&mut self, channel: &Channel) -> io::Result<Option<&[u8]>> {
        while !self.has_frame()? {
            if !self.fill_soon(channel, Duration::ZERO, None)? {
                return Ok(None);
            }
        }
        Ok(self.next_frame()?)
    }

    /// As [`read_frame`](Self::read_frame), from any reader: for tests.
    #[cfg(test)]
    fn read_frame_from(&mut self, mut source: impl io::Read) -> io::Result<Option<&[u8]>> {
        while !self.has_frame()? {
            if !self.fill(&mut source)? {
                return Ok(None);
            }
        }
        Ok(self.next_frame()?)
    }
}

/// From how many bytes a payload is written from where it lies, with the
/// frame's header beside it in one vectored write, rather than copied
/// behind the header: below this a copy costs less than a part of its own.
const GATHER_FROM: usize = 8 * 1024;

/// Frames gathered to be written to a stream in one go: headers and small
/// payloads copied into one buffer, bigger payloads kept as they are
/// (`Bytes`, shared rather than copied) and written between its pieces.
#[derive(Default)]
pub(crate) struct FrameWriter {
    buffer: Vec<u8>,
    /// The payloads kept apart, each after `buffer[..at]`.
    parts: Vec<(usize, Bytes)>,
    /// The bytes of `parts`.
    parts_len: usize,
}

impl FrameWriter {
    /// Appends a frame of `header` then `payload`, a
    /// [`message`](crate::codec::message) (or nothing, for the handshake),
    /// copied. The limit counts what the message carries, so a payload that goes
    /// through shared memory is held to it as if it crossed the socket.
    pub(crate) fn push<H: Serialize>(&mut self, header: &H, payload: &[u8]) -> Result<(), Garbled> {
        self.push_header(header, payload)?;
        self.buffer.extend_from_slice(payload);
        Ok(())
    }

    /// As [`push`](Self::push), keeping a big `payload` as it is, to be
    /// written beside its header rather than copied behind it.
    pub(crate) fn push_shared<H: Serialize>(
        &mut self,
        header: &H,
        payload: &Bytes,
    ) -> Result<(), Garbled> {
        if payload.len() < GATHER_FROM {
            return self.push(header, payload);
        }
        self.push_header(header, payload)?;
        self.parts.push((self.buffer.len(), payload.clone()));
        self.parts_len += payload.len();
        Ok(())
    }

    /// Writes a frame's length and header; the length counts `payload`.
    fn push_header<H: Serialize>(&mut self, header: &H, payload: &[u8]) -> Result<(), Garbled> {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&[0; 4]);
        let buffer = std::mem::take(&mut self.buffer);
        self.buffer = postcard::to_extend(header, buffer)
            .map_err(|e| Garbled(format!("header could not be written: {e}")))?;
        let carried = self.buffer.len() - start - 4 + message::carried_len(payload);
        if carried > max_frame() {
            self.buffer.truncate(start);
            return Err(Garbled(format!(
                "a message of {carried} bytes is over the limit of {} bytes; \
                 {MAX_MESSAGE_ENV_VAR} sets it, up to 4 GiB",
                max_frame()
            )));
        }
        let len = self.buffer.len() - start - 4 + payload.len();
        let len = u32::try_from(len).expect("the limit is under 4 GiB");
        self.buffer[start..start + 4].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes are gathered: where the next frame would start.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len() + self.parts_len
    }

    /// The gathered bytes in order, as slices.
    fn pieces(&self) -> Vec<&[u8]> {
        let mut pieces = Vec::with_capacity(2 * self.parts.len() + 1);
        let mut at = 0;
        for (end, part) in &self.parts {
            pieces.push(&self.buffer[at..*end]);
            pieces.push(&part[..]);
            at = *end;
        }
        pieces.push(&self.buffer[at..]);
        pieces.retain(|piece| !piece.is_empty());
        pieces
    }

    /// Writes every gathered frame, and forgets them.
    #[cfg(test)]
    pub(crate) fn flush_to(&mut self, mut sink: impl std::io::Write) -> io::Result<()> {
        let result = self
            .pieces()
            .into_iter()
            .try_for_each(|piece| sink.write_all(piece));
        self.forget();
        result
    }

    /// Writes every gathered frame to `channel` (a gone peer is an error,
    /// never a `SIGPIPE`), headers and kept payloads together in vectored
    /// writes, and forgets them. On error, also says how many bytes did go,
    /// so that the caller knows which frames arrived whole.
    pub(crate) fn send_to(&mut self, channel: &Channel) -> Result<(), (io::Error, usize)> {
        let pieces = self.pieces();
        let total: usize = pieces.iter().map(|piece| piece.len()).sum();
        let mut sent = 0;
        let result = loop {
            if sent == total {
                break Ok(());
            }
            let written = if pieces.len() == 1 {
                process::send(channel, &pieces[0][sent..])
            } else {
                process::send_vectored(channel, &unsent(&pieces, sent))
            };
            match written {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err((e, sent)),
            }
        };
        drop(pieces);
        self.forget();
        result
    }

    fn forget(&mut self) {
        self.buffer.clear();
        self.parts.clear();
        self.parts_len = 0;
        // A huge message should not pin its memory for the channel's life.
        if self.buffer.capacity() > 1 << 20 {
            self.buffer.shrink_to(64 * 1024);
        }
    }
}

/// The slices of `pieces` past their first `sent` bytes, at most as many
/// as one vectored write takes.
fn unsent<'a>(pieces: &[&'a [u8]], mut sent: usize) -> Vec<io::IoSlice<'a>> {
    const MAX_PARTS: usize = 512;
    let mut left = Vec::with_capacity(pieces.len().min(MAX_PARTS));
    for piece in pieces {
        if sent >= piece.len() {
            sent -= piece.len();
            continue;
        }
        left.push(io::IoSlice::new(&piece[sent..]));
        sent = 0;
        if left.len() == MAX_PARTS {
            break;
        }
    }
    left
}

/// Sends one message as a whole frame body, for the handshake.
pub(crate) fn write_message<M: Serialize>(channel: &Channel, message: &M) -> io::Result<()> {
    let mut writer = FrameWriter::default();
    writer.push(message, &[])?;
    writer.send_to(channel).map_err(|(error, _)| error)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

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
            let frame = reader.read_frame_from(Trickle(&mut slow)).unwrap().unwrap();
            let (header, payload): (ReplyHeader, &[u8]) = split(frame).unwrap();
            assert_eq!(header.id, id);
            assert_eq!(header.ok, id % 2 == 0);
            assert_eq!(payload.len(), usize::try_from(id).unwrap() * 37);
        }
        assert!(
            reader
                .read_frame_from(Trickle(&mut slow))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn big_payloads_are_written_beside_their_headers_and_read_back() {
        let (ours, theirs) = Channel::pair().unwrap();
        let big = Bytes::from(
            (0..300_000_u32)
                .map(|i| i.to_le_bytes()[1])
                .collect::<Vec<u8>>(),
        );
        let mut writer = FrameWriter::default();
        for id in 0..40_u64 {
            let payload = if id % 3 == 0 {
                big.clone()
            } else {
                Bytes::from(vec![7; 10])
            };
            writer
                .push_shared(&ReplyHeader { id, ok: true }, &payload)
                .unwrap();
        }
        assert_eq!(writer.parts.len(), 14, "the big ones are kept apart");
        let expected = writer.len();
        let sender = std::thread::spawn(move || {
            writer.send_to(&ours).map_err(|(e, _)| e).unwrap();
            assert!(writer.is_empty());
            ours
        });
        let mut reader = FrameReader::new();
        let mut read = 0;
        for id in 0..40_u64 {
            let frame = reader.read_frame(&theirs).unwrap().unwrap();
            read += 4 + frame.len();
            let (header, payload): (ReplyHeader, &[u8]) = split(frame).unwrap();
            assert_eq!(header.id, id);
            if id % 3 == 0 {
                assert_eq!(payload, &big[..]);
            } else {
                assert_eq!(payload, &[7; 10]);
            }
        }
        assert_eq!(read, expected);
        drop(sender.join().unwrap());
        assert!(reader.read_frame(&theirs).unwrap().is_none());
    }

    #[test]
    fn a_huge_length_is_garbage_not_an_allocation() {
        let mut reader = FrameReader::new();
        let bytes = [0xff, 0xff, 0xff, 0xff, 1, 2, 3];
        assert!(reader.read_frame_from(&bytes[..]).is_err());
        let mut reader = FrameReader::with_limit(1000);
        let bytes = [0xe9, 0x03, 0, 0, 1, 2, 3];
        assert!(
            reader.read_frame_from(&bytes[..]).is_err(),
            "1001 bytes is over 1000"
        );
    }

    #[test]
    fn a_length_prefix_reserves_nothing_ahead_of_its_bytes() {
        // A frame that claims 1 GiB, of which 1 MiB arrives.
        let mut bytes = ((1_u32 << 30) - 4).to_le_bytes().to_vec();
        bytes.resize(4 + (1 << 20), 7);
        let mut reader = FrameReader::with_limit(1 << 30);
        let mut source = &bytes[..];
        while reader.fill(&mut source).unwrap() {
            let arrived = reader.arrived();
            assert!(
                reader.buffer.capacity() <= 2 * arrived + READ_CHUNK,
                "{} bytes of buffer for {arrived} arrived",
                reader.buffer.capacity()
            );
        }
        assert_eq!(reader.partial_frame(), Some((bytes.len(), 1 << 30)));
    }

    #[test]
    fn a_big_frame_grows_the_buffer_and_gives_it_back() {
        let mut writer = FrameWriter::default();
        let payload: Vec<u8> = (0..5_000_000_u32).map(|i| i.to_le_bytes()[0]).collect();
        writer
            .push(&ReplyHeader { id: 1, ok: true }, &payload)
            .unwrap();
        writer.push(&ReplyHeader { id: 2, ok: true }, &[]).unwrap();
        let mut bytes = Vec::new();
        writer.flush_to(&mut bytes).unwrap();
        let mut reader = FrameReader::new();
        let mut source = &bytes[..];
        let frame = reader.read_frame_from(&mut source).unwrap().unwrap();
        let (header, body): (ReplyHeader, &[u8]) = split(frame).unwrap();
        assert_eq!((header.id, body), (1, &payload[..]));
        let frame = reader.read_frame_from(&mut source).unwrap().unwrap();
        assert_eq!(split::<ReplyHeader>(frame).unwrap().0.id, 2);
        assert!(reader.read_frame_from(&mut source).unwrap().is_none());
        assert!(
            reader.buffer.capacity() <= READ_CHUNK,
            "the buffer shrinks back"
        );
    }
}
