#!/usr/bin/env bash
# scripts/bootstrap as a non-root user without sudo, on stubs (nothing is installed):
# it must name the missing Debian packages and the command that installs them, and fail;
# python3 is asked for only when none is on PATH.
# Usage: bootstrap_test.sh PATH/TO/scripts/bootstrap
set -euo pipefail
bootstrap=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A PATH of stubs and the few real tools the script uses; no sudo, node, npm or python3.
bin="$work/bin"
mkdir -p "$bin"
for tool in bash env dirname grep mktemp rm mkdir cp; do ln -s "$(command -v "$tool")" "$bin/$tool"; done
stub() { printf '#!%s\n%s\n' "$(command -v bash)" "$2" >"$bin/$1"; chmod +x "$bin/$1"; }
stub id 'echo 1000'
stub dpkg-query 'exit 1'              # nothing installed
stub apt-get 'exit 100'               # no package lists, nothing to download

run() {  # run NAME: bootstrap from a copy of the tree, output in $work/NAME.out
  local tree="$work/$1"
  mkdir -p "$tree/scripts"
  cp "$bootstrap" "$tree/scripts/bootstrap"
  set +e
  PATH="$bin" "$bin/bash" "$tree/scripts/bootstrap" >"$work/$1.out" 2>&1
  echo $? >"$work/$1.rc"
  set -e
}

run packages
out=$(cat "$work/packages.out")
[ "$(cat "$work/packages.rc")" -ne 0 ] || fail "exit status 0 without sudo; output: $out"
for p in build-essential libboost-json1.81-dev libbenchmark-dev nodejs npm python3; do
  grep -q "missing Debian packages:.* $p\b" <<<" $out" || fail "missing package $p not named: $out"
done
grep -q "apt-get install -y --no-install-recommends .*build-essential" <<<"$out" || fail "no install command: $out"
grep -q "sudo: command not found\|No such file" <<<"$out" && fail "sudo was called: $out"

# With a python3 on PATH, python3 is not asked for.
stub python3 'exit 0'
run with_python
grep -q "python3" "$work/with_python.out" && fail "python3 asked for although on PATH: $(cat "$work/with_python.out")"

# Every package installed, but no valijson headers and no package lists: apt-get update
# would need root.
stub dpkg-query "echo 'install ok installed'"
run valijson
out=$(cat "$work/valijson.out")
[ "$(cat "$work/valijson.rc")" -ne 0 ] || fail "exit status 0 without sudo; output: $out"
grep -q "no sudo; as root, run: apt-get update" <<<"$out" || fail "no message naming apt-get update: $out"
echo "bootstrap without sudo: 3 passed, 0 failed"
