//! Tests of `payload.rs`: blocks stored, read, taken over, released,
//! reclaimed with a death, and streamed while they are read.

use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

#[test]
fn a_payload_round_trips_once_and_its_block_is_reused() {
    let body = vec![7; 300_000];
    let parts: [&[u8]; 2] = [b"head", &body];
    let payload = store(&parts).unwrap();
    let copied = payload.read(<[u8]>::to_vec).unwrap();
    assert_eq!(&copied[..4], b"head");
    assert_eq!(copied.len(), 300_004);
    assert!(copied[4..].iter().all(|&b| b == 7));
    assert!(payload.read(|_| ()).is_err(), "read once only");
    let again = store(&[&vec![1; 300_000]]).unwrap();
    assert_eq!(again.offset, payload.offset, "the freed block is reused");
    again.release();
    again.release();
    assert!(again.read(|_| ()).is_err());
}

#[test]
fn a_payload_taken_over_is_read_in_place_and_freed_when_dropped() {
    // 3 MB, a size class (4 MiB) no other test here uses.
    let payload = store(&[&vec![4; 3_000_000]]).unwrap();
    let held = payload.take().unwrap();
    assert_eq!(held.as_ref().len(), 3_000_000);
    assert!(held.as_ref().iter().all(|&b| b == 4));
    assert!(payload.take().is_err(), "taken over once only");
    assert!(payload.read(|_| ()).is_err(), "the old tag reads nothing");
    payload.release();
    let other = store(&[&vec![5; 3_000_000]]).unwrap();
    assert_ne!(
        other.offset, payload.offset,
        "the sender's release freed nothing"
    );
    other.release();
    assert_eq!(held.as_ref()[2_999_999], 4, "still the payload's bytes");
    drop(held);
    let again = store(&[&vec![6; 3_000_000]]).unwrap();
    assert_eq!(again.offset, payload.offset, "dropping it freed the block");
    again.release();
}

#[test]
fn garbage_references_fail_validation() {
    let payload = store(&[&vec![1; 1000]]).unwrap();
    let mut longer = payload;
    longer.len = 1 << 40;
    assert!(longer.read(|_| ()).is_err());
    let mut moved = payload;
    moved.offset += 64;
    assert!(moved.read(|_| ()).is_err());
    assert!(PayloadRef::from_bytes(&payload.to_bytes()[..31]).is_none());
    let back = PayloadRef::from_bytes(&payload.to_bytes()).unwrap();
    assert_eq!(back.read(<[u8]>::len).unwrap(), 1000);
}

#[test]
fn a_reported_death_frees_the_payloads_the_dead_process_held() {
    let arena = global().unwrap();
    // A process that no longer runs (no pid is this high), as the
    // process backend reports a worker killed while writing a result.
    let (pid, start) = (0x3fff_fff0, 12_345);
    let token = members::register_for_test(pid, start);
    let held = arena.alloc_dirty(kind::PAYLOAD, 4000, token).unwrap();
    let mine = store(&[&vec![5; 4000]]).unwrap();
    super::super::process_died(pid, start);
    assert!(
        !arena.free_tagged(held.offset, held.tag),
        "freed with the death"
    );
    assert_eq!(
        mine.read(<[u8]>::len).unwrap(),
        4000,
        "the living keep theirs"
    );
}

#[test]
fn blocks_of_a_dead_owner_are_reclaimed() {
    let arena = global().unwrap();
    let payload = store(&[&vec![3; 5000]]).unwrap();
    let other = arena.alloc_dirty(kind::PAYLOAD, 100, 0x7fff_fff0).unwrap();
    reclaim(arena, 0x7fff_fff0);
    assert!(!arena.free_tagged(other.offset, other.tag), "reclaimed");
    assert_eq!(
        payload.read(<[u8]>::len).unwrap(),
        5000,
        "others' blocks stay"
    );
}

/// `len` bytes of a pattern that a torn or shifted copy breaks.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251).to_le_bytes()[0] ^ seed)
        .collect()
}

/// Reads `payload` part by part on another thread, counting in `seen`
/// the bytes it has: the bytes and how many parts came, or the error.
fn read_elsewhere(
    payload: PayloadRef,
    seen: std::sync::Arc<AtomicU64>,
) -> std::sync::mpsc::Receiver<io::Result<(Vec<u8>, usize)>> {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut bytes, mut parts) = (Vec::new(), 0);
        let read = payload.read_streamed(|part| {
            bytes.extend_from_slice(part);
            parts += 1;
            seen.store(bytes.len() as u64, Ordering::Release);
        });
        let _ = done.send(read.map(|()| (bytes, parts)));
    });
    result
}

fn writer_progress(payload: &PayloadRef) -> u64 {
    let word = global().unwrap().word(payload.offset).unwrap();
    word.load(Ordering::Acquire)
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

#[test]
fn a_streamed_payload_is_read_behind_its_writer() {
    // 20 MiB + 5: a 32 MiB class no other test here uses. Its block is
    // first filled with other bytes, so a read ahead of the writer shows.
    let len = STREAM_FROM + (16 << 20) + 5;
    let dirt = store(&[&vec![0xee; len + 64]]).unwrap();
    dirt.read(|_| ()).unwrap();
    for round in 0..3_u8 {
        let bytes = pattern(len, round);
        let (payload, mut writer) = stream(len).unwrap();
        assert_eq!(payload.offset, dirt.offset, "the block is reused");
        let sent = PayloadRef::from_bytes(&payload.to_bytes()).unwrap();
        assert_eq!(sent, payload, "sent as streamed");
        let seen = std::sync::Arc::new(AtomicU64::new(0));
        let result = read_elsewhere(sent, seen.clone());
        // Each slice waits until the reader has it, so the reader waits
        // for each slice in turn.
        writer.write_up_to(&bytes, len, || {
            let published = writer_progress(&payload);
            let start = std::time::Instant::now();
            while seen.load(Ordering::Acquire) < published && start.elapsed() < WAIT {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        writer.written = true;
        let (read, parts) = result.recv_timeout(WAIT).unwrap().unwrap();
        assert!(read == bytes, "the bytes, in order, none torn");
        assert_eq!(
            parts,
            len.div_ceil(SLICE),
            "read slice by slice as they came"
        );
    }
}

#[test]
fn a_streamed_payload_read_whole_or_taken_waits_for_all_of_it() {
    let len = STREAM_FROM + 1;
    let bytes = pattern(len, 9);
    let (payload, writer) = stream(len).unwrap();
    let reader = std::thread::spawn(move || payload.read(<[u8]>::to_vec));
    std::thread::sleep(std::time::Duration::from_millis(20));
    writer.write(&bytes);
    assert!(reader.join().unwrap().unwrap() == bytes);
    let (payload, writer) = stream(len).unwrap();
    let taker = std::thread::spawn(move || payload.take().map(|held| held.as_ref().to_vec()));
    std::thread::sleep(std::time::Duration::from_millis(20));
    writer.write(&bytes);
    assert!(taker.join().unwrap().unwrap() == bytes);
}

#[test]
fn a_stream_whose_sender_dies_fails_its_reader_and_is_freed() {
    // 10 MiB: a 16 MiB class no other test here uses. Written by a
    // process that no longer runs: half of it published,
    // then nothing more, as when the sender is killed mid-copy.
    let token = members::register_for_test(0x3fff_ffe0, 777);
    let len = STREAM_FROM + (6 << 20);
    let bytes = pattern(len, 3);
    let (payload, mut writer) = stream_owned_by(len, token).unwrap();
    writer.write_up_to(&bytes, len / 2, || {});
    std::mem::forget(writer);
    let read = read_elsewhere(payload, std::sync::Arc::default()).recv_timeout(WAIT);
    let error = read.expect("no hang").expect_err("a torn value");
    assert!(error.to_string().contains("died"), "{error}");
    assert!(is_unwritten(&error), "told apart from a bad reference");
    assert!(payload.read(|_| ()).is_err(), "freed by its reader");
    // Given up unwritten (a job dropped after its reference went out).
    let (payload, writer) = stream(len).unwrap();
    drop(writer);
    let read = read_elsewhere(payload, std::sync::Arc::default()).recv_timeout(WAIT);
    let error = read.expect("no hang").expect_err("nothing to read");
    assert!(error.to_string().contains("gave it up"), "{error}");
    assert!(is_unwritten(&error));
    assert!(
        !is_unwritten(&payload.read(|_| ()).unwrap_err()),
        "a stale one"
    );
    let again = stream(len).unwrap().0;
    assert_eq!(again.offset, payload.offset, "both blocks freed");
    again.release();
}

#[test]
fn a_streamed_payload_discarded_unread_is_freed_once_written() {
    // 1.5 MiB: a 2 MiB class no other test here uses. Half written: the
    // discard waits for the rest, never freeing the block under the copy.
    let len = 3 << 19;
    let bytes = pattern(len, 5);
    let (payload, mut writer) = stream(len).unwrap();
    writer.write_up_to(&bytes, len / 2, || {});
    let discard = std::thread::spawn(move || payload.discard());
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert!(!discard.is_finished(), "the discard waits for the writer");
    writer.write_up_to(&bytes, len, || {});
    writer.written = true;
    drop(writer);
    assert!(discard.join().unwrap(), "written whole");
    let again = stream(len).unwrap().0;
    assert_eq!(again.offset, payload.offset, "the discard freed it");
    again.release();
    // Its sender dead halfway: the discard says so, and frees it.
    let token = members::register_for_test(0x3fff_ffd0, 778);
    let (payload, mut writer) = stream_owned_by(len, token).unwrap();
    writer.write_up_to(&bytes, len / 2, || {});
    std::mem::forget(writer);
    assert!(!payload.discard(), "torn");
    let again = stream(len).unwrap().0;
    assert_eq!(again.offset, payload.offset, "freed all the same");
    again.release();
}

/// A receiver takes blocks over while a reclaim for their dead sender
/// walks the arena: none it took may be freed under it. (The race was
/// a walk reading the old owner, then the receiver's fresh tag; it hit
/// about once in 100,000 takes.)
#[test]
fn a_block_taken_over_is_never_reclaimed_with_its_sender() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let arena = global().unwrap();
    let dead = 0x2fff_fff1_u32;
    let stop = Arc::new(AtomicBool::new(false));
    let reclaimer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                reclaim(global().unwrap(), dead);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut freed_under_us, mut taken) = (0_u64, 0_u64);
    while Instant::now() < deadline {
        let sent: Vec<PayloadRef> = (0..32)
            .filter_map(|_| {
                let block = arena.alloc_dirty(kind::PAYLOAD, 1000, dead)?;
                Some(PayloadRef {
                    arena: arena.id(),
                    offset: block.offset,
                    tag: block.tag,
                    len: 1000,
                    streamed: false,
                })
            })
            .collect();
        for payload in sent {
            if let Ok(held) = payload.take() {
                taken += 1;
                // Only the holder may free it now.
                if !arena.free_tagged(held.offset, held.tag) {
                    freed_under_us += 1;
                }
                std::mem::forget(held);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    reclaimer.join().unwrap();
    assert!(taken > 0);
    assert_eq!(freed_under_us, 0, "of {taken} blocks taken over");
}
