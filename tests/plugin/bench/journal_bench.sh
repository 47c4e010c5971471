#!/usr/bin/env bash
# flowrun over a large inputs file with --journal (issue 13: "flowrun over a 1,000,000-row
# inputs file in bounded memory"). Not a test: about 5 min for 1,000,000 rows here.
#   tests/plugin/bench/journal_bench.sh [--rows N] [--pairs P] [--concurrency C] [--build DIR]
# Defaults: 1000000 rows, a tenant of 10000 generated pairs, concurrency 16, build/release.
#
# The flow is manifests/flows/link-pairs.flow.json run as a review (--input dry_run=true:
# both GETs and the merge, no write), so every row makes two real Management API requests
# to the emulator and a row's inputs, result line and journal record are the real ones.
# The only change: an extra flow input `n` (the row number, used by no step), so that N
# rows over P pairs are N distinct journal keys (a journal keys a row by its inputs).
# Measured, each with /usr/bin/time (wall, peak RSS of flowrun):
#   1. the run, journaled;
#   2. the same command again: every row is in the journal, so it reads the N rows back
#      (16 bytes each), streams the inputs, skips them all and runs nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$root/build/release
rows=1000000 pairs=10000 conc=16
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2 ;;
    --rows) rows=$2 ;;
    --pairs) pairs=$2 ;;
    --concurrency) conc=$2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "journal_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
flowrun=$build/engine_api/flowrun
emulator=$build/tests/emulator/auth0-emulator
plugin=$build/plugin/abi/libauth0_actions.so
for f in "$flowrun" "$emulator" "$plugin"; do
  [[ -e $f ]] || { echo "journal_bench.sh: not found: $f (build flowrun auth0_actions auth0-emulator)" >&2; exit 2; }
done

dir=$(mktemp -d)
emu_pid=
cleanup() { [[ -n $emu_pid ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkfifo "$dir/ready"
"$emulator" --seed "$root/manifests/emulator/demo.seed.json" --port 0 --state-dir "$dir/emu" \
  --generate-users "$pairs" > "$dir/ready" &
emu_pid=$!
read -r ready < "$dir/ready"
port=$(sed -E 's/.*"port":([0-9]+).*/\1/' <<< "$ready")
ca=$(sed -E 's/.*"ca_file":"([^"]+)".*/\1/' <<< "$ready")

python3 - "$root/manifests/flows/link-pairs.flow.json" "$plugin" > "$dir/flow.json" <<'EOF'
import json, sys
flow = json.load(open(sys.argv[1]))
flow["plugins"][0]["path"] = sys.argv[2]
flow["inputs"]["n"] = {"type": "integer", "description": "the row number (makes each row's journal key distinct)"}
json.dump(flow, sys.stdout)
EOF
awk -v n="$rows" -v p="$pairs" 'BEGIN { for (i = 0; i < n; ++i)
  printf "{\"primary_user_id\":\"auth0|p%d\",\"secondary_user_id\":\"auth0|s%d\",\"n\":%d}\n", i % p, i % p, i }' \
  > "$dir/rows.jsonl"
echo "$rows rows ($(du -h "$dir/rows.jsonl" | cut -f1)) over $pairs pairs, --concurrency $conc, load $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # run LABEL: the journaled command under /usr/bin/time; prints wall and peak RSS
  local rc=0
  AUTH0_DOMAIN="127.0.0.1:$port" AUTH0_CA_FILE="$ca" AUTH0_CLIENT_ID=demo-link-client \
    AUTH0_CLIENT_SECRET=demo-secret-not-a-real-secret \
    /usr/bin/time -f '%e %M' -o "$dir/time" "$flowrun" run "$dir/flow.json" --inputs-file "$dir/rows.jsonl" \
    --input dry_run=true --journal "$dir/journal" --concurrency "$conc" --no-step-outputs --log-level error \
    --progress-interval 60 > "$dir/out.jsonl" 2> "$dir/err" || rc=$?
  read -r wall rss < "$dir/time"
  local ok
  ok=$(grep -c '"status":"ok"' "$dir/out.jsonl" || true)
  printf '%s: exit %d, %d rows ok, %s s wall, %.0f rows/s, peak RSS %.1f MiB, journal %s lines (%s)\n' \
    "$1" "$rc" "$ok" "$wall" "$(echo "$ok / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
    "$(($(wc -l < "$dir/journal") - 1))" "$(du -h "$dir/journal" | cut -f1)"
  grep '"summary"' "$dir/err" || true
  [[ $rc -eq 0 ]] || { tail -5 "$dir/err" >&2; head -3 "$dir/out.jsonl" >&2; exit 1; }
}
run "run, journaled"
run "the same command again (all rows in the journal)"
