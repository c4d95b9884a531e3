#!/usr/bin/env bash
# Primitives across MPI ranks (issue 15, milestone 3) against a bare
# MPI_Send/MPI_Recv ping-pong, in alternating rounds on this host (mpirun -n
# 2), medians printed as a table: one operation of a Lock, and of a Queue,
# from a task on worker rank 1, served by rank 0 (a request and its answer).
# Needs Open MPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
M=(mpirun --oversubscribe --bind-to none -n 2)
ROUNDS=${ROUNDS:-5}
cargo build -q --release -p freethreading-benches --features mpi --bin mpi_pingpong --bin mpi_primitives
bin=target/release
pingpong="" lock="" queue="" local=""
for ((round = 0; round < ROUNDS; round++)); do
    pingpong+=" $("${M[@]}" $bin/mpi_pingpong | awk '{print $2}')"
    read -r _ l _ q _ o < <(FREETHREADING_BACKEND=mpi "${M[@]}" $bin/mpi_primitives)
    lock+=" $l" queue+=" $q" local+=" $o"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "pingpong:$pingpong"
echo "lock:$lock"
echo "queue:$queue"
echo "local lock:$local"
p=$(echo "$pingpong" | median); l=$(echo "$lock" | median)
q=$(echo "$queue" | median); o=$(echo "$local" | median)
echo
echo "| measure (µs per operation) | freethreading mpi | bare ping-pong | ratio |"
echo "|---|---|---|---|"
echo "| Lock acquire or release from worker rank 1 | $l | $p | $(awk "BEGIN {printf \"%.1fx\", $l / $p}") |"
echo "| Queue put or get of a u64 from worker rank 1 | $q | $p | $(awk "BEGIN {printf \"%.1fx\", $q / $p}") |"
echo "| Lock acquire or release on rank 0 itself | $o | - | - |"
