//! Taking a side's lock, and repairing what a process that died holding it
//! left half-done (see the journal in the parent module).

#[cfg(test)]
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering;

use super::state::{OP_NONE, OP_OPEN};
use super::{GetFailure, Ring};
use crate::shared::word_lock::Taken;

/// A crash point for tests: the process aborts in the middle of the next
/// `put` (1), `get` (2), `put` that allocates a segment (3, once it has
/// linked it) or `get` that leaves one (4, once it has counted its item),
/// holding that side's lock with its journal open.
#[cfg(test)]
pub(crate) static CRASH_AT: AtomicU32 = AtomicU32::new(0);

#[inline]
pub(super) fn crash_point(at: u32) {
    #[cfg(test)]
    if CRASH_AT.load(Ordering::Relaxed) == at {
        std::process::abort();
    }
    #[cfg(not(test))]
    let _ = at;
}

impl Ring {
    /// Takes the producers' lock, undoing what a dead owner left half-done.
    #[inline]
    pub(super) fn lock_put(&self) {
        if self.state.put.lock.lock(None) == Some(Taken::OwnerDied) {
            self.repair_put();
        }
    }

    /// Takes the consumers' lock, undoing what a dead owner left half-done.
    #[inline]
    pub(super) fn lock_get(&self) {
        if self.state.get.lock.lock(None) == Some(Taken::OwnerDied) {
            self.repair_get();
        }
    }

    #[cold]
    pub(super) fn repair_put(&self) {
        let p = &self.state.put;
        if p.journal.load(Ordering::Relaxed) != OP_OPEN {
            return;
        }
        if self.state.puts.load(Ordering::Relaxed) == p.saved_puts.load(Ordering::Relaxed) {
            // Not counted, so no consumer saw it: as if it never happened.
            p.tail
                .store(p.saved_tail.load(Ordering::Relaxed), Ordering::Relaxed);
            // Taken out first: a repairer that dies here must not make the
            // next one free the block again, perhaps someone else's by then.
            let fresh = p.fresh.swap(0, Ordering::Relaxed);
            if fresh != 0 {
                self.arena().free(fresh);
            }
        }
        p.journal.store(OP_NONE, Ordering::Release);
    }

    #[cold]
    fn repair_get(&self) {
        let g = &self.state.get;
        if g.journal.load(Ordering::Relaxed) == OP_OPEN {
            // Undone whole, so no item is lost with the dead process. If it
            // died after counting its get, a producer may have used that
            // room meanwhile: a bounded queue then holds one item over its
            // bound until the next get.
            g.head
                .store(g.saved_head.load(Ordering::Relaxed), Ordering::Relaxed);
            self.state
                .gets
                .store(g.saved_gets.load(Ordering::Relaxed), Ordering::SeqCst);
            g.leaving.store(0, Ordering::Relaxed);
            g.journal.store(OP_NONE, Ordering::Release);
        }
        self.free_left_behind();
        // The dead owner never released the lock, so nothing orders its
        // `seen_puts` before this process's reads of the records it counts:
        // read `puts` again, with acquire.
        let puts = self.state.puts.load(Ordering::Acquire);
        g.seen_puts.store(puts, Ordering::Relaxed);
    }

    /// Frees the segment a finished `get` left behind, if any.
    pub(super) fn free_left_behind(&self) {
        let leaving = self.state.get.leaving.swap(0, Ordering::Relaxed);
        if leaving != 0 {
            self.arena().free(leaving);
        }
    }

    /// Forgets every item of a queue whose memory is not well-formed, with
    /// the consumers' lock held: the head jumps to the tail. (The segments
    /// in between are not walked, so not freed: their links are suspect.)
    #[cold]
    pub(super) fn corrupt(&self) -> GetFailure {
        self.lock_put();
        let (p, g) = (&self.state.put, &self.state.get);
        let tail = p.tail.load(Ordering::Relaxed);
        let puts = self.state.puts.load(Ordering::Relaxed);
        // Journaled with the new values as the ones to restore, so a repair
        // after a death half-way finishes the jump.
        g.saved_head.store(tail, Ordering::Relaxed);
        g.saved_gets.store(puts, Ordering::Relaxed);
        g.journal.store(OP_OPEN, Ordering::Release);
        g.head.store(tail, Ordering::Relaxed);
        g.seen_puts.store(puts, Ordering::Relaxed);
        self.state.gets.store(puts, Ordering::SeqCst);
        g.journal.store(OP_NONE, Ordering::Release);
        p.lock.unlock();
        self.state.tasks.not_full.notify(u32::MAX);
        GetFailure::Corrupt
    }
}
