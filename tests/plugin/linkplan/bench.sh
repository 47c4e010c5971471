#!/usr/bin/env bash
# Planner benchmark: time and peak memory of `linkplan` over a generated export.
#   tests/plugin/linkplan/bench.sh [PEOPLE] [BUILD_DIR]
# PEOPLE defaults to 400000 (about 1,000,000 accounts: 1-4 accounts a person); the export
# is gzipped as Auth0 delivers it. Needs the release build (linkplan, linkplan_gen).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
people=${1:-400000}
build=${2:-$root/build/release}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/tests/plugin/linkplan/linkplan_gen" --people "$people" --seed 1 | gzip -1 > "$dir/users.ndjson.gz"
/usr/bin/time -f '%e s wall, %M KiB peak RSS' "$build/plugin/linkplan/linkplan" "$dir/users.ndjson.gz" \
  --policy oldest --out "$dir/pairs.jsonl" --refused "$dir/refused.jsonl" --summary
