#!/usr/bin/env bash
# The mpi backend against its comparisons (issue 15), in alternating rounds
# on this host, medians printed as a table:
#   - `apply` round trip to one worker rank (mpirun -n 2) against a bare
#     MPI_Send/MPI_Recv ping-pong of the same message sizes (mpi_pingpong);
#   - `map` of 100 000 tiny tasks on 3 ranks (2 workers) against
#     mpi4py.futures' MPIPoolExecutor.map on the same ranks, with its
#     default chunksize (1) and with ours (Python's: 100 000 / (4 x 2)).
# Needs Open MPI and `pip install mpi4py`.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
M=(mpirun --oversubscribe --bind-to none)
ROUNDS=${ROUNDS:-5}
cargo build -q --release -p freethreading-benches --features mpi --bin mpi_pingpong --bin mpi_apply
bin=target/release
declare -A runs
for ((round = 0; round < ROUNDS; round++)); do
    runs[pingpong]+=" $("${M[@]}" -n 2 $bin/mpi_pingpong | awk '{print $2}')"
    runs[apply]+=" $(FREETHREADING_BACKEND=mpi "${M[@]}" -n 2 $bin/mpi_apply apply | awk '{print $2}')"
    runs[map]+=" $(FREETHREADING_BACKEND=mpi "${M[@]}" -n 3 $bin/mpi_apply map | awk '{print $2}')"
    runs[mpi4py_chunked]+=" $("${M[@]}" -n 3 python3 -m mpi4py.futures benches/python/mpi_futures_map.py 12500 | awk '{print $2}')"
    if ((round < 3)); then
        runs[mpi4py_default]+=" $("${M[@]}" -n 3 python3 -m mpi4py.futures benches/python/mpi_futures_map.py 1 | awk '{print $2}')"
    fi
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for key in pingpong apply map mpi4py_chunked mpi4py_default; do
    echo "$key:${runs[$key]}"
done
p=$(echo "${runs[pingpong]}" | median); a=$(echo "${runs[apply]}" | median)
m=$(echo "${runs[map]}" | median); c=$(echo "${runs[mpi4py_chunked]}" | median)
d=$(echo "${runs[mpi4py_default]}" | median)
echo
echo "| measure | freethreading mpi | comparison | ratio |"
echo "|---|---|---|---|"
echo "| apply round trip, 1 worker rank (µs) | $a | bare MPI_Send/MPI_Recv ping-pong: $p | $(awk "BEGIN {printf \"%.1fx slower\", $a / $p}") |"
echo "| map of 1e5 tiny tasks, 3 ranks (ms) | $m | mpi4py.futures, chunksize 12500: $c | $(awk "BEGIN {printf \"%.1fx faster\", $c / $m}") |"
echo "| map of 1e5 tiny tasks, 3 ranks (ms) | $m | mpi4py.futures, default chunksize 1: $d | $(awk "BEGIN {printf \"%.0fx faster\", $d / $m}") |"
