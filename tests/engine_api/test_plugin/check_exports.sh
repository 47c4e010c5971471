#!/bin/sh
# Usage: check_exports.sh LIBRARY.so
# Passes when the library's dynamic symbol table defines exactly one symbol,
# wfa_plugin_entry (nm -D --defined-only), and fails listing the others.
set -eu
lib=$1
[ -f "$lib" ] || { echo "no such file: $lib" >&2; exit 1; }
symbols=$(nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u)
if [ "$symbols" != "wfa_plugin_entry" ]; then
  echo "$lib must export only wfa_plugin_entry; it exports:" >&2
  echo "$symbols" >&2
  exit 1
fi
echo "$lib exports only wfa_plugin_entry"
