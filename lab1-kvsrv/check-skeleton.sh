#!/usr/bin/env bash
# Checks what a student receives for lab 1:
#
#  1. the skeleton (`--no-default-features`) builds with zero warnings, tests
#     included;
#  2. the handout transform (reference blocks and src/reference/ removed, the
#     `#[cfg(not(feature = "reference"))]` lines dropped) builds with zero
#     warnings too;
#  3. every lab test, run alone in its own process as the grader runs it,
#     fails quickly (under PER_TEST_SECS) with a todo!() message: no test
#     passes against the skeleton, and none hangs.
#
# Usage: lab1-kvsrv/check-skeleton.sh            (from anywhere)
# Env:   SKELETON_TARGET_DIR  where to build (default: $CARGO_TARGET_DIR/lab1-skeleton,
#                             or target/lab1-skeleton); separate from the
#                             reference build so neither rebuilds the other
#        PER_TEST_SECS        how long one failing test may take (default 30)
# Exit:  0 if all three hold, 1 otherwise (the reason is printed).

set -euo pipefail

crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$crate_dir/.." && pwd)"
crate="$(basename "$crate_dir")"
target="${SKELETON_TARGET_DIR:-${CARGO_TARGET_DIR:-$workspace/target}/lab1-skeleton}"
per_test="${PER_TEST_SECS:-30}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
    echo "check-skeleton: FAIL: $*" >&2
    exit 1
}

# Builds in $1 (a workspace) with extra cargo args; fails on any warning.
build_warning_free() {
    local dir="$1" what="$2"
    shift 2
    local log="$work/build-$what.log"
    if ! (cd "$dir" && CARGO_TARGET_DIR="$target" cargo test -p "$crate" --no-run "$@") >"$log" 2>&1; then
        cat "$log" >&2
        fail "$what does not build (log above)"
    fi
    if grep -q '^warning' "$log"; then
        grep -A8 '^warning' "$log" >&2
        fail "$what builds with warnings (above); it must build warning-free"
    fi
    echo "check-skeleton: $what builds warning-free"
}

# --- 1. the skeleton in place -------------------------------------------------
# (cargo replays a cached build's warnings, so a warm build is still checked)
build_warning_free "$workspace" "skeleton (--no-default-features)" --no-default-features

# --- 2. the handout transform ---------------------------------------------------
# A copy of the crate with the reference removed, in a one-crate workspace
# whose path dependencies point back at this workspace.
handout="$work/handout"
mkdir -p "$handout"
cp -r "$crate_dir" "$handout/$crate"
rm -rf "$handout/$crate/src/reference" "$handout/$crate/target"
while IFS= read -r -d '' file; do
    awk '
        /^[[:space:]]*(\/\/|#) distlab:reference-begin[[:space:]]*$/ { skip = 1; next }
        /^[[:space:]]*(\/\/|#) distlab:reference-end[[:space:]]*$/   { skip = 0; next }
        skip { next }
        /^[[:space:]]*#\[cfg\(not\(feature = "reference"\)\)\][[:space:]]*$/ { next }
        { print }
    ' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
done < <(find "$handout/$crate" \( -name '*.rs' -o -name 'Cargo.toml' \) -print0)
if grep -rn --include='*.rs' --include=Cargo.toml 'feature = "reference"\|distlab:reference' "$handout/$crate" >&2; then
    fail "the handout transform left reference code behind (lines above)"
fi
python3 - "$workspace/Cargo.toml" "$handout/Cargo.toml" "$workspace" "$crate" <<'PY'
import re, sys
src, dst, root, crate = sys.argv[1:]
text = open(src).read()
text = re.sub(r'^members = \[.*?\]', f'members = ["{crate}"]', text, count=1, flags=re.M | re.S)
text = re.sub(r'path = "([^"/][^"]*)"', lambda m: f'path = "{root}/{m.group(1)}"', text)
open(dst, "w").write(text)
PY
cp "$workspace/Cargo.lock" "$handout/Cargo.lock"
build_warning_free "$handout" "handout transform"

# --- 3. every lab test fails fast ------------------------------------------------
bins="$(cd "$workspace" && CARGO_TARGET_DIR="$target" cargo test -p "$crate" --no-default-features \
    --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
            and "test" in msg["target"]["kind"]:
        print(msg["target"]["name"], msg["executable"])
')"
[ -n "$bins" ] || fail "found no test binaries"

checked=0
while read -r name bin; do
    while read -r test; do
        [ -n "$test" ] || continue
        log="$work/$test.log"
        start=$(date +%s%N)
        set +e
        timeout "$per_test" "$bin" --exact "$test" --nocapture >"$log" 2>&1
        rc=$?
        set -e
        ms=$((($(date +%s%N) - start) / 1000000))
        if [ "$rc" -eq 124 ]; then
            tail -20 "$log" >&2
            fail "$name::$test did not finish within $per_test s against the skeleton; it must fail fast"
        fi
        if [ "$rc" -eq 0 ]; then
            tail -20 "$log" >&2
            fail "$name::$test PASSED against the skeleton; a test must fail until the student writes code"
        fi
        grep -q 'not yet implemented' "$log" ||
            { tail -20 "$log" >&2; fail "$name::$test failed without a todo!() message (log above)"; }
        printf 'check-skeleton: %-46s fails in %6d ms with a todo!() message\n' "$test" "$ms"
        checked=$((checked + 1))
    done < <("$bin" --list 2>/dev/null | sed -n 's/^\([ab]_[A-Za-z0-9_]*\): test$/\1/p')
done <<<"$(echo "$bins" | grep -E '^part_')"

[ "$checked" -gt 0 ] || fail "no lab tests were found in the part_* binaries"
echo "check-skeleton: OK: $checked lab tests fail fast against the skeleton"
