#!/usr/bin/env bash
# A clone needs nothing beside it: no tracked file may refer to the reading material
# that sat next to the checkout during development (the parent folder's "shared"
# directory). Its facts live in docs/, its recordings in tests/fixtures/recorded.
# Usage: standalone_check.sh SOURCE_DIR [FILE...]   (FILEs: check these instead, for the self-test)
set -euo pipefail
src=$1
shift
# Built from pieces so that this script does not match itself.
pattern='\.\.'"/shared\\b"
if [ $# -gt 0 ]; then
  files=("$@")
elif git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git -C "$src" ls-files -z | sed -z "s|^|$src/|")
else  # an exported tree (no .git): every file but build output and node_modules
  mapfile -d '' files < <(find "$src" \( -path "$src/build" -o -name node_modules -o -name .git \) -prune -o -type f -print0)
fi
if hits=$(grep -nIHE "$pattern" "${files[@]}" 2>/dev/null); then
  echo "FAIL: these lines refer to a folder outside the repository (use docs/ or tests/fixtures/):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "ok: ${#files[@]} files, none refers outside the repository"
