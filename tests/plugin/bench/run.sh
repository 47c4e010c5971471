#!/usr/bin/env bash
# Link benchmark: the plugin (plugin_link_bench, which spawns its own emulator) and the
# official Node SDK (node_sdk_link.mjs, against an emulator started here) on the same
# generated pairs with the same latency rule; prints one side-by-side table.
# Builds nothing. Usage:
#   tests/plugin/bench/run.sh [--build DIR] [--bench EXE] [--emulator EXE] [--plugin SO]
#                             [--pairs N] [--pairs-c1 N] [--concurrency 1,8,64]
#                             [--latency-ms MS] [--single N] [--mem-links N] [--rate-seconds S]
#                             [--out DIR (keeps plugin.json / node.json there)]
# Defaults: binaries from build/release, 1000 pairs (at every concurrency), 20 ms,
# 20 single links, 10000 links for memory, 20 s rate-limit window.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$root/build/release
bench= emulator= plugin= keep=
pairs=1000 pairs_c1=1000 conc=1,8,64 latency=20 single=20 mem=10000 rate=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2 ;;
    --bench) bench=$2 ;;
    --emulator) emulator=$2 ;;
    --plugin) plugin=$2 ;;
    --pairs) pairs=$2 ;;
    --pairs-c1) pairs_c1=$2 ;;
    --concurrency) conc=$2 ;;
    --latency-ms) latency=$2 ;;
    --single) single=$2 ;;
    --mem-links) mem=$2 ;;
    --rate-seconds) rate=$2 ;;
    --out) keep=$2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
bench=${bench:-$build/tests/plugin/bench/plugin_link_bench}
emulator=${emulator:-$build/tests/emulator/auth0-emulator}
plugin=${plugin:-$(find "$build/plugin" -name libauth0_actions.so -print -quit 2>/dev/null || true)}
for f in "$bench" "$emulator" "$plugin"; do
  [[ -x $f || -f $f ]] || { echo "run.sh: not found: $f (build it, or pass --build/--bench/--emulator/--plugin)" >&2; exit 2; }
done
[[ -d $root/tests/node/node_modules/auth0 ]] || { echo "run.sh: tests/node/node_modules missing (scripts/bootstrap)" >&2; exit 2; }

out=$(mktemp -d)
emu_pid=
cleanup() { [[ -n $emu_pid ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT

echo "== plugin (plugin_link_bench)" >&2
"$bench" --plugin "$plugin" --emulator "$emulator" --pairs "$pairs" --pairs-c1 "$pairs_c1" \
  --concurrency "$conc" --latency-ms "$latency" --single "$single" --mem-links "$mem" \
  --rate-seconds "$rate" --json "$out/plugin.json" >&2

echo "== Node SDK (node_sdk_link.mjs)" >&2
# Its own emulator; --exit-on-stdin-eof ties it to this script (the coprocess pipe).
coproc EMU { exec "$emulator" --seed "$root/manifests/emulator/demo.seed.json" --generate-users "$pairs" --port 0 --exit-on-stdin-eof; }
emu_pid=$EMU_PID
read -r ready <&"${EMU[0]}"
base_url=$(node -e 'console.log(JSON.parse(process.argv[1]).base_url)' "$ready")
ca_file=$(node -e 'console.log(JSON.parse(process.argv[1]).ca_file)' "$ready")
(cd "$root/tests/node" && NODE_EXTRA_CA_CERTS=$ca_file node "$here/node_sdk_link.mjs" --base-url "$base_url" \
  --pairs "$pairs" --pairs-c1 "$pairs_c1" --concurrency "$conc" --latency-ms "$latency" --single "$single" \
  --emulator-pid "$emu_pid" --json "$out/node.json") >&2
kill "$emu_pid" 2>/dev/null || true
wait "$emu_pid" 2>/dev/null || true
emu_pid=

node "$here/report.mjs" "$out/plugin.json" "$out/node.json"
if [[ -n $keep ]]; then mkdir -p "$keep" && cp "$out/plugin.json" "$out/node.json" "$keep/"; fi
