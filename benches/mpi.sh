#!/usr/bin/env bash
# The mpi backend against its comparisons (issue 15), in alternating rounds
# on this host, medians printed as a table:
#   - `apply` round trip to one worker rank (mpirun -n 2) against a bare
#     MPI_Send/MPI_Recv ping-pong of the same message sizes (mpi_pingpong);
#   - `map` of 100 000 tiny tasks on 3 ranks (2 workers) against
#     mpi4py.futures' MPIPoolExecutor.map on the same ranks, with its
#     default chunksize (1) and with ours (Python's: 100 000 / (4 x 2)).
# Needs Open MPI and `pip install mpi4py`.
#
#   benches/mpi.sh        all of the above, ranks on this host (shared memory)
#   benches/mpi.sh tcp    only apply against the ping-pong, run by $MPIRUN:
#                         `.ci/mpi-netns bench` runs it with ranks in two
#                         network namespaces, over TCP
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
M=("${MPIRUN:-mpirun}" --oversubscribe --bind-to none)
ROUNDS=${ROUNDS:-5}
cargo build -q --release -p freethreading-benches --features mpi --bin mpi_pingpong --bin mpi_apply
bin=$PWD/target/release
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Each round's apply over its ping-pong (means of each job's round trips, or
# with `_med` their medians), then their median.
ratios() {
    paste <(echo "${runs[apply${1:-}]}" | tr ' ' '\n' | grep .) \
        <(echo "${runs[pingpong${1:-}]}" | tr ' ' '\n' | grep .) |
        awk '{printf " %.2f", $1 / $2}'
}
# The median round trip of each job: a few round trips that lose the core
# for a time slice raise a job's mean, not its median.
medians() {
    echo "ping-pong, median round trip per round:${runs[pingpong_med]}"
    echo "apply, median round trip per round:${runs[apply_med]}"
    echo "apply / ping-pong by those medians:$(ratios _med); median $(ratios _med | median)"
}
declare -A runs
if [[ ${1:-} == tcp ]]; then
    # Not --oversubscribe: the hosts' slots suffice, and Open MPI would make
    # the bare ping-pong yield between polls (mpi_yield_when_idle).
    T=("${MPIRUN:-mpirun}" --bind-to none)
    for ((round = 0; round < ROUNDS; round++)); do
        out=$("${T[@]}" -n 2 "$bin/mpi_pingpong")
        runs[pingpong]+=" $(awk '{print $2}' <<<"$out")"; runs[pingpong_med]+=" $(awk '{print $4}' <<<"$out")"
        out=$(FREETHREADING_BACKEND=mpi "${T[@]}" -n 2 "$bin/mpi_apply" apply)
        runs[apply]+=" $(awk '{print $2}' <<<"$out")"; runs[apply_med]+=" $(awk '{print $4}' <<<"$out")"
    done
    echo "pingpong:${runs[pingpong]}"
    echo "apply:${runs[apply]}"
    echo "apply / ping-pong per round:$(ratios); median $(ratios | median)"
    medians
    p=$(echo "${runs[pingpong]}" | median); a=$(echo "${runs[apply]}" | median)
    echo
    echo "| measure | freethreading mpi | comparison | ratio |"
    echo "|---|---|---|---|"
    echo "| apply round trip over TCP, 1 worker rank on another host (µs) | $a | bare MPI_Send/MPI_Recv ping-pong, same path: $p | $(awk "BEGIN {printf \"%.2fx the ping-pong\", $a / $p}") |"
    exit 0
fi
for ((round = 0; round < ROUNDS; round++)); do
    out=$("${M[@]}" -n 2 "$bin/mpi_pingpong")
    runs[pingpong]+=" $(awk '{print $2}' <<<"$out")"; runs[pingpong_med]+=" $(awk '{print $4}' <<<"$out")"
    out=$(FREETHREADING_BACKEND=mpi "${M[@]}" -n 2 "$bin/mpi_apply" apply)
    runs[apply]+=" $(awk '{print $2}' <<<"$out")"; runs[apply_med]+=" $(awk '{print $4}' <<<"$out")"
    runs[map]+=" $(FREETHREADING_BACKEND=mpi "${M[@]}" -n 3 $bin/mpi_apply map | awk '{print $2}')"
    runs[mpi4py_chunked]+=" $("${M[@]}" -n 3 python3 -m mpi4py.futures benches/python/mpi_futures_map.py 12500 | awk '{print $2}')"
    if ((round < 3)); then
        runs[mpi4py_default]+=" $("${M[@]}" -n 3 python3 -m mpi4py.futures benches/python/mpi_futures_map.py 1 | awk '{print $2}')"
    fi
done
for key in pingpong apply map mpi4py_chunked mpi4py_default; do
    echo "$key:${runs[$key]}"
done
echo "apply / ping-pong per round:$(ratios); median $(ratios | median)"
medians
p=$(echo "${runs[pingpong]}" | median); a=$(echo "${runs[apply]}" | median)
m=$(echo "${runs[map]}" | median); c=$(echo "${runs[mpi4py_chunked]}" | median)
d=$(echo "${runs[mpi4py_default]}" | median)
echo
echo "| measure | freethreading mpi | comparison | ratio |"
echo "|---|---|---|---|"
echo "| apply round trip, 1 worker rank (µs) | $a | bare MPI_Send/MPI_Recv ping-pong: $p | $(awk "BEGIN {printf \"%.2fx the ping-pong\", $a / $p}") |"
echo "| map of 1e5 tiny tasks, 3 ranks (ms) | $m | mpi4py.futures, chunksize 12500: $c | $(awk "BEGIN {printf \"%.1fx faster\", $c / $m}") |"
echo "| map of 1e5 tiny tasks, 3 ranks (ms) | $m | mpi4py.futures, default chunksize 1: $d | $(awk "BEGIN {printf \"%.0fx faster\", $d / $m}") |"
