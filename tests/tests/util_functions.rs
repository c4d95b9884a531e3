//! The utility functions seen from workers and from their callers:
//! `current_worker`, `get_ident`, `enumerate`, `active_children`,
//! `active_count` and `get_backend`.
//!
//! Every test that starts a worker takes `serial()`, so that the counts of
//! live workers that some of them check are not disturbed by the others.

// Worker processes of this test binary start here.
freethreading::test_support!();

mod gate;

use std::collections::HashSet;

use freethreading::{
    BACKEND_ENV_VAR, Backend, MAIN_PROCESS_NAME, MAIN_THREAD_NAME, Worker, WorkerInfo,
    active_children, active_count, current_worker, enumerate, get_backend, get_ident, worker_fn,
};
use freethreading_tests::serial;

use gate::{Gate, pass_gate};

/// What a worker knows of itself: name, `current_worker().ident()`,
/// `get_ident()`, daemon flag.
#[worker_fn]
fn whoami() -> (String, u64, u64, bool) {
    let me = current_worker();
    (
        me.name().to_owned(),
        me.ident(),
        get_ident(),
        me.is_daemon(),
    )
}

/// Waits at `gate`, then says what `whoami` says.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // task arguments are owned: they cross to the worker
fn whoami_after(gate: String) -> (String, u64, u64, bool) {
    gate::wait_at(&gate);
    whoami()
}

/// How a worker sees the lists: is it in `enumerate()`, is it out of
/// `active_children()`, and does `active_count()` agree with `enumerate()`.
#[worker_fn]
fn lists_seen_inside() -> (bool, bool, bool) {
    let me = current_worker();
    (
        enumerate().contains(&me),
        !active_children().contains(&me),
        active_count() == enumerate().len(),
    )
}

/// Waits at `gate`, then says where it runs: its ident and its host.
#[worker_fn]
#[allow(clippy::needless_pass_by_value)] // task arguments are owned: they cross to the worker
fn where_after(gate: String) -> (u64, Option<String>) {
    gate::wait_at(&gate);
    let me = current_worker();
    (me.ident(), me.host().map(str::to_owned))
}

#[worker_fn]
fn backend_inside() -> String {
    get_backend().to_string()
}

fn names(workers: &[WorkerInfo]) -> Vec<String> {
    workers.iter().map(|w| w.name().to_owned()).collect()
}

fn run<R: freethreading::TaskValue>(worker: Worker<R>) -> R {
    worker.start().expect("starting a worker");
    worker.join().expect("joining a worker")
}

freethreading_tests::backend_tests! {
    fn current_worker_is_the_worker_inside_it() {
        let _serial = serial();
        let (name, ..) = run(Worker::new(whoami, ()).with_name("Alpha"));
        assert_eq!(name, "Alpha");

        let worker = Worker::new(whoami, ());
        let default = worker.name().to_owned();
        assert_eq!(run(worker).0, default);
    }

    fn current_worker_outside_workers_is_the_caller() {
        let me = current_worker();
        assert_eq!(me, current_worker(), "one identity per caller");
        assert!(!me.is_daemon());
        let helper = std::thread::Builder::new()
            .name("Helper".to_owned())
            .spawn(|| current_worker().name().to_owned())
            .unwrap();
        let helper = helper.join().unwrap();
        if get_backend() == Backend::Multiprocessing {
            // Python's `current_process()`: every thread of the program is `MainProcess`.
            assert_eq!(me.name(), MAIN_PROCESS_NAME);
            assert_eq!(me.ident(), u64::from(std::process::id()));
            assert_eq!(helper, MAIN_PROCESS_NAME);
        } else if get_backend() == Backend::Mpi {
            // As on processes, with the rank for ident and its host.
            assert_eq!(me.name(), MAIN_PROCESS_NAME);
            assert_eq!(me.ident(), 0);
            assert!(me.host().is_some_and(|host| !host.is_empty()), "{me:?}");
            assert_eq!(helper, MAIN_PROCESS_NAME);
        } else {
            let thread = std::thread::current();
            let expected = [Some(MAIN_THREAD_NAME), thread.name()];
            assert!(expected.contains(&Some(me.name())), "unexpected name {:?}", me.name());
            assert_eq!(helper, "Helper");
        }
    }

    fn get_ident_is_distinct_per_worker_and_matches_current_worker() {
        let _serial = serial();
        // All alive at once, so that even process ids could not be reused.
        let gate = Gate::closed();
        let workers: Vec<_> = (0..8)
            .map(|_| Worker::new(whoami_after, (gate.path(),)))
            .collect();
        for worker in &workers {
            worker.start().unwrap();
        }
        gate.open();
        let seen: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        for (_, ident, get_ident_inside, _) in &seen {
            assert_eq!(ident, get_ident_inside);
            assert_ne!(*ident, get_ident(), "a worker's ident is not its caller's");
        }
        let distinct: HashSet<u64> = seen.iter().map(|(_, ident, ..)| *ident).collect();
        if get_backend() == Backend::Mpi {
            // The ident is the rank, which Workers alive at once share once
            // they outnumber the worker ranks; never rank 0's.
            let ranks = std::env::var("OMPI_COMM_WORLD_SIZE").unwrap().parse::<usize>().unwrap() - 1;
            assert_eq!(distinct.len(), seen.len().min(ranks), "idents: {seen:?}");
            assert!(!distinct.contains(&0), "idents: {seen:?}");
        } else {
            assert_eq!(distinct.len(), seen.len(), "idents: {seen:?}");
        }
        assert_eq!(get_ident(), current_worker().ident());
    }

    fn a_running_worker_is_listed_until_it_finishes() {
        let _serial = serial();
        let me = current_worker();
        let before = active_count();
        assert!(enumerate().contains(&me));
        assert!(!active_children().contains(&me));

        let gate = Gate::closed();
        let worker = Worker::new(pass_gate, (gate.path(), 0)).with_name("Listed");
        assert!(!names(&enumerate()).contains(&"Listed".to_owned()), "not before start");
        worker.start().unwrap();
        assert!(names(&enumerate()).contains(&"Listed".to_owned()));
        assert!(names(&active_children()).contains(&"Listed".to_owned()));
        assert!(!active_children().contains(&me));
        assert_eq!(active_count(), before + 1);
        assert_eq!(active_count(), enumerate().len());

        gate.open();
        worker.join().unwrap();
        assert!(!names(&enumerate()).contains(&"Listed".to_owned()), "gone after join");
        assert!(!names(&active_children()).contains(&"Listed".to_owned()));
        assert_eq!(active_count(), before);
    }

    fn the_lists_show_each_worker_with_its_daemon_flag() {
        let _serial = serial();
        let before = active_count();
        let gate = Gate::closed();
        let daemon = Worker::new(pass_gate, (gate.path(), 0)).with_name("Listed-daemon");
        let daemon = daemon.with_daemon(true);
        let plain = Worker::new(pass_gate, (gate.path(), 0)).with_name("Listed-plain");
        daemon.start().unwrap();
        plain.start().unwrap();
        let children = active_children();
        let flag = |name: &str| children.iter().find(|w| w.name() == name).map(WorkerInfo::is_daemon);
        assert_eq!(flag("Listed-daemon"), Some(true));
        assert_eq!(flag("Listed-plain"), Some(false));
        assert_eq!(active_count(), before + 2);
        gate.open();
        daemon.join().unwrap();
        plain.join().unwrap();
        assert_eq!(active_count(), before);
    }

    fn a_worker_sees_itself_in_enumerate_but_not_in_active_children() {
        let _serial = serial();
        assert_eq!(run(Worker::new(lists_seen_inside, ())), (true, true, true));
    }

    fn get_backend_prints_the_backend_in_force() {
        let _serial = serial();
        let name = get_backend().to_string();
        match std::env::var(BACKEND_ENV_VAR) {
            Ok(chosen) if !chosen.is_empty() => assert_eq!(name, chosen),
            _ => assert_eq!(name, "threading"),
        }
        assert_eq!(run(Worker::new(backend_inside, ())), name, "a worker agrees");
    }

    fn each_worker_reports_the_host_it_runs_on() {
        let _serial = serial();
        // On MPI, one Worker per worker rank, all alive at once, so that
        // every rank (and so every host) has one.
        let count = if get_backend() == Backend::Mpi {
            std::env::var("OMPI_COMM_WORLD_SIZE").unwrap().parse::<usize>().unwrap() - 1
        } else {
            2
        };
        let gate = Gate::closed();
        let workers: Vec<_> = (0..count)
            .map(|i| Worker::new(where_after, (gate.path(),)).with_name(format!("Where-{i}")))
            .collect();
        for worker in &workers {
            worker.start().unwrap();
        }
        // While they run, the caller's list says where each one is.
        let mut listed: Vec<(u64, Option<String>)> = enumerate()
            .iter()
            .filter(|w| w.name().starts_with("Where-"))
            .map(|w| (w.ident(), w.host().map(str::to_owned)))
            .collect();
        gate.open();
        let mut seen: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        listed.sort();
        seen.sort();
        assert_eq!(seen, listed, "the workers and their caller's list agree");
        if get_backend() == Backend::Mpi {
            assert!(seen.iter().all(|(_, host)| host.as_ref().is_some_and(|h| !h.is_empty())));
            // .ci/mpi-netns starts the ranks on several hosts (network
            // namespaces), and says how many.
            if let Ok(hosts) = std::env::var("FREETHREADING_TESTS_MPI_HOSTS") {
                let mut all: HashSet<String> = seen.into_iter().filter_map(|(_, h)| h).collect();
                all.extend(current_worker().host().map(str::to_owned));
                assert_eq!(all.len(), hosts.parse::<usize>().unwrap(), "hosts: {all:?}");
            }
        } else {
            assert!(seen.iter().all(|(_, host)| host.is_none()), "{seen:?}");
        }
    }
}

freethreading_tests::backend_tests! {
    fn threads_named_main_do_not_share_an_identity() {
        let spawn_main = || {
            std::thread::Builder::new()
                .name("main".to_owned())
                .spawn(freethreading::get_ident)
                .unwrap()
        };
        let (first, second) = (spawn_main(), spawn_main());
        let (first, second) = (first.join().unwrap(), second.join().unwrap());
        if get_backend() == Backend::Multiprocessing {
            // `get_ident` is the process id, which threads share.
            assert_eq!([first, second], [u64::from(std::process::id()); 2]);
        } else if get_backend() == Backend::Mpi {
            // `get_ident` is the rank, which threads share: rank 0 here.
            assert_eq!([first, second], [0, 0]);
        } else {
            assert_ne!(first, second);
        }
    }
}
