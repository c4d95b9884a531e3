//! The DSL macros, documented where they are re-exported: `parallel_map!`,
//! `spawn!`, `submit!`. Each expands to calls of the public API; the tables
//! below say which.

/// Maps a task over items on a pool, in order: `parallel_map!(task, items)`.
///
/// The result is `Result<Vec<Output>, PoolError>`, with one output per item in
/// the items' order, like Python's `pool.map(task, items)`.
///
/// ```
/// use freethreading::{parallel_map, worker_fn};
///
/// #[worker_fn]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let squares = parallel_map!(square, 0..5)?;
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// let squares = parallel_map!(square, vec![3, 4], workers = 2, chunksize = 1)?;
/// assert_eq!(squares, [9, 16]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
///
/// # Syntax
///
/// `parallel_map!(task, items, option = value, ...)`, where
///
/// - `task` is a [`#[worker_fn]`](crate::worker_fn) (or any expression whose
///   type is a [`Task`](crate::Task)), or an inline closure (below);
/// - `items` is any [`IntoIterator`] of the task's argument type, or, for a
///   task of several parameters, of tuples of its arguments;
/// - the options, in any order, each at most once, are:
///   - `workers = n`: run on a new pool of `n` workers, made for this call and
///     dropped after it; without it, on a pool shared by every call, started
///     at the first one with one worker per core, and never shut down;
///   - `chunksize = c`: send the items to the workers `c` at a time (see
///     [`WorkerPool::map_chunked`](crate::WorkerPool::map_chunked));
///   - `crate = path`: the path of this crate when it is renamed, as in
///     `#[worker_fn(crate = path)]`; `crate = ::ft` for
///     `extern crate freethreading as ft`.
///
/// | call | does |
/// |---|---|
/// | `parallel_map!(task, items)` | `pool.map(task, items)` on the shared pool |
/// | `parallel_map!(task, items, chunksize = c)` | `pool.map_chunked(task, items, c)` |
/// | `parallel_map!(task, items, workers = n)` | `WorkerPool::new(n)`, then `.map(task, items)` on it |
/// | `parallel_map!(add, pairs)`, `add` a `#[worker_fn]` of two parameters | `pool.starmap(add, pairs)` (`starmap_chunked` with `chunksize`) |
/// | `parallel_map!(\|a: A, b: B\| .., pairs)` | `pool.starmap(task, pairs)` (`starmap_chunked` with `chunksize`) |
///
/// A task of several parameters, named or inline, maps over tuples of its
/// arguments, as [`WorkerPool::starmap`](crate::WorkerPool::starmap) does:
///
/// ```
/// use freethreading::{parallel_map, worker_fn};
///
/// #[worker_fn]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// assert_eq!(parallel_map!(add, vec![(1, 2), (3, 4)])?, [3, 7]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
///
/// # Inline closures
///
/// A closure is a task of its own, registered under a name made from the
/// module and the place of the call (`my_crate::stats::{closure@12:17#9a8b7c6d}`),
/// which a worker process, running this same binary, finds it by. So that it
/// stands alone, it must not capture anything (it may call functions and use
/// constants), and each parameter must have a type written out. It takes one
/// parameter per item, or several (up to six) for items that are tuples.
///
/// ```
/// use freethreading::parallel_map;
///
/// let cubes = parallel_map!(|x: u64| x * x * x, 0..4)?;
/// assert_eq!(cubes, [0, 1, 8, 27]);
/// let products = parallel_map!(|a: i32, b: i32| a * b, vec![(1, 2), (3, 4)])?;
/// assert_eq!(products, [2, 12]);
/// # Ok::<(), freethreading::PoolError>(())
/// ```
///
/// A closure that captures a variable is a compile error, which names the
/// variable: `closures can only be coerced to fn types if they do not capture
/// any variables`. Pass the value as part of the items instead, or make it a
/// `const`.
///
/// ```compile_fail,E0435
/// let offset = 10;
/// let shifted = freethreading::parallel_map!(|x: u64| x + offset, 0..4);
/// ```
///
/// A parameter without a type is an error that asks for it:
///
/// ```compile_fail
/// let doubled = freethreading::parallel_map!(|x| x * 2, 0..4u64);
/// ```
///
/// # Errors
///
/// [`PoolError`](crate::PoolError) when a task panicked (the first failure in
/// the items' order; see [`PoolError::panic_message`](crate::PoolError::panic_message)),
/// for `workers = 0` or `chunksize = 0`, and when the pool's workers could
/// not start.
pub use freethreading_macros::parallel_map;

/// Starts a worker running a call of a task:
/// `spawn!(countdown(3), name = "Worker-0", daemon = true)`.
///
/// The result is `Result<Worker<R>, WorkerError>`: the started
/// [`Worker`](crate::Worker), to [`join`](crate::Worker::join) for the task's
/// result.
///
/// ```
/// use freethreading::{spawn, worker_fn};
///
/// #[worker_fn]
/// fn countdown(n: u32) -> String {
///     let steps: Vec<String> = (1..=n).rev().map(|i| i.to_string()).collect();
///     format!("{}, go!", steps.join(", "))
/// }
///
/// let worker = spawn!(countdown(3), name = "Worker-0")?;
/// assert_eq!(worker.name(), "Worker-0");
/// assert_eq!(worker.join()?, "3, 2, 1, go!");
/// # Ok::<(), freethreading::WorkerError>(())
/// ```
///
/// # Syntax
///
/// `spawn!(task(args...), option = value, ...)`: the first argument is written
/// as a call of a [`#[worker_fn]`](crate::worker_fn), by name or path, with
/// its arguments (`greet()` for none). The options, each at most once, are
/// `name = ...` (anything [`Worker::with_name`](crate::Worker::with_name)
/// takes), `daemon = bool` and `crate = path` (see
/// [`parallel_map!`](crate::parallel_map)).
///
/// `spawn!(countdown(3), name = "W", daemon = true)` does
///
/// ```ignore
/// let worker = Worker::new(countdown, (3,)).with_name("W").with_daemon(true);
/// worker.start().map(|()| worker)
/// ```
///
/// A function without `#[worker_fn]` is a compile error that says to add it:
///
/// ```compile_fail,E0277
/// fn countdown(n: u32) {}
/// let worker = freethreading::spawn!(countdown(3));
/// ```
///
/// # Errors
///
/// The [`WorkerError`](crate::WorkerError) of [`Worker::start`](crate::Worker::start).
pub use freethreading_macros::spawn;

/// Submits a call of a task to an executor: `submit!(executor, add(2, 3))`.
///
/// The result is `Result<TaskFuture<R>, ExecutorError>`, as from
/// [`WorkerPoolExecutor::submit`](crate::WorkerPoolExecutor::submit), which
/// `submit!(executor, add(2, 3))` calls as `executor.submit(add, (2, 3))`:
/// the call reads as in Python's `executor.submit(add, 2, 3)`.
///
/// ```
/// use freethreading::{WorkerPoolExecutor, submit, worker_fn};
///
/// #[worker_fn]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
///
/// let executor = WorkerPoolExecutor::new(2)?;
/// let future = submit!(executor, add(2, 3))?;
/// assert_eq!(future.result()?, 5);
/// # Ok::<(), freethreading::ExecutorError>(())
/// ```
///
/// # Syntax
///
/// `submit!(executor, task(args...), crate = path)`: the executor is any
/// expression with a `submit` method (a `WorkerPoolExecutor`, a reference to
/// one); the task is written as a call, as in [`spawn!`](crate::spawn); the
/// only option is `crate = path` (see [`parallel_map!`](crate::parallel_map)).
///
/// # Errors
///
/// The [`ExecutorError`](crate::ExecutorError) of
/// [`WorkerPoolExecutor::submit`](crate::WorkerPoolExecutor::submit).
pub use freethreading_macros::submit;
