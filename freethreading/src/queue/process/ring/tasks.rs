//! What a process queue counts: tasks done and awaited, its length and
//! bound; and freeing a queue no other process can reach.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::state::{HEADER, LINK_MARK, RECORD, padded, unpack};
use super::{Ring, Segment};

impl Ring {
    /// Marks one task done; `false` if none was unfinished.
    pub(crate) fn task_done(&self) -> bool {
        let tasks = &self.state.tasks;
        let mut puts = 0;
        // `puts` read afresh on every try: items put and done while this
        // call retried count too.
        let counted = tasks
            .done
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| {
                puts = self.state.puts.load(Ordering::SeqCst);
                (done < puts).then_some(done + 1)
            });
        match counted {
            Ok(done) => {
                if done + 1 == puts {
                    tasks.all_done.notify(u32::MAX);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until every task is done, until `deadline`; whether they are.
    pub(crate) fn join(&self, deadline: Option<Instant>) -> bool {
        self.state
            .tasks
            .all_done
            .wait_until(deadline, || self.unfinished() == 0)
    }

    pub(crate) fn unfinished(&self) -> usize {
        // `done` first: it never passes `puts`, which only grows.
        let done = self.state.tasks.done.load(Ordering::SeqCst);
        let puts = self.state.puts.load(Ordering::SeqCst);
        usize::try_from(puts.saturating_sub(done)).unwrap_or(usize::MAX)
    }

    pub(crate) fn len(&self) -> usize {
        // `gets` first: it never passes `puts`, which only grows.
        let gets = self.state.gets.load(Ordering::SeqCst);
        let puts = self.state.puts.load(Ordering::SeqCst);
        usize::try_from(puts.saturating_sub(gets)).unwrap_or(usize::MAX)
    }

    pub(crate) fn maxsize(&self) -> usize {
        usize::try_from(self.state.put.maxsize.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let arena = self.arena();
        if arena.is_exported(self.state.offset()) {
            return;
        }
        // Nobody else can reach the queue: free its segments, head to tail.
        let (mut offset, mut position) = unpack(self.state.get.head.load(Ordering::Relaxed));
        let (tail, _) = unpack(self.state.put.tail.load(Ordering::Relaxed));
        while let Some(segment) = Segment::open(arena, offset) {
            if offset == tail {
                arena.free(offset);
                break;
            }
            // Find this segment's link: walk its records.
            let mut next = None;
            while let Some(header) = segment.read_u64(position) {
                if header == LINK_MARK {
                    next = segment.read_u64(position + 8);
                    break;
                }
                if header & !0xFFFF_FFFF != RECORD {
                    break;
                }
                position += HEADER + padded(header & 0xFFFF_FFFF);
            }
            arena.free(offset);
            match next {
                Some(next) => {
                    offset = next;
                    position = 0;
                }
                None => break,
            }
        }
    }
}
