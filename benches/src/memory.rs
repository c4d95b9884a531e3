//! Resident memory of worker processes, read from Linux's `/proc`.
//!
//! A pool's workers are found as the children of this process that appeared
//! since a snapshot taken before the pool was built, so the same code counts
//! our process pool and procspawn's. `VmRSS` counts every page a process maps,
//! shared ones (the binary, libraries, pages inherited from a fork) included;
//! `Pss` divides each shared page among the processes that share it.

use std::collections::BTreeSet;
use std::fs;

/// The pids of this process's children now.
pub fn children() -> BTreeSet<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(me))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: the fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// `VmRSS` and `Pss` of `pid`, in KiB.
///
/// # Errors
///
/// When `/proc` cannot be read for `pid` (not Linux, or the process is gone).
pub fn rss_pss_kib(pid: u32) -> Result<(f64, f64), String> {
    let field = |path: String, name: &str| -> Result<f64, String> {
        let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        text.lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .ok_or_else(|| format!("no {name} in {path}"))
    };
    Ok((
        field(format!("/proc/{pid}/status"), "VmRSS:")?,
        field(format!("/proc/{pid}/smaps_rollup"), "Pss:")?,
    ))
}

/// The summed `VmRSS` and `Pss` (KiB) of the children that are not in `before`.
///
/// # Errors
///
/// When there are no new children, or `/proc` cannot be read for one.
pub fn new_children_kib(before: &BTreeSet<u32>) -> Result<(f64, f64, usize), String> {
    let new: Vec<u32> = children().difference(before).copied().collect();
    if new.is_empty() {
        return Err("no worker processes found".to_owned());
    }
    let mut total = (0.0, 0.0);
    for &pid in &new {
        let (rss, pss) = rss_pss_kib(pid)?;
        total.0 += rss;
        total.1 += pss;
    }
    Ok((total.0, total.1, new.len()))
}
