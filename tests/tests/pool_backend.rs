//! A pool's or executor's own backend (`builder().backend(..)`), whatever the
//! program's, and primitives made for it with `Backend::install`.

// Worker processes of this test binary start here.
freethreading::test_support!();

use freethreading::{
    Backend, Lock, PoolError, Queue, WorkerPool, WorkerPoolExecutor, get_backend, worker_fn,
};

#[worker_fn]
fn process_id() -> u32 {
    std::process::id()
}

#[worker_fn]
fn put_under_lock(lock: Lock, queue: Queue<u32>, value: u32) -> Result<(), String> {
    let _held = lock.lock();
    queue.put(value).map_err(|e| e.to_string())
}

/// Whether work that reported process id `pid` ran where `backend` runs it:
/// in this process on threads, in another on processes and MPI ranks.
fn ran_on(backend: Backend, pid: u32) -> bool {
    match backend {
        Backend::Threading => pid == std::process::id(),
        _ => pid != std::process::id(),
    }
}

/// The backends a pool of this program can run on: MPI's ranks serve only
/// a program started on the mpi backend.
fn pool_backends() -> impl Iterator<Item = Backend> {
    Backend::available().filter(|&backend| backend != Backend::Mpi || get_backend() == Backend::Mpi)
}

freethreading_tests::backend_tests! {
    fn a_pool_runs_on_the_backend_its_builder_names() {
        for backend in pool_backends() {
            let pool = WorkerPool::builder().workers(1).backend(backend).build().unwrap();
            let pid = pool.apply(process_id, ()).unwrap();
            assert!(ran_on(backend, pid), "{backend}: {pid}");
            let executor = WorkerPoolExecutor::builder().max_workers(1).backend(backend).build().unwrap();
            let pid = executor.submit(process_id, ()).unwrap().result().unwrap();
            assert!(ran_on(backend, pid), "{backend}: {pid}");
        }
    }

    fn a_thread_pool_and_a_process_pool_run_side_by_side() {
        let threads = WorkerPool::builder().workers(2).backend(Backend::Threading).build().unwrap();
        let processes =
            WorkerPool::builder().workers(2).backend(Backend::Multiprocessing).build().unwrap();
        let on_threads = threads.starmap(process_id, vec![(); 8]);
        let mut seen = processes.starmap(process_id, vec![(); 8]).unwrap();
        seen.sort_unstable();
        seen.dedup();
        assert!(!seen.contains(&std::process::id()), "{seen:?}");
        assert!(seen.len() <= 2, "{seen:?}");
        assert!(on_threads.unwrap().iter().all(|&pid| pid == std::process::id()));
    }

    fn primitives_made_under_install_reach_a_process_pool() {
        let pool = WorkerPool::builder().workers(2).backend(Backend::Multiprocessing).build().unwrap();
        let (lock, queue) = Backend::Multiprocessing.install(|| (Lock::new(), Queue::new())).unwrap();
        let args: Vec<_> = (0..4).map(|i| (lock.clone(), queue.clone(), i)).collect();
        for outcome in pool.starmap(put_under_lock, args).unwrap() {
            outcome.unwrap();
        }
        let mut got: Vec<u32> = (0..4).map(|_| queue.get().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 3]);
    }

    fn install_ends_with_its_closure_even_when_it_panics() {
        let outcome = std::panic::catch_unwind(|| {
            Backend::Threading.install(|| panic!("inside")).unwrap();
        });
        assert!(outcome.is_err());
        // Back to the program's flavor: on threads, a queue a process pool's
        // task cannot use; on processes, one it can.
        let queue: Queue<u32> = Queue::new();
        let pool = WorkerPool::builder().workers(1).backend(Backend::Multiprocessing).build().unwrap();
        let lock = Backend::Multiprocessing.install(Lock::new).unwrap();
        let outcome = pool.apply(put_under_lock, (lock, queue.clone(), 7));
        if get_backend() == Backend::Multiprocessing {
            outcome.unwrap().unwrap();
            assert_eq!(queue.get().unwrap(), 7);
        } else {
            // Threads make thread-flavor queues, MPI's rank 0 queues served
            // to its ranks: neither reaches a worker process.
            let error = outcome.map_or_else(|e| e.to_string(), |r| format!("{r:?}"));
            assert!(error.contains("process"), "{error}");
        }
    }

    fn a_primitive_made_for_threads_reaches_no_other_process() {
        let lock = Backend::Threading.install(Lock::new).unwrap();
        let queue: Queue<u32> = Queue::new();
        let pool = WorkerPool::new(1).unwrap();
        let outcome = pool.apply(put_under_lock, (lock, queue.clone(), 7));
        let error = || outcome.as_ref().map_or_else(ToString::to_string, |r| format!("{r:?}"));
        match get_backend() {
            Backend::Threading => {
                outcome.as_ref().unwrap().as_ref().unwrap();
                assert_eq!(queue.get().unwrap(), 7);
            }
            // Refused on rank 0, as the task's arguments are encoded.
            Backend::Mpi => assert!(error().contains("cannot reach an MPI worker rank"), "{}", error()),
            _ => assert!(error().contains("cannot be used in process"), "{}", error()),
        }
    }

    fn a_pool_on_an_unavailable_backend_is_an_error() {
        for backend in Backend::ALL.into_iter().filter(|b| !b.is_available()) {
            let error = WorkerPool::builder().backend(backend).build().unwrap_err();
            assert!(matches!(error, PoolError::Backend(_)), "{error}");
            assert!(backend.install(|| ()).is_err());
        }
    }

    fn a_pool_on_mpi_needs_a_program_started_on_mpi() {
        if Backend::Mpi.is_available() && get_backend() != Backend::Mpi {
            let error = WorkerPool::builder().workers(1).backend(Backend::Mpi).build().unwrap_err();
            assert!(error.to_string().contains("FREETHREADING_BACKEND=mpi"), "{error}");
        }
    }
}
