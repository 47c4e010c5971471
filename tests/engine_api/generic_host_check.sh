#!/usr/bin/env bash
# engine_api/ is a generic host (issue 10 item 3): the ABI, the host library and flowrun
# know no Auth0 name. What a plugin needs (its secrets, its environment variables) comes
# from its manifests ("x-secret", "x-env"). The README may show the project's own plugin
# as an example; code and headers may not.
# Usage: generic_host_check.sh DIR_OR_FILE...   (a planted file: the self-test)
set -euo pipefail
# Auth0's name, its credential and API names, its AUTH0_* variables (case-insensitive).
pattern='auth0|client_secret|management[ _-]?api|idp_token'
files=()
for p in "$@"; do
  if [ -d "$p" ]; then
    # node_modules: the npm packages installed into engine_api/bindings/node (not ours).
    mapfile -d '' -O "${#files[@]}" files < <(find "$p" -type f ! -name README.md ! -path '*/node_modules/*' -print0)
  else
    files+=("$p")
  fi
done
if hits=$(grep -nIHiE "$pattern" "${files[@]}"); then
  echo "FAIL: an Auth0 name in the generic host (take it from the manifests, or move it to the plugin):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "ok: ${#files[@]} files, no Auth0 name"
