//! Our side of every workload, written against the public API only, so the
//! same code measures whichever backend the program runs on.

use std::fmt::Display;
use std::hint::black_box;
use std::time::{Duration, Instant};

use freethreading::{
    Barrier, Event, Lock, Queue, SimpleQueue, TaskValue, Worker, WorkerPool, WorkerPoolExecutor,
    worker_fn,
};
use freethreading_benches::suite::Side;

/// An error as a side's reason for having no figure.
pub(crate) fn why(error: impl Display) -> String {
    error.to_string()
}

#[worker_fn]
pub(crate) fn noop() {}

#[worker_fn]
pub(crate) fn id(x: u64) -> u64 {
    x
}

#[worker_fn]
pub(crate) fn square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

pub(crate) use freethreading_benches::spin;

#[worker_fn]
fn produce(queue: Queue<Option<u64>>, items: u64) -> Result<(), String> {
    for i in 0..items {
        queue.put(Some(i)).map_err(why)?;
    }
    queue.put(None).map_err(why)
}

#[worker_fn]
fn consume(queue: Queue<Option<u64>>) -> Result<u64, String> {
    let mut got = 0;
    while queue.get().map_err(why)?.is_some() {
        got += 1;
    }
    Ok(got)
}

#[worker_fn]
fn produce_simple(queue: SimpleQueue<Option<u64>>, items: u64) -> Result<(), String> {
    for i in 0..items {
        queue.put(Some(i)).map_err(why)?;
    }
    queue.put(None).map_err(why)
}

#[worker_fn]
fn consume_simple(queue: SimpleQueue<Option<u64>>) -> Result<u64, String> {
    let mut got = 0;
    while queue.get().map_err(why)?.is_some() {
        got += 1;
    }
    Ok(got)
}

/// Meets the other worker at `gate`, then takes and releases `lock` `times`
/// times: how long that took, timed here, since a parent woken at the gate
/// would start its clock late (both cores are busy with the workers).
#[worker_fn]
fn hammer(lock: Lock, gate: Barrier, times: u32) -> Result<Duration, String> {
    gate.wait_timeout(DEADLINE).map_err(why)?;
    let began = Instant::now();
    for _ in 0..times {
        drop(black_box(lock.lock()));
    }
    Ok(began.elapsed())
}

#[worker_fn]
fn pong(ping: Event, back: Event, times: u32) {
    for _ in 0..times {
        ping.wait();
        ping.clear();
        back.set();
    }
}

#[worker_fn]
fn meet(barrier: Barrier, times: u32) -> Result<(), String> {
    for _ in 0..times {
        barrier.wait().map_err(why)?;
    }
    Ok(())
}

/// How long a sample may wait for a worker or a wake-up before it gives up
/// with an error: a primitive that a process worker got a private copy of
/// (rather than a shared one) would otherwise hang the suite.
const DEADLINE: Duration = Duration::from_secs(30);

/// Joins `worker` within [`DEADLINE`], or says it did not finish.
fn join_within<R: TaskValue>(worker: Worker<R>) -> Result<R, String> {
    if worker.join_timeout(DEADLINE).map_err(why)? {
        worker.join().map_err(why)
    } else {
        Err(format!("a worker did not finish within {DEADLINE:?}"))
    }
}

/// Starts `worker` as a daemon (never waited for at exit, should it hang).
fn start<R: TaskValue>(worker: Worker<R>) -> Result<Worker<R>, String> {
    let worker = worker.with_daemon(true);
    worker.start().map_err(why)?;
    Ok(worker)
}

/// Workload 1: `times` workers started, each running `noop`, and joined.
pub(crate) fn start_join(name: &str, times: u32) -> Side<'static> {
    Side::new(name, move || {
        for _ in 0..times {
            let worker = Worker::new(noop, ());
            worker.start().map_err(why)?;
            worker.join().map_err(why)?;
        }
        Ok(())
    })
}

/// Workload 2: `times` `apply` round trips on a warm pool.
pub(crate) fn apply<'a>(name: &str, pool: &'a WorkerPool, times: u64) -> Side<'a> {
    Side::new(name, move || {
        for i in 0..times {
            black_box(pool.apply(id, (i,)).map_err(why)?);
        }
        Ok(())
    })
}

/// Workload 3: `map` of `items` tiny tasks, with Python's default chunking or `chunksize`.
pub(crate) fn map<'a>(
    name: &str,
    pool: &'a WorkerPool,
    items: u64,
    chunksize: Option<usize>,
) -> Side<'a> {
    Side::new(name, move || {
        let out = match chunksize {
            None => pool.map(square, 0..items),
            Some(c) => pool.map_chunked(square, 0..items, c),
        };
        black_box(out.map_err(why)?);
        Ok(())
    })
}

/// Workload 3: `parallel_map!` of `items` tiny tasks on its shared default pool
/// (for a range it takes `WorkerPool::map_range`), the form a target of issue 1 names.
pub(crate) fn parallel_map_range(name: &str, items: u64) -> Side<'static> {
    Side::new(name, move || {
        black_box(freethreading::parallel_map!(square, 0..items).map_err(why)?);
        Ok(())
    })
}

/// Workload 4: the CPU-bound tasks `spin(iters)` mapped over the pool, one per item.
pub(crate) fn cpu<'a>(name: &str, pool: &'a WorkerPool, tasks: &'a [u64]) -> Side<'a> {
    Side::new(name, move || {
        black_box(
            pool.map_chunked(spin, tasks.iter().copied(), 1)
                .map_err(why)?,
        );
        Ok(())
    })
}

/// Workload 5: `times` `submit` + `result` round trips.
pub(crate) fn submit<'a>(name: &str, ex: &'a WorkerPoolExecutor, times: u64) -> Side<'a> {
    Side::new(name, move || {
        for i in 0..times {
            black_box(ex.submit(id, (i,)).map_err(why)?.result().map_err(why)?);
        }
        Ok(())
    })
}

/// Workload 5: the executor's `map` of `items` tiny tasks.
pub(crate) fn executor_map<'a>(name: &str, ex: &'a WorkerPoolExecutor, items: u64) -> Side<'a> {
    Side::new(name, move || {
        for r in ex.map(square, 0..items).map_err(why)? {
            black_box(r.map_err(why)?);
        }
        Ok(())
    })
}

/// Workload 6: `items` through a `Queue` from `ends` producers to `ends`
/// consumers, all running at once.
pub(crate) fn queue(name: &str, ends: u64, items: u64) -> Side<'static> {
    Side::new(name, move || {
        let q = Queue::new();
        transfer(
            (0..ends).map(|_| Worker::new(produce, (q.clone(), items / ends))),
            (0..ends).map(|_| Worker::new(consume, (q.clone(),))),
            items / ends * ends,
        )
    })
}

/// Workload 6: the same through a `SimpleQueue`.
pub(crate) fn simple_queue(name: &str, ends: u64, items: u64) -> Side<'static> {
    Side::new(name, move || {
        let q = SimpleQueue::new();
        transfer(
            (0..ends).map(|_| Worker::new(produce_simple, (q.clone(), items / ends))),
            (0..ends).map(|_| Worker::new(consume_simple, (q.clone(),))),
            items / ends * ends,
        )
    })
}

/// Starts the consumers, then the producers, so that they overlap as
/// Python's do, and checks that `items` arrived.
fn transfer(
    producers: impl Iterator<Item = Worker<Result<(), String>>>,
    consumers: impl Iterator<Item = Worker<Result<u64, String>>>,
    items: u64,
) -> Result<(), String> {
    let consumers = consumers.map(start).collect::<Result<Vec<_>, _>>()?;
    let producers = producers.map(start).collect::<Result<Vec<_>, _>>()?;
    let produced = producers
        .into_iter()
        .map(join_within)
        .collect::<Result<Vec<_>, _>>()?;
    let consumed = consumers
        .into_iter()
        .map(join_within)
        .collect::<Result<Vec<_>, _>>()?;
    check_transfer(produced, consumed, items)
}

fn check_transfer(
    produced: Vec<Result<(), String>>,
    consumed: Vec<Result<u64, String>>,
    items: u64,
) -> Result<(), String> {
    produced.into_iter().collect::<Result<(), String>>()?;
    let got: u64 = consumed.into_iter().sum::<Result<u64, String>>()?;
    if got == items {
        Ok(())
    } else {
        Err(format!("{got} of {items} items arrived"))
    }
}

/// Workload 7: `times` uncontended acquire + release.
pub(crate) fn lock_uncontended(name: &str, times: u32) -> Side<'static> {
    let lock = Lock::new();
    Side::new(name, move || {
        for _ in 0..times {
            drop(black_box(lock.lock()));
        }
        Ok(())
    })
}

/// Workload 7: two workers, each acquiring and releasing one lock `times / 2`
/// times once both are up: the longer of their loops, as on Python's side,
/// so that starting them is not in the figure.
pub(crate) fn lock_contended(name: &str, times: u32) -> Side<'static> {
    Side::measured(name, move || {
        let lock = Lock::new();
        let gate = Barrier::new(2).map_err(why)?;
        let workers = (0..2)
            .map(|_| start(Worker::new(hammer, (lock.clone(), gate.clone(), times / 2))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut took = Duration::ZERO;
        for worker in workers {
            took = took.max(join_within(worker)??);
        }
        Ok(took)
    })
}

/// Workload 8: `times` round trips of `set` → wake → `set` back between two
/// workers, timed after a first round trip that waits for the worker to start.
pub(crate) fn event_ping_pong(name: &str, times: u32) -> Side<'static> {
    Side::measured(name, move || {
        let (ping, back) = (Event::new(), Event::new());
        let worker = start(Worker::new(pong, (ping.clone(), back.clone(), times + 1)))?;
        let mut began = Instant::now();
        for round in 0..=times {
            if round == 1 {
                began = Instant::now();
            }
            ping.set();
            if !back.wait_timeout(DEADLINE) {
                return Err(format!("no wake-up within {DEADLINE:?}"));
            }
            back.clear();
        }
        let took = began.elapsed();
        join_within(worker)?;
        Ok(took)
    })
}

/// Workload 8: `times` rounds of a `Barrier(2)` between this worker and
/// another, timed after a first round that waits for the worker to start.
pub(crate) fn barrier(name: &str, times: u32) -> Side<'static> {
    Side::measured(name, move || {
        let b = Barrier::new(2).map_err(why)?;
        let worker = start(Worker::new(meet, (b.clone(), times + 1)))?;
        b.wait_timeout(DEADLINE).map_err(why)?;
        let began = Instant::now();
        for _ in 0..times {
            b.wait_timeout(DEADLINE).map_err(why)?;
        }
        let took = began.elapsed();
        join_within(worker)??;
        Ok(took)
    })
}

/// Workload 9: `times` pools of `size` built, closed and joined.
pub(crate) fn pool_create(name: &str, size: usize, times: u32) -> Side<'static> {
    Side::new(name, move || {
        for _ in 0..times {
            let pool = WorkerPool::new(size).map_err(why)?;
            pool.close();
            pool.join().map_err(why)?;
        }
        Ok(())
    })
}
