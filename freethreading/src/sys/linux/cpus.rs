//! The CPUs this process may run on (its affinity), from `/proc`: what an
//! MPI rank compares with the other ranks of its host, to know whether it
//! has cores of its own (`mpi/wait.rs`).

use std::fs;

/// The CPUs this process may run on, by number (`Cpus_allowed_list` of
/// `/proc/self/status`: ranges such as `0-3,8`); `None` if it cannot be read.
pub(crate) fn allowed() -> Option<Vec<usize>> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?;
    parse_list(list.trim())
}

/// CPU numbers from a list of ranges (`0-3,8`).
fn parse_list(ranges: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in ranges.split(',').filter(|part| !part.is_empty()) {
        match part.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (low.parse::<usize>().ok()?, high.parse::<usize>().ok()?);
                cpus.extend(low..=high);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_single_cpus_are_read_and_garbage_is_none() {
        assert_eq!(parse_list("0-3,8"), Some(vec![0, 1, 2, 3, 8]));
        assert_eq!(parse_list("5"), Some(vec![5]));
        assert_eq!(parse_list("0-x"), None);
        let mine = allowed().expect("Linux says which CPUs a process may use");
        assert!(!mine.is_empty());
    }
}
