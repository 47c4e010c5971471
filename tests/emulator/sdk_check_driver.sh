#!/usr/bin/env bash
# CTest driver: start the auth0-emulator on the demo seed, run the official Node SDK
# check against it (tests/node/sdk_check.mjs), stop the emulator.
# usage: sdk_check_driver.sh EMULATOR SEED NODE_DIR
set -euo pipefail
emulator=$1 seed=$2 node_dir=$3
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$emulator" --seed "$seed" --port 0 --state-dir "$work" >"$work/ready" 2>"$work/stderr" &
pid=$!
for _ in $(seq 300); do
  [ -s "$work/ready" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/ready")
[ -n "$port" ] || { echo "no ready line" >&2; exit 1; }
cd "$node_dir"
NODE_EXTRA_CA_CERTS="$work/ca.pem" node sdk_check.mjs "$port"
