#!/bin/sh
# Fails unless the plugin exports exactly wfa_plugin_entry and no STB_GNU_UNIQUE symbol.
set -eu
so="$1"
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
if [ "$exports" != "wfa_plugin_entry" ]; then
  echo "unexpected exports in $so:"; echo "$exports"; exit 1
fi
if readelf --dyn-syms -W "$so" | grep -q UNIQUE; then
  echo "STB_GNU_UNIQUE symbols in $so"; exit 1
fi
if ! readelf -d "$so" | grep -q 'libssl.so.3'; then
  echo "$so does not link the system libssl.so.3 dynamically"; exit 1
fi
echo "ok: only wfa_plugin_entry exported"
