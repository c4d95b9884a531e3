//! The processes of a tree, each under a token of its own, so that a lock
//! word or a barrier's list can name a process more safely than by its pid:
//! a pid is recycled once its process is reaped, and a dead owner's pid
//! taken by a new process would look alive for as long as that one runs.
//!
//! A token is a 31-bit number (it shares a lock word with a flag), handed
//! out once per process from a counter in the arena. The table entry at
//! `token % MEMBERS` says which pid holds it and when that process started
//! (`/proc/<pid>/stat`, in clock ticks after boot). A process is alive while
//! its entry still carries its token and a process with that pid and that
//! start time runs. An entry is handed to a new token only once its process
//! is dead, so a token that lost its entry is dead too.
//!
//! An entry is written like a sequence lock: its token goes to [`BUSY`],
//! then the pid and start, then the new token. A reader that sees the same
//! token before and after reading the pid and start read a whole entry.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::Arena;
use crate::sys::pid;

/// Entries in the table: more processes than this cannot live at once in
/// one tree.
pub(crate) const MEMBERS: usize = 8192;

/// Tokens lie below; 0 is none.
const TOKENS: u32 = 1 << 31;
/// The token of an entry being written.
const BUSY: u32 = u32::MAX;

/// One process of the tree.
#[repr(C)]
#[derive(Default)]
pub(crate) struct Member {
    token: AtomicU32,
    pid: AtomicU32,
    /// When it started, in clock ticks after boot; 0 if unknown.
    start: AtomicU64,
}

impl Member {
    /// The pid and start time of `token`'s process, if this entry is still
    /// its own.
    fn read(&self, token: u32) -> Option<(u32, u64)> {
        if self.token.load(Ordering::Acquire) != token {
            return None;
        }
        let pid = self.pid.load(Ordering::Acquire);
        let start = self.start.load(Ordering::Acquire);
        (self.token.load(Ordering::Acquire) == token).then_some((pid, start))
    }
}

/// This process's token once it has one, 0 before: one relaxed load on
/// every lock operation.
static ME: AtomicU32 = AtomicU32::new(0);

/// This process's token, registered in this process's arena on first use.
#[inline]
pub(crate) fn me() -> u32 {
    // Acquire, against the release below: another thread that names this
    // process by the token has the entry written first.
    match ME.load(Ordering::Acquire) {
        0 => register_me(),
        token => token,
    }
}

#[cold]
fn register_me() -> u32 {
    static REGISTERING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = REGISTERING.lock().unwrap_or_else(PoisonError::into_inner);
    if let token @ 1.. = ME.load(Ordering::Relaxed) {
        return token;
    }
    let Ok(arena) = super::global() else {
        // No arena, so no shared primitive to name this process in; not
        // kept, so that a token is taken once there is one.
        return pid::current() & !TOKENS;
    };
    let token = register(arena, pid::current(), pid::own_start_time());
    ME.store(token, Ordering::Release);
    token
}

/// Whether the process holding `token` still runs; this process's own
/// token always does.
pub(crate) fn is_alive(token: u32) -> bool {
    if token == me() {
        return true;
    }
    let Ok(arena) = super::global() else {
        return pid::is_alive(token);
    };
    alive_in(arena, token)
}

fn entry(table: &[Member; MEMBERS], token: u32) -> &Member {
    &table[token as usize % MEMBERS]
}

fn alive_in(arena: &Arena, token: u32) -> bool {
    let (table, _) = arena.members();
    entry(table, token)
        .read(token)
        .is_some_and(|(pid, start)| pid::is_running(pid, start))
}

/// The token of the dead process `pid`, started at `start` (0 if
/// unknown), if it took one: for a death the process backend reports. A
/// recycled pid may be in the table more than once, so the start time must
/// match too, and a process that runs is never the one.
pub(crate) fn token_of(arena: &Arena, pid: u32, start: u64) -> Option<u32> {
    let (table, _) = arena.members();
    table.iter().find_map(|member| {
        let token = member.token.load(Ordering::Acquire);
        if token == 0 || token == BUSY {
            return None;
        }
        let (p, s) = member.read(token)?;
        let same = p == pid && (start == 0 || s == 0 || s == start);
        (same && !pid::is_running(p, s)).then_some(token)
    })
}

/// Hands `pid`, started at `start`, a token and an entry of its own.
///
/// # Panics
///
/// If every entry belongs to a live process: more than [`MEMBERS`]
/// processes share the arena.
fn register(arena: &Arena, pid: u32, start: Option<u64>) -> u32 {
    let (table, tokens) = arena.members();
    for _ in 0..2 * MEMBERS {
        let token = tokens.fetch_add(1, Ordering::Relaxed).wrapping_add(1) % TOKENS;
        if token == 0 {
            continue;
        }
        let member = entry(table, token);
        let held = member.token.load(Ordering::Acquire);
        if held == BUSY || (held != 0 && alive_in(arena, held)) {
            continue;
        }
        if member
            .token
            .compare_exchange(held, BUSY, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        member.pid.store(pid, Ordering::Release);
        member.start.store(start.unwrap_or(0), Ordering::Release);
        member.token.store(token, Ordering::Release);
        return token;
    }
    panic!("freethreading: more than {MEMBERS} processes share one arena");
}

/// Registers a process as if `pid` had started at `start`: for tests that
/// stand in for a recycled pid.
#[cfg(all(test, process_backend))]
pub(crate) fn register_for_test(pid: u32, start: u64) -> u32 {
    register(super::global().expect("the arena"), pid, Some(start))
}

#[cfg(all(test, process_backend))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_recycled_pid_is_not() {
        assert!(is_alive(me()));
        let start = pid::start_time(pid::current()).unwrap();
        let again = register_for_test(pid::current(), start);
        assert!(is_alive(again), "the same process, registered again");
        // What a dead owner whose pid a later process took looks like: the
        // pid runs, but started at another time.
        let recycled = register_for_test(pid::current(), start + 1);
        assert!(!is_alive(recycled));
        let arena = super::super::global().unwrap();
        assert_eq!(
            token_of(arena, pid::current(), start + 1),
            Some(recycled),
            "the dead entry of a pid, by its start time"
        );
        assert_eq!(
            token_of(arena, pid::current(), start),
            None,
            "a running process is never reported dead"
        );
        assert!(!is_alive(0));
    }

    #[test]
    fn a_token_that_lost_its_entry_is_dead() {
        let token = register_for_test(pid::current(), 1);
        assert!(!is_alive(token));
        // Entries of dead processes are handed on: the token that comes
        // MEMBERS later lands on the same entry.
        let arena = super::super::global().unwrap();
        let (table, _) = arena.members();
        let member = entry(table, token);
        member
            .token
            .store(token + u32::try_from(MEMBERS).unwrap(), Ordering::Release);
        assert!(!is_alive(token));
    }
}
