#!/usr/bin/env bash
# The ABI guard of wfa.h (docs/abi.md, "The ABI guard"): the probe (probe.c, the plugin
# entry) is compiled with debug info against a wfa.h, described by libabigail's abidw,
# and compared by abidiff with the committed baseline (wfa.abi). Growing a struct at its
# end is accepted (abi_compare.py decides); any other change fails.
#   abi_check.sh check   INCLUDE_DIR WORK             the header against the baseline
#   abi_check.sh fixture INCLUDE_DIR WORK SED pass|fail  the header edited by SED must pass/fail
#   abi_check.sh update  INCLUDE_DIR                  rewrite wfa.abi (after a deliberate change)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v abidw >/dev/null && command -v abidiff >/dev/null ||
  fail "abidw/abidiff not found: install Debian's abigail-tools (scripts/bootstrap does)"
cc=${CC:-cc}

# describe INCLUDE_DIR OUT.abi: compile the probe against INCLUDE_DIR/wfa/wfa.h and abidw it.
describe() {
  local inc=$1 out=$2 so
  so=$(mktemp -d)/probe.so
  # From the probe's folder, with a relative name: the description holds no local path.
  (cd "$here" && "$cc" -g -O0 -std=c99 -shared -fPIC -I"$inc" probe.c -o "$so")
  abidw --no-corpus-path --no-show-locs --no-comp-dir-path "$so" >"$out"
  rm -rf "$(dirname "$so")"
}

# compare NEW.abi: 0 when compatible with the baseline. abidiff reports every change
# (an append included); abi_compare.py decides whether the changes are appends only.
# On a break, both reports are printed.
compare() {
  local rc=0
  abidiff --no-show-locs "$here/wfa.abi" "$1" >"$1.diff" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] && return 0
  [ $((rc & 3)) -eq 0 ] || { cat "$1.diff"; fail "abidiff could not compare (exit status $rc)"; }
  if ! python3 "$here/abi_compare.py" "$here/wfa.abi" "$1"; then
    echo "--- abidiff (exit status $rc: 4 = ABI change, 8 = incompatible change):"
    cat "$1.diff"
    return 1
  fi
  echo "abidiff reports changes (exit status $rc); all are appends at the end of extensible structs"
}

mode=$1
case $mode in
check)
  inc=$2 work=$3
  mkdir -p "$work"
  describe "$inc" "$work/current.abi"
  compare "$work/current.abi" || fail "wfa.h breaks the ABI of the baseline tests/abi/wfa.abi (docs/abi.md: append only)"
  echo "ok: wfa.h is compatible with the baseline"
  ;;
fixture)
  inc=$2 work=$3 script=$4 expect=$5
  rm -rf "$work" && mkdir -p "$work/include/wfa"
  sed -f "$script" "$inc/wfa/wfa.h" >"$work/include/wfa/wfa.h"
  # A fixture that no longer applies to the header would prove nothing.
  if cmp -s "$inc/wfa/wfa.h" "$work/include/wfa/wfa.h"; then fail "$(basename "$script") changed nothing in wfa.h"; fi
  describe "$work/include" "$work/edited.abi"
  if compare "$work/edited.abi"; then got=pass; else got=fail; fi
  [ "$got" = "$expect" ] || fail "$(basename "$script"): expected the check to $expect, it did $got"
  echo "ok: $(basename "$script") makes the check $got, as it should"
  ;;
update)
  inc=$2
  describe "$inc" "$here/wfa.abi"
  echo "wrote $here/wfa.abi"
  ;;
*) fail "unknown mode $mode" ;;
esac
