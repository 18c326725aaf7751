#!/usr/bin/env bash
# Runs lab2-raft tests many times, each run its own process, several at once.
#
#   lab2-raft/stress.sh [-n RUNS] [-j PARALLEL] [-o LOGDIR] [FILTER...]
#
# FILTER is a substring of test names (e.g. 2b, backup_2b); default: all.
# Builds the test binaries once, then runs every selected test RUNS times,
# PARALLEL processes at a time, and prints a table of failures per test.
# The output of failing runs is kept in LOGDIR (default /tmp/lab2-raft-stress).
# Add --no-default-features via STRESS_FEATURES="--no-default-features" to
# stress the skeleton (a student's code) instead of the reference.
set -euo pipefail

runs=20
jobs=4
logdir=/tmp/lab2-raft-stress
while getopts "n:j:o:" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        j) jobs=$OPTARG ;;
        o) logdir=$OPTARG ;;
        *) echo "usage: $0 [-n RUNS] [-j PARALLEL] [-o LOGDIR] [FILTER...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
filters=("$@")

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$logdir"

# Build once; collect the test binaries cargo made.
mapfile -t binaries < <(cd "$here" && cargo test -p lab2-raft ${STRESS_FEATURES:-} --tests --no-run \
    --message-format=json 2>/dev/null |
    grep -o '"executable":"[^"]*/part_[a-z]-[^"]*"' | sed 's/"executable":"//; s/"$//' | sort -u)
if [ ${#binaries[@]} -eq 0 ]; then
    echo "stress: no test binaries were built (run cargo test -p lab2-raft --no-run to see why)" >&2
    exit 1
fi

# "binary test" pairs.
tasks=()
for bin in "${binaries[@]}"; do
    while read -r name; do
        [ -z "$name" ] && continue
        if [ ${#filters[@]} -gt 0 ]; then
            keep=0
            for f in "${filters[@]}"; do [[ $name == *"$f"* ]] && keep=1; done
            [ $keep -eq 0 ] && continue
        fi
        tasks+=("$bin $name")
    done < <("$bin" --list 2>/dev/null | sed -n 's/: test$//p')
done
if [ ${#tasks[@]} -eq 0 ]; then
    echo "stress: no test matches ${filters[*]}" >&2
    exit 1
fi

results="$logdir/results.txt"
: > "$results"
run_one() {
    local bin=$1 name=$2 i=$3 logdir=$4
    local log="$logdir/$name.$i.log"
    local start end
    start=$(date +%s.%N)
    if DISTLAB_LOG=${DISTLAB_LOG:-} "$bin" --exact "$name" --nocapture >"$log" 2>&1; then
        end=$(date +%s.%N)
        echo "$name pass $(echo "$end - $start" | bc)" >>"$logdir/results.txt"
        rm -f "$log"
    else
        end=$(date +%s.%N)
        echo "$name FAIL $(echo "$end - $start" | bc)" >>"$logdir/results.txt"
    fi
}
export -f run_one

for ((i = 0; i < runs; i++)); do
    for t in "${tasks[@]}"; do
        echo "$t $i"
    done
done | xargs -P "$jobs" -L 1 bash -c 'run_one "$0" "$1" "$2" '"$logdir"

echo
printf "%-34s %6s %6s %9s\n" test runs fails "mean s"
awk '{ n[$1]++; if ($2 == "FAIL") f[$1]++; t[$1] += $3 }
     END { for (k in n) printf "%-34s %6d %6d %9.1f\n", k, n[k], f[k] + 0, t[k] / n[k] }' "$results" | sort
fails=$(grep -c FAIL "$results" || true)
echo "total failures: $fails (logs of failing runs in $logdir)"
[ "$fails" -eq 0 ]
