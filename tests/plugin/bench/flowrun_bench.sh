#!/usr/bin/env bash
# Link throughput through flowrun with the DEFAULT connection config (what a new user
# gets), beside the round-trip bound and the official Node SDK, in one run:
#   1. an emulator with generated pairs (auth0|p<i> / auth0|s<i>) and a global latency;
#   2. the warm round trip (median of sequential GETs on one keep-alive connection);
#   3. `flowrun run` of a one-step flow (auth0.link-account, merge_metadata: true: two
#      GETs in parallel, PATCH, link = 3 round trips) over the pairs at --concurrency C,
#      wall time of the whole process (start, token, cold pool included);
#   4. the emulator reset, then node_sdk_link.mjs (npm auth0 v7) at the same concurrency.
# Prints links/s of both, the bound C / (3 RTT), and the two ratios. Builds nothing.
#   tests/plugin/bench/flowrun_bench.sh [--build DIR] [--pairs N] [--concurrency C] [--latency-ms MS]
# Defaults: build/release, 10000 pairs, concurrency 64, 20 ms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$root/build/release
pairs=10000 conc=64 latency=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2 ;;
    --pairs) pairs=$2 ;;
    --concurrency) conc=$2 ;;
    --latency-ms) latency=$2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "flowrun_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
flowrun=$build/engine_api/flowrun
emulator=$build/tests/emulator/auth0-emulator
plugin=$(find "$build/plugin" -name libauth0_actions.so -print -quit 2>/dev/null || true)
for f in "$flowrun" "$emulator" "$plugin"; do
  [[ -n $f && -x $f ]] || { echo "flowrun_bench.sh: not found: $f (build flowrun auth0_actions auth0-emulator)" >&2; exit 2; }
done
[[ -d $root/tests/node/node_modules/auth0 ]] || { echo "flowrun_bench.sh: tests/node/node_modules missing (scripts/bootstrap)" >&2; exit 2; }

out=$(mktemp -d)
emu_pid=
cleanup() { [[ -n $emu_pid ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT

coproc EMU { exec "$emulator" --seed "$root/manifests/emulator/demo.seed.json" --generate-users "$pairs" --port 0 --exit-on-stdin-eof; }
emu_pid=$EMU_PID
read -r ready <&"${EMU[0]}"
base_url=$(node -e 'console.log(JSON.parse(process.argv[1]).base_url)' "$ready")
ca_file=$(node -e 'console.log(JSON.parse(process.argv[1]).ca_file)' "$ready")
domain=${base_url#https://}

# Global latency (kept across reset) and the warm round trip, measured as a client sees it.
rtt_ms=$(cd "$root/tests/node" && NODE_EXTRA_CA_CERTS=$ca_file node --input-type=module -e '
const [base, latency] = process.argv.slice(1);
const put = await fetch(`${base}/__emulator/latency`, { method: "PUT", body: JSON.stringify({ ms: Number(latency) }) });
if (!put.ok) throw new Error("latency: " + put.status);
const tok = await (await fetch(`${base}/oauth/token`, { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ grant_type: "client_credentials", client_id: "demo-link-client",
    client_secret: "demo-secret-not-a-real-secret", audience: `${base}/api/v2/` }) })).json();
const v = [];
for (let i = 0; i < 40; ++i) {
  const t = performance.now();
  const r = await fetch(`${base}/api/v2/users/auth0%7Cp0`, { headers: { authorization: `Bearer ${tok.access_token}` } });
  await r.arrayBuffer();
  if (i >= 10) v.push(performance.now() - t);
}
v.sort((a, b) => a - b);
console.log(v[v.length >> 1].toFixed(2));
' "$base_url" "$latency")

# One step: the link with merge. The plugin by absolute path; the connection config empty
# (defaults), filled from the environment as a user does.
cat > "$out/link.flow.json" <<EOF
{
  "name": "bench-link",
  "plugins": [{"id": "auth0", "path": "$plugin"}],
  "connections": {"tenant": {"plugin": "auth0", "config": {}}},
  "inputs": {"primary_user_id": {"type": "string"}, "secondary_user_id": {"type": "string"}},
  "steps": [{"id": "link", "action": "auth0.link-account", "connection": "tenant",
             "options": {"merge_metadata": true},
             "inputs": {"primary_user_id": "\${{ inputs.primary_user_id }}",
                        "secondary_user_id": "\${{ inputs.secondary_user_id }}"}}]
}
EOF
for ((i = 0; i < pairs; ++i)); do
  printf '{"primary_user_id":"auth0|p%d","secondary_user_id":"auth0|s%d"}\n' "$i" "$i"
done > "$out/pairs.jsonl"

load=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s.%N)
rc=0
AUTH0_DOMAIN=$domain AUTH0_CLIENT_ID=demo-link-client AUTH0_CLIENT_SECRET=demo-secret-not-a-real-secret \
  AUTH0_CA_FILE=$ca_file "$flowrun" run "$out/link.flow.json" --inputs-file "$out/pairs.jsonl" \
  --concurrency "$conc" --no-step-outputs --log-level error > "$out/rows.jsonl" || rc=$?
t1=$(date +%s.%N)
ok=$(grep -c '^{"row":[0-9]*,"status":"ok"' "$out/rows.jsonl" || true)
[[ $rc -eq 0 && $ok -eq $pairs ]] || { echo "flowrun_bench.sh: flowrun exit $rc, $ok of $pairs rows ok" >&2; head -3 "$out/rows.jsonl" >&2; exit 1; }

# The Node SDK on the same pairs (back to the seed), the latency already set globally.
curl -sf --cacert "$ca_file" -X POST "$base_url/__emulator/reset" > /dev/null
(cd "$root/tests/node" && NODE_EXTRA_CA_CERTS=$ca_file node "$here/node_sdk_link.mjs" --base-url "$base_url" \
  --pairs "$pairs" --concurrency "$conc" --latency-ms 0 --single 0 --json "$out/node.json") > /dev/null

node --input-type=module -e '
import { readFileSync } from "node:fs";
const [t0, t1, pairs, conc, rtt, latency, nodeFile, load] = process.argv.slice(1);
const seconds = Number(t1) - Number(t0);
const flow = Number(pairs) / seconds;
const bound = Number(conc) / (3 * Number(rtt) / 1000);
const node = JSON.parse(readFileSync(nodeFile, "utf8")).throughput[0].links_per_s;
console.log(`flowrun link with merge, default connection config, ${pairs} pairs, --concurrency ${conc}, latency ${latency} ms (load before: ${load})`);
console.log(`| measure | links/s |`);
console.log(`|---|---|`);
console.log(`| round-trip bound c / 3 RTT (RTT ${Number(rtt).toFixed(2)} ms) | ${bound.toFixed(0)} |`);
console.log(`| flowrun (whole process, ${seconds.toFixed(2)} s) | ${flow.toFixed(0)} (${(100 * flow / bound).toFixed(1)} % of the bound) |`);
console.log(`| Node SDK (npm auth0 v7) | ${node.toFixed(0)} (flowrun = ${(flow / node).toFixed(2)}x) |`);
' "$t0" "$t1" "$pairs" "$conc" "$rtt_ms" "$latency" "$out/node.json" "$load"
