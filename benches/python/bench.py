"""The Python side of the suite (issue 5): the workloads of `benches/benches/suite/`
on the Python library `freethreading` (pip package `free-threading`), on plain
`multiprocessing` and on plain `threading`, in alternating rounds of one process.

On a GIL build of CPython, `freethreading` runs on multiprocessing with the
`forkserver` start method; plain `multiprocessing` uses the platform default
(`fork` on Linux). Figures go to stdout as a table and, when FT_BENCH_OUT names
a file, to it as JSON lines of the same shape as the Rust suite's, which
`report.py` joins. `--smoke` runs every workload once, small.

    python3 benches/python/bench.py [--smoke]
"""

import concurrent.futures
import json
import multiprocessing
import multiprocessing.pool
import os
import queue
import subprocess
import sys
import threading
import time

import freethreading

SMOKE = "--smoke" in sys.argv
GROUP = "python"


# Tasks: top level, so that worker processes can find them.
def noop():
    pass


def ident(x):
    return x


def square(x):
    return x * x


def spin(iters):
    x = iters | 1
    for _ in range(iters):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 29
    return x


def produce(q, items):
    for i in range(items):
        q.put(i)
    q.put(None)


def length(b):
    return len(b)


def echo(b):
    return b


def consume(q):
    while q.get() is not None:
        pass


def hammer(lock, gate, times, took):
    """Meets the other worker at `gate`, then times its own loop into `took`."""
    gate.wait()
    began = time.perf_counter()
    for _ in range(times):
        with lock:
            pass
    took.put(time.perf_counter() - began)


def pong(ping, back, times):
    for _ in range(times):
        ping.wait()
        ping.clear()
        back.set()


def meet(barrier, times):
    for _ in range(times):
        barrier.wait()


class Kit:
    """One implementation: how it makes workers, pools, executors and primitives."""

    def __init__(self, name, worker, pool, executor, queue_, simple_queue, lock, event, barrier):
        self.name = name
        self.worker = worker
        self.pool = pool
        self.executor = executor
        self.queue = queue_
        self.simple_queue = simple_queue
        self.lock = lock
        self.event = event
        self.barrier = barrier


def kits():
    ft = freethreading
    mp = multiprocessing
    backend = ft.get_backend()
    if backend == "multiprocessing":
        backend += ", " + ft._get_mp_context().get_start_method()
    return [
        Kit(
            f"Python freethreading ({backend})",
            lambda target, args=(): ft.Worker(target=target, args=args),
            ft.WorkerPool,
            lambda n: ft.WorkerPoolExecutor(max_workers=n),
            ft.Queue, ft.SimpleQueue, ft.Lock, ft.Event, ft.Barrier,
        ),
        Kit(
            f"Python multiprocessing ({mp.get_start_method()})",
            lambda target, args=(): mp.Process(target=target, args=args),
            mp.Pool,
            lambda n: concurrent.futures.ProcessPoolExecutor(max_workers=n),
            mp.Queue, mp.SimpleQueue, mp.Lock, mp.Event, mp.Barrier,
        ),
        Kit(
            "Python threading",
            lambda target, args=(): threading.Thread(target=target, args=args),
            multiprocessing.pool.ThreadPool,
            lambda n: concurrent.futures.ThreadPoolExecutor(max_workers=n),
            queue.Queue, queue.SimpleQueue, threading.Lock, threading.Event, threading.Barrier,
        ),
    ]


def pick(full, smoke):
    return smoke if SMOKE else full


def rounds(heavy):
    if SMOKE:
        return 0, 1
    return (1, 5) if heavy else (2, 11)


def figure(samples):
    samples = sorted(samples)
    return {"median": samples[len(samples) // 2], "min": samples[0], "max": samples[-1]}


def show(unit, value):
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "KiB":
        return f"{value / 1024:.1f} MiB"
    if value < 1e-6:
        return f"{value * 1e9:.0f} ns"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def emit(key, label, unit, side, fig=None, na=None):
    rec = {"group": GROUP, "key": key, "label": label, "side": side, "unit": unit}
    if os.environ.get("FT_BENCH_PASS", "").isdigit():  # which pass of `run.sh --passes N`
        rec["pass"] = int(os.environ["FT_BENCH_PASS"])
    if fig is None:
        rec["na"] = na
        shown = f"n/a ({na})"
    else:
        rec.update(fig)
        shown = f"{show(unit, fig['median'])} ({show(unit, fig['min'])}–{show(unit, fig['max'])})"
    print(f"| {label} | {side} | {shown} |", flush=True)
    out = os.environ.get("FT_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


def sample(sides, heavy, per_op):
    """Times every (name, fn) of `sides` in alternating rounds, order rotating."""
    warmup, measured = rounds(heavy)
    samples = {name: [] for name, _ in sides}
    failed = {}
    for r in range(warmup + measured):
        for turn in range(len(sides)):
            name, fn = sides[(turn + r) % len(sides)]
            if name in failed:
                continue
            start = time.perf_counter()
            try:
                measured = fn()
            except Exception as e:  # a side that fails has no figure; say why
                failed[name] = f"{type(e).__name__}: {e}"
                continue
            took = time.perf_counter() - start
            if isinstance(measured, float):  # a side that timed its own measured part
                took = measured
            if r >= warmup:
                samples[name].append(per_op(took))
    return [(name, None if name in failed else figure(samples[name]), failed.get(name)) for name, _ in sides]


def wanted(key):
    """Whether FT_BENCH_ONLY (when set, a comma-separated list of keys) keeps `key`."""
    only = os.environ.get("FT_BENCH_ONLY")
    return only is None or key in [k.strip() for k in only.split(",")]


def timed(key, label, ops, sides, heavy=False, also=None):
    """Times `sides` under `key`; with `also`, a (key, label) that the same
    figures stand for too (the Rust suite's `bytes::Bytes` rows, since a
    Python program passes `bytes` either way)."""
    keys = [(key, label)] + ([also] if also else [])
    keys = [(k, l) for k, l in keys if wanted(k)]
    if not keys:
        return
    for name, fig, na in sample(sides, heavy, lambda t: t / ops):
        for k, l in keys:
            emit(k, l, "s", name, fig, na)


def run_all(workers):
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def start_join(kit, times):
    def run():
        for _ in range(times):
            run_all([kit.worker(noop)])
    return run


def transfer(kit, make_queue, ends, items):
    def run():
        q = make_queue()
        consumers = [kit.worker(consume, (q,)) for _ in range(ends)]
        producers = [kit.worker(produce, (q, items // ends)) for _ in range(ends)]
        run_all(consumers + producers)
    return run


def ping_pong(kit, times):
    """Timed after a first round trip, which waits for the worker to start."""
    def run():
        ping, back = kit.event(), kit.event()
        w = kit.worker(pong, (ping, back, times + 1))
        w.start()
        began = time.perf_counter()
        for r in range(times + 1):
            if r == 1:
                began = time.perf_counter()
            ping.set()
            back.wait()
            back.clear()
        took = time.perf_counter() - began
        w.join()
        return took
    return run


def barrier_trips(kit, times):
    def run():
        b = kit.barrier(2)
        w = kit.worker(meet, (b, times + 1))
        w.start()
        b.wait()  # the worker is up
        began = time.perf_counter()
        for _ in range(times):
            b.wait()
        took = time.perf_counter() - began
        w.join()
        return took
    return run


def cpu_tasks():
    total = pick(2.0, 0.002)
    probe = 20_000
    start = time.perf_counter()
    spin(probe)
    per_iter = (time.perf_counter() - start) / probe
    return [max(1, int(total / 16 / per_iter))] * 16


def pool_pids(pool):
    inner = pool._pool  # a Pool's processes, or the Pool that freethreading's WorkerPool wraps
    procs = inner if isinstance(inner, list) else inner._pool
    return [p.pid for p in procs]


def proc_kib(pid, path, field):
    with open(f"/proc/{pid}/{path}", encoding="utf-8") as f:
        for line in f:
            if line.startswith(field):
                return float(line.split()[1])
    raise LookupError(f"no {field} in /proc/{pid}/{path}")


def measure_pool(kit, workers):
    """VmRSS and Pss (KiB) of the workers of an idle pool of `workers`."""
    pool = kit.pool(workers)
    try:
        pool.map(square, range(workers * 4), chunksize=1)  # every worker is up
        time.sleep(0.1)
        pids = pool_pids(pool)
        return (sum(proc_kib(p, "status", "VmRSS:") for p in pids),
                sum(proc_kib(p, "smaps_rollup", "Pss:") for p in pids))
    finally:
        pool.close()
        pool.join()


def memory(index):
    """RSS of 2, RSS per extra, PSS of 2, PSS per extra, of idle process pools.

    Each pool is made in a fresh interpreter (this script with `--memory-probe`):
    children forked from this process, which has run big maps by now, would
    inherit and dirty its heap and be measured several times too big."""
    def measure(workers):
        probe = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-probe",
                                str(index), str(workers)],
                               capture_output=True, text=True, check=True)
        return json.loads(probe.stdout.strip().splitlines()[-1])
    samples = [[], [], [], []]
    for _ in range(pick(3, 1)):
        two, four = measure(2), measure(4)
        samples[0].append(two[0])
        samples[1].append((four[0] - two[0]) / 2)
        samples[2].append(two[1])
        samples[3].append((four[1] - two[1]) / 2)
    return [figure(s) for s in samples]


def main():
    print("\n## Python, the library and its peers\n")
    print("| workload | implementation | median (min–max) |\n|---|---|---|")
    ks = kits()
    pools = {k.name: k.pool(2) for k in ks}
    exes = {k.name: k.executor(2) for k in ks}

    n = pick(10, 1)
    timed("start_join", "worker start + trivial task + join", n,
          [(k.name, start_join(k, n)) for k in ks])
    n = pick(200, 2)
    timed("apply", "apply round trip, warm pool of 2", n,
          [(k.name, lambda p=pools[k.name]: [p.apply(ident, (i,)) for i in range(n)]) for k in ks])
    small, big = pick(10_000, 100), pick(1_000_000, 1_000)
    for key, items, chunksize, heavy in (("map_10k", small, None, False), ("map_1m", big, None, True),
                                         ("map_10k_chunksize_1", small, 1, True)):
        label = (f"map of {items} tiny tasks, default chunking" if chunksize is None
                 else f"map of {items} tiny tasks, chunksize = {chunksize}")
        timed(key, label, 1, [(k.name, lambda p=pools[k.name]: p.map(square, range(items), chunksize))
                              for k in ks], heavy)

    tasks = cpu_tasks()
    label = f"map of {len(tasks)} CPU-bound tasks: speedup over serial"
    sides = [("serial loop", lambda: [spin(t) for t in tasks])]
    sides += [(k.name, lambda p=pools[k.name]: p.map(spin, tasks, 1)) for k in ks]
    results = sample(sides, True, lambda t: t) if wanted("cpu_speedup") else []
    serial = results[0][1] if results else None
    for name, fig, na in results[1:]:
        if fig is None or serial is None:
            emit("cpu_speedup", label, "x", name, None, na or "the serial loop failed")
        else:
            emit("cpu_speedup", label, "x", name, {
                "median": serial["median"] / fig["median"],
                "min": serial["median"] / fig["max"],
                "max": serial["median"] / fig["min"]})

    n = pick(200, 2)
    timed("submit", "executor submit + result round trip", n,
          [(k.name, lambda e=exes[k.name]: [e.submit(ident, i).result() for i in range(n)]) for k in ks])
    timed("executor_map", f"executor map of {small} tiny tasks", 1,
          [(k.name, lambda e=exes[k.name]: list(e.map(square, range(small)))) for k in ks], True)
    # Big payloads, on the process pools only: a thread pool copies nothing.
    for mib, calls in ((1, 32), (16, 4), (64, 1)):
        payload = bytes(pick(mib << 20, 1 << 19))  # smoke: small, still over the threshold
        calls = pick(calls, 1)
        timed(f"apply_bytes_{mib}m", f"apply of a {mib} MiB Vec<u8> returning its length", calls,
              [(k.name, lambda p=pools[k.name]: [p.apply(length, (payload,)) for _ in range(calls)])
               for k in ks[:2]],
              also=(f"apply_shared_{mib}m", f"apply of a {mib} MiB bytes::Bytes returning its length"))
        timed(f"echo_bytes_{mib}m", f"apply of a {mib} MiB Vec<u8> echoed back", calls,
              [(k.name, lambda p=pools[k.name]: [p.apply(echo, (payload,)) for _ in range(calls)])
               for k in ks[:2]],
              also=(f"echo_shared_{mib}m", f"apply of a {mib} MiB bytes::Bytes echoed back"))
    for p in pools.values():
        p.close()
        p.join()
    for e in exes.values():
        e.shutdown()

    items = pick(20_000, 100)
    for ends in (1, 2):
        timed(f"queue_{ends}", f"Queue throughput {ends}→{ends}, per item", items,
              [(k.name, transfer(k, k.queue, ends, items)) for k in ks])
        timed(f"simple_queue_{ends}", f"SimpleQueue throughput {ends}→{ends}, per item", items,
              [(k.name, transfer(k, k.simple_queue, ends, items)) for k in ks])
    n = pick(100_000, 10)
    locks = {k.name: k.lock() for k in ks}

    def uncontended(lock):
        for _ in range(n):
            with lock:
                pass
    timed("lock_uncontended", "Lock acquire + release, uncontended", n,
          [(k.name, lambda lk=locks[k.name]: uncontended(lk)) for k in ks])
    n = pick(10_000, 10)

    def contended(kit):
        """The longer of the two workers' loops, each timed once both are up."""
        lock, gate, took = kit.lock(), kit.barrier(2), kit.queue()
        workers = [kit.worker(hammer, (lock, gate, n // 2, took)) for _ in range(2)]
        for w in workers:
            w.start()
        longest = max(took.get(), took.get())
        for w in workers:
            w.join()
        return longest
    timed("lock_contended", "Lock acquire + release, 2 workers contending", n,
          [(k.name, lambda k=k: contended(k)) for k in ks])
    n = pick(500, 5)
    timed("event_ping_pong", "Event set → wake → set back, per round trip", n,
          [(k.name, ping_pong(k, n)) for k in ks])
    timed("barrier", "Barrier(2) round trip", n, [(k.name, barrier_trips(k, n)) for k in ks])

    n = pick(3, 1)

    def create(kit):
        for _ in range(n):
            p = kit.pool(2)
            p.close()
            p.join()
    timed("pool_create", "pool of 2: create + shut down", n, [(k.name, lambda k=k: create(k)) for k in ks])

    labels = [
        ("memory_rss_2", "idle pool of 2 processes: VmRSS of the workers"),
        ("memory_rss_extra", "VmRSS per extra worker ((pool of 4 − pool of 2) / 2)"),
        ("memory_pss_2", "idle pool of 2 processes: Pss of the workers"),
        ("memory_pss_extra", "Pss per extra worker ((pool of 4 − pool of 2) / 2)"),
    ]
    for i, k in enumerate(ks[:2] if wanted("memory_rss_2") else []):  # a thread pool has no workers
        try:
            figs = memory(i)
        except Exception as e:
            figs = [None] * 4
            reason = f"{type(e).__name__}: {e}"
        for (key, label), fig in zip(labels, figs):
            emit(key, label, "KiB", k.name, fig, None if fig else reason)


if __name__ == "__main__":
    if "--memory-probe" in sys.argv:
        at = sys.argv.index("--memory-probe")
        kit_index, workers = int(sys.argv[at + 1]), int(sys.argv[at + 2])
        print(json.dumps(measure_pool(kits()[kit_index], workers)))
    else:
        main()
