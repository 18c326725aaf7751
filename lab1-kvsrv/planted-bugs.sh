#!/usr/bin/env bash
# Plants known bugs in a scratch copy of the reference and shows which tests
# catch each one. The shipped reference is never modified.
#
#   dup-detection  the server applies every request it receives: no
#                  duplicate detection, so a retried put/append applies twice
#   table-growth   the server also files every reply it ever sent under
#                  (client, seq) and never frees any of them
#   lock-release   Lock::release clears whatever hold it finds, even one
#                  that is no longer its own (after a Maybe that did apply)
#
# Usage: lab1-kvsrv/planted-bugs.sh [-n RUNS] [-t FILTER] [BUG...]
#        (default: all bugs, 5 runs, every test; -t keeps tests whose name contains FILTER)
# Each test runs RUNS times per bug, each run in its own process with a fresh
# seed. Prints, per bug, how many runs of each test failed and why (the first
# failing run's message; its whole log is kept in PLANTED_LOG_DIR).
# Env: PLANTED_TARGET_DIR (default: $CARGO_TARGET_DIR/lab1-planted or target/lab1-planted)
#      PLANTED_LOG_DIR    (default: a fresh temporary directory)

set -euo pipefail

runs=5
filter=""
while getopts "n:t:" opt; do
    case "$opt" in
        n) runs="$OPTARG" ;;
        t) filter="$OPTARG" ;;
        *) sed -n '2,17p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
bugs=("$@")
[ "${#bugs[@]}" -gt 0 ] || bugs=(dup-detection table-growth lock-release)

crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$crate_dir/.." && pwd)"
crate="$(basename "$crate_dir")"
target="${PLANTED_TARGET_DIR:-${CARGO_TARGET_DIR:-$workspace/target}/lab1-planted}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
logs="${PLANTED_LOG_DIR:-$(mktemp -d -t lab1-planted-logs.XXXXXX)}"
mkdir -p "$logs"
echo "planted-bugs: logs of failing runs go to $logs"

# A one-crate workspace around a copy of the crate; path dependencies point
# back at the real workspace.
python3 - "$workspace/Cargo.toml" "$scratch/Cargo.toml" "$workspace" "$crate" <<'PY'
import re, sys
src, dst, root, crate = sys.argv[1:]
text = open(src).read()
text = re.sub(r'^members = \[.*?\]', f'members = ["{crate}"]', text, count=1, flags=re.M | re.S)
text = re.sub(r'path = "([^"/][^"]*)"', lambda m: f'path = "{root}/{m.group(1)}"', text)
open(dst, "w").write(text)
PY
cp "$workspace/Cargo.lock" "$scratch/Cargo.lock"

# plant BUG: copies the pristine crate and applies BUG's edit (each edit must
# match exactly once, so a changed reference cannot silently plant nothing).
plant() {
    rm -rf "${scratch:?}/$crate"
    mkdir -p "$scratch/$crate"
    cp -r "$crate_dir/Cargo.toml" "$crate_dir/grade.toml" "$crate_dir/src" "$crate_dir/tests" "$scratch/$crate/"
    python3 - "$scratch/$crate/src/reference" "$1" <<'PY'
import sys
ref, bug = sys.argv[1:]
edits = {
    "dup-detection": [("kv_server.rs",
        "    fn freshness(&self, tag: WriteTag) -> Freshness {\n",
        "    fn freshness(&self, tag: WriteTag) -> Freshness {\n        if tag.seq.0 > 0 {\n            return Freshness::New;\n        }\n")],
    "table-growth": [
        ("kv_server.rs", "    last_write: HashMap<ClientId, LastWrite>,\n}",
         "    last_write: HashMap<ClientId, LastWrite>,\n    every_reply: HashMap<(ClientId, Seq), String>,\n}"),
        ("kv_server.rs", "                last_write: HashMap::new(),\n",
         "                last_write: HashMap::new(),\n                every_reply: HashMap::new(),\n"),
        ("kv_server.rs", "                AppendReply { old }\n",
         "                state.every_reply.insert((args.tag.client, args.tag.seq), old.clone());\n                AppendReply { old }\n")],
    "lock-release": [("lock.rs",
        "            if holder != self.me {\n",
        "            if holder == FREE {\n")],
}
for name, old, new in edits[bug]:
    path = f"{ref}/{name}"
    text = open(path).read()
    if text.count(old) != 1:
        sys.exit(f"planted-bugs: the {bug} edit no longer matches {path}; update this script")
    open(path, "w").write(text.replace(old, new))
PY
}

for bug in "${bugs[@]}"; do
    plant "$bug"
    echo "== $bug: building"
    bins="$(cd "$scratch" && CARGO_TARGET_DIR="$target" cargo test -p "$crate" --no-run \
        --message-format=json 2>"$scratch/build.log" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
            and msg["target"]["name"].startswith("part_"):
        print(msg["executable"])
')" || { cat "$scratch/build.log" >&2; exit 1; }
    for bin in $bins; do
        for test in $("$bin" --list 2>/dev/null | sed -n 's/^\([A-Za-z0-9_]*\): test$/\1/p'); do
            [[ -z "$filter" || "$test" == *"$filter"* ]] || continue
            failed=0
            why=""
            for ((i = 1; i <= runs; i++)); do
                if ! timeout 600 "$bin" --exact "$test" --nocapture >"$scratch/run.log" 2>&1; then
                    failed=$((failed + 1))
                    if [ -z "$why" ]; then
                        cp "$scratch/run.log" "$logs/$bug-$test.log"
                        why="$(grep -m1 -o 'FAILED with seed [0-9]*: .*' "$scratch/run.log" | cut -c1-200 || true)"
                        why="${why:-see $logs/$bug-$test.log}"
                    fi
                fi
            done
            printf '%-14s %-46s %2d/%d failed  %s\n' "$bug" "$test" "$failed" "$runs" "$why"
        done
    done
done
