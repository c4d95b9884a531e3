#!/usr/bin/env bash
# Packs what `benches/run.sh` needs to measure on a machine with neither a Rust
# toolchain nor a network (Linux x86_64, python3 on PATH): the suite's release
# binary, the script, the Python side and the pinned Python library.
#
#   benches/pack.sh [OUT]        build and pack (default target/ft-bench.tar.gz)
#
# On the other machine:
#
#   tar xzf ft-bench.tar.gz && cd ft-bench
#   FT_BENCH_SUITE=bin/suite benches/run.sh --passes 3    (FT_BENCH_ONLY=... as usual)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/ft-bench.tar.gz}")

binary=$(cargo bench -q -p freethreading-benches --bench suite --no-run --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    target = message.get("target") or {}
    if message.get("executable") and target.get("name") == "suite":
        print(message["executable"])
')
[[ -x $binary ]] || { echo "no suite binary built" >&2; exit 1; }

# The pinned library, installed as run.sh installs it.
python_library=$(sed -n 's/^python_library=//p' benches/run.sh)
site=target/bench-suite/python-site
if ! PYTHONPATH="$site" python3 -c 'import freethreading; freethreading.WorkerPool' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$site" "$python_library"
fi

stage=target/ft-bench-stage/ft-bench
rm -rf target/ft-bench-stage
mkdir -p "$stage/bin" "$stage/benches/python" "$stage/target/bench-suite"
cp "$binary" "$stage/bin/suite"
cp benches/run.sh "$stage/benches/"
cp benches/python/bench.py benches/python/report.py "$stage/benches/python/"
cp -r "$site" "$stage/target/bench-suite/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
tar czf "$out" -C target/ft-bench-stage ft-bench
rm -rf target/ft-bench-stage
echo "$out: $(du -h "$out" | cut -f1) (the suite binary $(du -h "$binary" | cut -f1))"
