#!/usr/bin/env bash
# Export benchmark (not a test): flowrun runs manifests/flows/dedup-export.flow.json
# (auth0.export-users) against an emulator holding 2*PAIRS generated users, and reports
# flowrun's wall time and peak RSS (it must stay small: the file is streamed to disk).
#   tests/plugin/actions/export_bench.sh [PAIRS] [BUILD_DIR]
# PAIRS defaults to 500000 (1,000,000 users). Needs the release build (auth0-emulator,
# flowrun, libauth0_actions.so).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
pairs=${1:-500000}
build=${2:-$root/build/release}
dir=$(mktemp -d)
emu_pid=
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkfifo "$dir/ready"
start=$(date +%s.%N)
"$build/tests/emulator/auth0-emulator" --seed "$root/manifests/emulator/demo.seed.json" --port 0 \
  --state-dir "$dir/emu" --generate-users "$pairs" > "$dir/ready" &
emu_pid=$!
read -r ready < "$dir/ready"
echo "emulator ready with $((2 * pairs + 2)) users after $(echo "$(date +%s.%N) - $start" | bc) s" >&2
port=$(sed -E 's/.*"port":([0-9]+).*/\1/' <<< "$ready")
ca=$(sed -E 's/.*"ca_file":"([^"]+)".*/\1/' <<< "$ready")
sed "s|\"path\": \"libauth0_actions.so\"|\"path\": \"$build/plugin/abi/libauth0_actions.so\"|" \
  "$root/manifests/flows/dedup-export.flow.json" > "$dir/flow.json"
# The emulator writes the whole file when the job completes, inside one GET: give that
# answer time (timeout_ms) on a large tenant.
sed -i 's|"config": {}|"config": {"timeout_ms": 120000}|' "$dir/flow.json"
AUTH0_DOMAIN="127.0.0.1:$port" AUTH0_CA_FILE="$ca" AUTH0_CLIENT_ID=demo-link-client \
  AUTH0_CLIENT_SECRET=demo-secret-not-a-real-secret \
  /usr/bin/time -f 'flowrun: %e s wall, %M KiB peak RSS' "$build/engine_api/flowrun" run "$dir/flow.json" \
  --input "output_file=$dir/users.ndjson.gz"
ls -l "$dir/users.ndjson.gz" >&2
