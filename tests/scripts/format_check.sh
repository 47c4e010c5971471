#!/usr/bin/env bash
# Fails, naming the files, when a C or C++ file is not formatted as .clang-format says.
#   format_check.sh ROOT             every tracked .c .h .cpp .hpp file of the repository
#   format_check.sh ROOT FILE...     those files only (the test of this check uses it)
set -euo pipefail
root=$1; shift
cd "$root"
command -v clang-format >/dev/null || { echo "format_check: clang-format is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
[ -f .clang-format ] || { echo "format_check: no .clang-format in $root" >&2; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
  [ ${#files[@]} -gt 50 ] || { echo "format_check: only ${#files[@]} files found: not a checkout?" >&2; exit 1; }
fi
# One clang-format process for every file (a process per file took 25 s for the tree):
# it names each unformatted file in its "code should be clang-formatted" diagnostics.
# A failure that names no file (a missing file, a bad style) fails the check too.
status=0
diag=$(clang-format --style=file:"$root/.clang-format" --dry-run --Werror "${files[@]}" 2>&1 >/dev/null) || status=$?
mapfile -t bad < <(printf '%s\n' "$diag" | sed -n -E 's/^(.*):[0-9]+:[0-9]+: error: .*/\1/p' | sort -u)
if [ ${#bad[@]} -eq 0 ] && [ "$status" -ne 0 ]; then
  echo "format_check: clang-format failed (status $status) without naming a file" >&2
  exit 1
fi
if [ ${#bad[@]} -gt 0 ]; then
  printf 'format_check: not formatted (run: clang-format -i FILE):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
