#!/usr/bin/env bash
# The POSIX mode (`--cfg freethreading_posix`, what macOS uses) against the
# Linux-native mode, in one run (issue 12):
#
# 1. the apply round trip and the uncontended Lock rows of the suite, from a
#    build of each mode, alternated for three rounds (medians per round);
# 2. the system calls of 100,000 rounds of uncontended Lock, RLock, Queue,
#    SimpleQueue, Event and Semaphore operations, counted by strace in each
#    mode (the library's ignored test `bench_uncontended_paths_make_no_system_call`).
#
#   bash benches/posix.sh
set -euo pipefail
cd "$(dirname "$0")/.."

posix_target="$PWD/target/posix"
posix_flags="--cfg freethreading_posix"

# The path of the executable cargo builds for `$@`, whose target is named `$1`.
executable() {
    local name=$1
    shift
    cargo "$@" --message-format=json 2>/dev/null | python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    message = json.loads(line)
    if message.get("executable") and message["target"]["name"] == name:
        print(message["executable"])' "$name" | tail -1
}

native_suite=$(executable suite bench -p freethreading-benches --bench suite --no-run)
posix_suite=$(RUSTFLAGS="$posix_flags" CARGO_TARGET_DIR="$posix_target" \
    executable suite bench -p freethreading-benches --bench suite --no-run)

echo "## apply round trip and uncontended Lock, processes: native, then POSIX mode, three rounds"
for round in 1 2 3; do
    for mode in native posix; do
        suite=native_suite
        [ "$mode" = posix ] && suite=posix_suite
        echo "round $round, $mode:"
        FT_BENCH_ONLY=apply,lock_uncontended FREETHREADING_BACKEND=multiprocessing \
            "${!suite}" --bench | grep -E '^\| (apply|Lock)' | grep freethreading || true
    done
done

if ! command -v strace >/dev/null 2>&1; then
    echo "strace is missing: no system-call count (apt-get install strace)"
    exit 0
fi
native_lib=$(executable freethreading test --release -p freethreading --lib --no-run)
posix_lib=$(RUSTFLAGS="$posix_flags" CARGO_TARGET_DIR="$posix_target" \
    executable freethreading test --release -p freethreading --lib --no-run)
test_name=shared::bench_tests::bench_uncontended_paths_make_no_system_call
for mode in native posix; do
    lib=native_lib
    [ "$mode" = posix ] && lib=posix_lib
    echo "## system calls of 100,000 rounds of uncontended operations, $mode"
    strace -f -c -e trace=futex,kill,getpid "${!lib}" --ignored --exact "$test_name" \
        --test-threads 1 2>&1 | grep -E "calls|futex|kill|getpid|total" || true
done
