//! The CPUs this process may run on (its affinity): what an MPI rank
//! compares with the other ranks of its host, to know whether it has cores
//! of its own (`mpi/wait.rs`).

use rustix::thread::{CpuSet, sched_getaffinity};

/// The CPUs this process may run on, by number (`sched_getaffinity` of the
/// calling thread, which `mpirun --bind-to` sets for the whole process);
/// `None` if the system will not say.
pub(crate) fn allowed() -> Option<Vec<usize>> {
    let set = sched_getaffinity(None).ok()?;
    Some(
        (0..CpuSet::MAX_CPU)
            .filter(|&cpu| set.is_set(cpu))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_says_which_cpus_a_process_may_use() {
        let mine = allowed().expect("Linux says which CPUs a process may use");
        assert!(!mine.is_empty());
    }
}
