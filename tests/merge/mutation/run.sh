#!/usr/bin/env bash
# Mutation check: builds the property tests against each broken copy of merge/src made by
# mutate.py and prints, per mutant, which test cases failed (base must print none).
# Usage: tests/merge/mutation/run.sh [work dir, default /tmp/a0-merge-mutation]
# A0_PROPERTY_SEED (default 1) and A0_PROPERTY_ITERATIONS (default 1000) apply.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/a0-merge-mutation}
export A0_PROPERTY_SEED=${A0_PROPERTY_SEED:-1}
export A0_PROPERTY_ITERATIONS=${A0_PROPERTY_ITERATIONS:-1000}
rm -rf "$work/mutants"
python3 "$here/mutate.py" "$work/mutants" >/dev/null
cmake -S "$here" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DMUTANTS_DIR="$work/mutants" >/dev/null
for dir in "$work"/mutants/*; do
  m=$(basename "$dir")
  cmake --build "$work/build" -j "${A0_JOBS:-1}" --target "props_$m" >/dev/null
  failed=$("$work/build/props_$m" 2>&1 |
    sed -nE 's/.*FATAL ERROR: (invariant [0-9]+|json_equal agrees).* violated.*/\1/p; s/^TEST CASE: +//p' |
    sed -E 's/^(invariant [0-9]+|json_equal agrees|depth).*/\1/' | sort -u -V | paste -sd, -) || true
  echo "$m: ${failed:-(none failed)}"
done
