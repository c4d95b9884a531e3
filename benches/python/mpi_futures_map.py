"""mpi4py.futures' side of benches/mpi.sh: a map of 100 000 tiny tasks on
the worker ranks of `mpirun -n 3 python -m mpi4py.futures mpi_futures_map.py
CHUNKSIZE`. Prints milliseconds per map."""

import sys
import time

from mpi4py.futures import MPIPoolExecutor


def tiny(x):
    return (x * 3) ^ 1


def main():
    chunksize = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    maps = 5 if chunksize > 1 else 1
    with MPIPoolExecutor() as executor:
        list(executor.map(tiny, range(1000), chunksize=chunksize))
        start = time.perf_counter()
        for _ in range(maps):
            out = list(executor.map(tiny, range(100_000), chunksize=chunksize))
            assert len(out) == 100_000
        print(f"mpi4py_map_ms {(time.perf_counter() - start) * 1e3 / maps:.2f}")


if __name__ == "__main__":
    main()
