//! Liveness on Linux from `/proc/<pid>/stat`: when a process started (which
//! tells a reused pid from its first owner), whether it is a zombie, and
//! whether it sleeps.

use crate::sys::posix::pid::{current, exists};

/// What `/proc/<pid>/stat` says of a process.
enum Stat {
    /// It runs (or sleeps), and started this many clock ticks after boot.
    Running { start: u64 },
    /// It is gone, or a zombie waiting to be reaped: it holds nothing.
    Dead,
    /// `/proc` could not say.
    Unknown,
}

/// The state letter and start time in a `/proc/<pid>/stat` line.
fn parse_stat(line: &str) -> Option<(&str, u64)> {
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses,
    // so the fields are counted from the last `)`. The start time is field
    // 22 of the whole line, the 20th after it.
    let mut fields = line.rsplit_once(')')?.1.split_ascii_whitespace();
    let state = fields.next()?;
    Some((state, fields.nth(18)?.parse().ok()?))
}

fn stat(pid: u32) -> Stat {
    if pid == 0 || i32::try_from(pid).is_err() {
        return Stat::Dead;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(line) => match parse_stat(&line) {
            Some(("Z" | "X", _)) => Stat::Dead,
            Some((_, start)) => Stat::Running { start },
            None => Stat::Unknown,
        },
        // Gone, unless `/proc` is missing altogether: `kill` tells.
        Err(_) if !exists(pid) => Stat::Dead,
        Err(_) => Stat::Unknown,
    }
}

/// When process `pid` started, in clock ticks after boot; `None` if it is
/// dead or `/proc` cannot say.
#[cfg(test)]
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    match stat(pid) {
        Stat::Running { start } => Some(start),
        Stat::Dead | Stat::Unknown => None,
    }
}

/// When child `pid`, not yet reaped (so surely still the holder of its
/// pid), started, zombie or not.
pub(crate) fn start_time_unreaped(pid: u32) -> Option<u64> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&line).map(|(_, start)| start)
}

/// Whether every thread of process `pid` sleeps (state `S`, as one blocked
/// reading a socket does): not running, not stopped, not waiting for the
/// disk. `false` when `/proc` cannot say.
pub(crate) fn is_asleep(pid: u32) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    let mut any = false;
    for thread in threads {
        let Ok(thread) = thread else { return false };
        let Ok(line) = std::fs::read_to_string(thread.path().join("stat")) else {
            return false;
        };
        if !matches!(parse_stat(&line), Some(("S", _))) {
            return false;
        }
        any = true;
    }
    any
}

/// When this process started, in clock ticks after boot, if `/proc` is
/// this process's own: one mounted for another pid namespace would name
/// another process by this pid, so its first field, the pid, must match.
pub(crate) fn own_start_time() -> Option<u64> {
    let line = std::fs::read_to_string("/proc/self/stat").ok()?;
    let own = line
        .split_once(' ')
        .is_some_and(|(pid, _)| pid.parse() == Ok(current()));
    own.then(|| parse_stat(&line).map(|(_, start)| start))
        .flatten()
}

/// Whether the process `pid` that started at `start` (0 if unknown) still
/// runs: a process killed by a signal keeps its pid until its parent reaps
/// it, but holds nothing by then, and a pid reused by a later process has
/// another start time. When `/proc` cannot say, the answer is yes: taking
/// a live owner's lock would be far worse than noticing a death later.
pub(crate) fn is_running(pid: u32, start: u64) -> bool {
    match stat(pid) {
        Stat::Running { start: now } => start == 0 || now == start,
        Stat::Dead => false,
        Stat::Unknown => exists(pid),
    }
}

/// Whether process `pid` still runs, whenever it started.
pub(crate) fn is_alive(pid: u32) -> bool {
    is_running(pid, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_since_its_start_and_not_since_another() {
        let me = current();
        let start = start_time(me).expect("this process's start time");
        assert!(is_running(me, start));
        assert!(is_running(me, 0), "an unknown start matches any");
        assert!(!is_running(me, start + 1), "a reused pid starts later");
        assert!(is_alive(me));
        assert_eq!(own_start_time(), Some(start), "this /proc is our own");
    }

    #[test]
    fn a_reaped_child_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!is_alive(pid), "a zombie holds nothing");
        assert!(start_time_unreaped(pid).is_some(), "but keeps its pid");
        child.wait().unwrap();
        assert!(!is_alive(pid));
        assert_eq!(start_time(pid), None);
    }
}
