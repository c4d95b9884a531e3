#!/usr/bin/env bash
# The side-by-side suite of issue 5 in one command: our thread backend and its
# Rust peers, our process backend and its Rust peers, then the Python library
# with plain multiprocessing and threading; then one table of every figure
# with its ratio to ours. Each Rust group alternates its sides round by round
# in one process; the Python group runs right after, in the same driver run.
#
#   benches/run.sh               measure, 3 passes (each pass runs every group:
#                                Rust threads, Rust processes, Python), so that
#                                the joined table shows each figure's and each
#                                ratio's spread across passes minutes apart
#   benches/run.sh --passes N    as many passes
#   benches/run.sh --smoke       every workload once, small, one pass (CI runs this)
#   FT_BENCH_ONLY=key,key ...    only those workloads, on every side
#   FT_BENCH_SUITE=path ...      run this prebuilt suite binary (release) rather
#                                than cargo: no toolchain, no sources, no network
#                                needed (benches/pack.sh builds it and packs it
#                                with this script, the Python side and the pinned
#                                Python library)
#
# The figures are kept in target/bench-suite/: results.jsonl and table.md.
set -euo pipefail
suite_bin=${FT_BENCH_SUITE:+$(realpath "$FT_BENCH_SUITE")}
cd "$(dirname "$0")/.."

smoke=()
passes=3
while [[ $# -gt 0 ]]; do
    case "$1" in
        --smoke) smoke=(--smoke); passes=1 ;;
        --passes) passes="$2"; shift ;;
        *) echo "usage: benches/run.sh [--smoke] [--passes N]" >&2; exit 2 ;;
    esac
    shift
done
dir=target/bench-suite
mkdir -p "$dir"
results="$dir/results.jsonl"
: >"$results"
export FT_BENCH_OUT="$PWD/$results"

echo "# freethreading benchmark suite${smoke:+ (smoke)}"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "- ${suite_bin:+prebuilt suite $suite_bin, }$(rustc --version 2>/dev/null || echo 'no rustc');" \
    "$(python3 --version 2>&1 || echo 'no python3')"

# Python: the library itself (pip package `free-threading`, import name
# `freethreading`), at a pinned version, installed into a private directory
# rather than the machine's interpreter. Imported from there alone: run from
# the repository's root, a bare `import freethreading` would find this crate's
# folder as a namespace package.
python_library=free-threading==1.2.0
python_dir="$dir/python-site"
python_ok=true
if ! command -v python3 >/dev/null; then
    echo "Python side skipped: no python3 on PATH"
    python_ok=false
elif ! PYTHONPATH="$python_dir" python3 -c 'import freethreading; freethreading.WorkerPool' 2>/dev/null; then
    if ! python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$python_dir" "$python_library"; then
        echo "Python side skipped: pip install $python_library failed"
        python_ok=false
    fi
fi
export PYTHONPATH="$PWD/$python_dir"

# Each pass runs every group: the Rust suite once per backend (smoke runs
# reuse the debug build of `cargo test --benches`; measuring builds the bench
# profile, release), then the Python side. Ratios against Python so come from
# groups run minutes apart; the passes show how much that moves them.
for pass in $(seq 1 "$passes"); do
    export FT_BENCH_PASS=$pass
    echo
    echo "# Pass $pass of $passes"
    for backend in threading multiprocessing; do
        if [[ -n $suite_bin ]]; then
            FREETHREADING_BACKEND=$backend "$suite_bin" --bench "${smoke[@]}"
        elif [[ ${#smoke[@]} -gt 0 ]]; then
            FREETHREADING_BACKEND=$backend cargo test -q -p freethreading-benches --bench suite -- --smoke
        else
            FREETHREADING_BACKEND=$backend cargo bench -q -p freethreading-benches --bench suite
        fi
    done
    if $python_ok; then
        python3 benches/python/bench.py "${smoke[@]}"
    fi
done

echo
echo "## All sides, joined"
echo
if command -v python3 >/dev/null; then
    python3 benches/python/report.py "$results" | tee "$dir/table.md"
else
    echo "(the joined table needs python3; the Rust tables above stand alone)"
fi
