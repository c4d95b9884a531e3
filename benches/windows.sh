#!/usr/bin/env bash
# The process backend on Windows against its bare floors (issue 11), under
# Wine, so as ratios only:
#
# 1. and 2. the `windows` bench: Worker start + join against a bare Command
#    re-spawn of the same binary, and the apply round trip against a bare
#    pipe round trip, in alternating rounds (medians);
# 3. the Windows API calls of 100,000 uncontended Lock acquire + release
#    pairs, counted in Wine's relay log (WINEDEBUG=+relay logs every call
#    into a Wine DLL, which is where every system call goes) between two
#    markers the loop's thread logs (the markers' own calls are what an empty
#    loop shows, and are subtracted); yield_now is the control that shows a
#    call per turn is seen.
#
#   bash benches/windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/wine/env
.ci/wine/shim.sh >/dev/null
target=(--target x86_64-pc-windows-gnu)
cargo bench "${target[@]}" -p freethreading-benches --bench windows
exe=$(cargo bench "${target[@]}" -p freethreading-benches --bench windows --no-run \
    --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("executable") and message["target"]["name"] == "windows":
        print(message["executable"])' | tail -1)

# Calls into Wine's DLLs that the thread running the loop `$1` (lock, empty
# or yield) of `$2` turns made inside it, between its two markers.
calls() {
    FT_BENCH_WINDOWS_LOOP="$1:$2" WINEDEBUG=+relay .ci/wine/run "$exe" 2>&1 >/dev/null | awk '
        !tid && /:Call .*L"FT_BENCH_WINDOWS_LOOP_BEGIN"/ { tid = substr($0, 1, 4); next }
        tid && substr($0, 1, 4) == tid && /L"FT_BENCH_WINDOWS_LOOP_END"/ { done = 1; exit }
        tid && substr($0, 1, 4) == tid && /:Call / { n++ }
        END { if (done) print n + 0; else print "no markers" }'
}

n=100000
empty=$(calls empty "$n")
echo
echo "| loop of $n turns (Wine relay log) | calls between the markers | beyond the empty loop's, per turn |"
echo "|---|---|---|"
for loop in lock empty yield; do
    inside=$(calls "$loop" "$n")
    per=$(python3 -c "print(f'{($inside - $empty) / $n:.5f}')" 2>/dev/null || echo "?")
    echo "| $loop | $inside | $per |"
done
