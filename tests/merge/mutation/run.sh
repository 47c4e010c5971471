#!/usr/bin/env bash
# Mutation check: builds the property and hand-written tests against each broken copy of
# merge/src made by mutate.py and prints, per mutant, which test cases failed (base must
# print none): invariants by number, "depth", "json_equal agrees", then "hand:" and the
# hand-written cases (their names up to the first colon or comma).
# Usage: tests/merge/mutation/run.sh [work dir, default /tmp/a0-merge-mutation] [mutant...]
# A0_PROPERTY_SEED (default 1), A0_PROPERTY_ITERATIONS (default 1000) and A0_JOBS apply.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/a0-merge-mutation}
shift || true
export A0_PROPERTY_SEED=${A0_PROPERTY_SEED:-1}
export A0_PROPERTY_ITERATIONS=${A0_PROPERTY_ITERATIONS:-1000}
rm -rf "$work/mutants"
python3 "$here/mutate.py" "$work/mutants" "$@" >/dev/null
cmake -S "$here" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DMUTANTS_DIR="$work/mutants" >/dev/null
for dir in "$work"/mutants/*; do
  m=$(basename "$dir")
  cmake --build "$work/build" -j "${A0_JOBS:-1}" --target "props_$m" >/dev/null
  # doctest names the file and line of a failing case on the line before "TEST CASE:".
  failed=$("$work/build/props_$m" 2>&1 | awk '
    /^[^ ].*\.cpp:[0-9]+:$/ { hand = $0 ~ /hand_tests\.cpp/ }
    /^TEST CASE: +/ {
      name = $0; sub(/^TEST CASE: +/, "", name)
      if (hand) { sub(/[:,].*/, "", name); print "2 hand: " name }
      else if (match(name, /^invariant [0-9]+/)) print "1 " substr(name, 11, RLENGTH - 10)
      else if (match(name, /^(depth|json_equal agrees)/)) print "1 " substr(name, 1, RLENGTH)
      else print "1 " name
    }' | sort -u -V | cut -d" " -f2- | paste -sd';' - | sed 's/;/; /g') || true
  echo "$m: ${failed:-(none failed)}"
done
