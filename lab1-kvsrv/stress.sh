#!/usr/bin/env bash
# Runs every lab 1 test many times, several at once, each run in its own
# process (`BIN --exact NAME`, as the grader does), and counts failures.
# A stopgap until `grader stress` exists.
#
# Usage: lab1-kvsrv/stress.sh [-n RUNS] [-j PARALLEL] [-o OUTDIR] [-f] [FILTER]
#   -n RUNS      runs per test (default 100)
#   -j PARALLEL  runs at once (default 3)
#   -o OUTDIR    where logs go (default: a fresh temporary directory); the log
#                of every failing run is kept as OUTDIR/fail-TEST-RUN.log
#   -f           --no-default-features: stress the skeleton / a student's code
#   FILTER       only tests whose name contains FILTER (e.g. a_ or b_lock)
# Every run gets a fresh seed; a failing run's log names its seed and the
# command that reruns it. Exit status: 0 if no run failed, 1 otherwise.

set -euo pipefail

runs=100
parallel=3
out=""
features=()
while getopts "n:j:o:f" opt; do
    case "$opt" in
        n) runs="$OPTARG" ;;
        j) parallel="$OPTARG" ;;
        o) out="$OPTARG" ;;
        f) features=(--no-default-features) ;;
        *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
filter="${1:-}"

crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(basename "$crate_dir")"
out="${out:-$(mktemp -d -t "${crate}-stress.XXXXXX")}"
mkdir -p "$out"

# Build once; collect the part_* test binaries.
(cd "$crate_dir" && cargo test -p "$crate" "${features[@]}" --no-run --message-format=json 2>"$out/build.log") |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
            and "test" in msg["target"]["kind"] and msg["target"]["name"].startswith("part_"):
        print(msg["executable"])
' >"$out/binaries"
[ -s "$out/binaries" ] || { cat "$out/build.log" >&2; echo "stress: no test binaries built" >&2; exit 1; }

# One job per (binary, test, run).
: >"$out/jobs"
while read -r bin; do
    "$bin" --list 2>/dev/null | sed -n 's/^\([A-Za-z0-9_]*\): test$/\1/p' | while read -r test; do
        [[ -z "$filter" || "$test" == *"$filter"* ]] || continue
        for ((i = 1; i <= runs; i++)); do
            echo "$bin $test $i" >>"$out/jobs"
        done
    done
done <"$out/binaries"
total=$(wc -l <"$out/jobs")
[ "$total" -gt 0 ] || { echo "stress: no test matches ${filter:-anything}" >&2; exit 1; }
echo "stress: $total runs ($runs per test), $parallel at once; logs in $out"

# Each job appends "TEST RUN STATUS SECONDS" to results; a failing run keeps its log.
export out
run_one() {
    local bin="$1" test="$2" i="$3" log start rc
    log="$out/run-$test-$i.log"
    start=$(date +%s%N)
    set +e
    DISTLAB_REPORT="$out/report.jsonl" timeout 600 "$bin" --exact "$test" --nocapture >"$log" 2>&1
    rc=$?
    set -e
    local ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$rc" -eq 0 ]; then
        echo "$test $i ok $ms" >>"$out/results"
        rm -f "$log"
    else
        echo "$test $i FAIL $ms" >>"$out/results"
        mv "$log" "$out/fail-$test-$i.log"
        echo "stress: FAIL $test run $i (exit $rc): $out/fail-$test-$i.log" >&2
    fi
}
export -f run_one
: >"$out/results"
xargs -P "$parallel" -L 1 bash -c 'run_one "$@"' _ <"$out/jobs"

echo
printf "%-46s %6s %6s %8s %8s\n" test runs fails "mean s" "max s"
awk '
    { runs[$1]++; ms = $4; total[$1] += ms; if (ms > max[$1]) max[$1] = ms
      if ($3 != "ok") fails[$1]++ }
    END {
        for (t in runs) printf "%-46s %6d %6d %8.2f %8.2f\n", t, runs[t], fails[t] + 0, total[t] / runs[t] / 1000, max[t] / 1000
    }
' "$out/results" | sort
failed=$(grep -c ' FAIL ' "$out/results" || true)
echo "stress: $failed of $total runs failed; logs of failures in $out"
[ "$failed" -eq 0 ]
