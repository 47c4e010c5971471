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
bad=()
for f in "${files[@]}"; do
  clang-format --style=file:"$root/.clang-format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'format_check: not formatted (run: clang-format -i FILE):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
