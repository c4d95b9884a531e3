//! What a pool's and an executor's builders share: the size of the crew, the
//! initializer its workers run first and its backend, and how a crew is
//! started from them. Each builder keeps only its Python name for the size (`workers`,
//! `max_workers`) and its error type.

use std::fmt;
use std::sync::atomic::AtomicUsize;

use super::{Failure, Initializer, Workers, default_size, next_serial};
use crate::Backend;
use crate::task::{Task, registry};

/// A crew's size, initializer and backend, as a builder collects them.
#[derive(Default)]
pub(crate) struct CrewOptions {
    /// The number of workers; `None` for [`default_size`].
    workers: Option<usize>,
    initializer: Option<Initializer>,
    /// The crew's own backend; `None` for the program's.
    backend: Option<Backend>,
    /// Jobs after which a worker is replaced; `None` for never.
    max_jobs: Option<usize>,
}

impl CrewOptions {
    pub(crate) fn set_workers(&mut self, workers: usize) {
        self.workers = Some(workers);
    }

    pub(crate) fn set_max_jobs(&mut self, max_jobs: usize) {
        self.max_jobs = Some(max_jobs);
    }

    pub(crate) fn set_backend(&mut self, backend: Backend) {
        self.backend = Some(backend);
    }

    pub(crate) fn set_initializer<I>(&mut self, task: I, args: I::Args)
    where
        I: Task<Output = ()>,
        I::Args: Clone,
    {
        self.initializer = Some(Initializer::new(task, args));
    }

    /// Starts the crew, its workers named `<kind>-<serial>_<i>`, the serial
    /// counted in `serials` (one counter per kind).
    pub(crate) fn start(&self, kind: &str, serials: &AtomicUsize) -> Result<Workers, Failure> {
        let size = self.workers.unwrap_or_else(|| default_size(self.backend));
        if size == 0 {
            return Err(Failure::ZeroWorkers);
        }
        if self.max_jobs == Some(0) {
            return Err(Failure::ZeroMaxTasks);
        }
        if let Some(initializer) = &self.initializer {
            registry::check(initializer.name()).map_err(Failure::Registry)?;
        }
        let prefix = format!("{kind}-{}", next_serial(serials));
        Workers::start(
            &prefix,
            size,
            self.initializer.as_ref(),
            self.backend,
            self.max_jobs,
        )
    }

    /// The builder's `Debug`, its size field named `size_field`.
    pub(crate) fn debug(
        &self,
        f: &mut fmt::Formatter<'_>,
        builder: &str,
        size_field: &str,
    ) -> fmt::Result {
        f.debug_struct(builder)
            .field(size_field, &self.workers)
            .field("backend", &self.backend)
            .field("max_tasks_per_worker", &self.max_jobs)
            .field(
                "initializer",
                &self.initializer.as_ref().map(Initializer::name),
            )
            .finish()
    }
}
