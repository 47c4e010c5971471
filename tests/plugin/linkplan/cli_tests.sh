#!/usr/bin/env bash
# linkplan's CLI: the same plan from a plain and a gzipped export, the summary, an account
# without email refused (no_email) while the rest is planned, and a clear error (exit 2, no
# plan left behind) for a truncated or corrupt gzip, a line that is not JSON, an export
# without the email field, a directory, and bad usage.
set -euo pipefail
linkplan=$1 gen=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$gen" --people 2000 --seed 3 > users.ndjson
gzip -k users.ndjson
"$linkplan" users.ndjson --policy oldest --out plain.jsonl --refused plain-refused.jsonl --summary > plain-summary.json
"$linkplan" users.ndjson.gz --policy oldest --out gz.jsonl --refused gz-refused.jsonl --summary > gz-summary.json
cmp plain.jsonl gz.jsonl || fail "gzip and plain exports planned differently"
cmp plain-refused.jsonl gz-refused.jsonl || fail "gzip and plain refusals differ"
cmp plain-summary.json gz-summary.json || fail "summaries differ"
pairs=$(wc -l < plain.jsonl) refused=$(wc -l < plain-refused.jsonl) accounts=$(wc -l < users.ndjson)
[ "$pairs" -gt 100 ] || fail "only $pairs pairs"
grep -q "\"pairs\":$pairs," plain-summary.json || fail "summary does not count $pairs pairs: $(cat plain-summary.json)"
grep -q "\"accounts\":$accounts," plain-summary.json || fail "summary does not count $accounts accounts"
grep -q "\"refused\":$refused," plain-summary.json || fail "summary does not count $refused refusals"
grep -qv '^{"primary_user_id":"[^"]*","secondary_user_id":"[^"]*"}$' plain.jsonl && fail "a pair line is not the flow's inputs"
grep -q '"reason":"unverified"' plain-refused.jsonl || fail "no unverified account refused"
[ ! -e plain.jsonl.tmp ] || fail "temporary file left"

# One account without email: refused with its line, the plan otherwise the same.
{ head -n 4 users.ndjson; echo '{"user_id":"sms|+15550100","email_verified":false,"created_at":"2020-01-01T00:00:00.000Z"}'
  tail -n +5 users.ndjson; } > one-without.ndjson
"$linkplan" one-without.ndjson --policy oldest --out one-without.jsonl --refused one-without-refused.jsonl
cmp plain.jsonl one-without.jsonl || fail "an account without email changed the plan"
grep -qx '{"user_id":"sms|+15550100","reason":"no_email","line":5}' one-without-refused.jsonl ||
  fail "the account without email is not refused as no_email on line 5"

expect_error() {  # expect_error PATTERN ARGS...: exit 2, PATTERN on stderr, no --out file
  local pattern=$1; shift
  rm -f out.jsonl
  local rc=0
  "$linkplan" "$@" 2> err.txt > /dev/null || rc=$?
  [ "$rc" -eq 2 ] || fail "$* exited $rc, not 2"
  grep -q -- "$pattern" err.txt || fail "$*: no '$pattern' in: $(cat err.txt)"
  [ ! -e out.jsonl ] && [ ! -e out.jsonl.tmp ] || fail "$*: a partial plan was left"
}

size=$(stat -c %s users.ndjson.gz)
head -c $((size / 2)) users.ndjson.gz > truncated.ndjson.gz
expect_error "truncated" truncated.ndjson.gz --policy oldest --out out.jsonl
# Flip bytes in the middle of the compressed data.
cp users.ndjson.gz corrupt.ndjson.gz
printf '\x00\xff\x00\xff\x00\xff\x00\xff' | dd of=corrupt.ndjson.gz bs=1 seek=$((size / 3)) conv=notrunc status=none
expect_error "corrupt gzip data" corrupt.ndjson.gz --policy oldest --out out.jsonl
{ head -n 9 users.ndjson; echo 'user_id,email'; tail -n +10 users.ndjson; } > csv-line.ndjson
expect_error "csv-line.ndjson: line 10: not JSON" csv-line.ndjson --policy oldest --out out.jsonl
# Exported without the email field: nothing could be planned, which is an error, not an
# empty plan.
sed 's/,"email":"[^"]*"//' users.ndjson > no-email-field.ndjson
! grep -q '"email"' no-email-field.ndjson || fail "sed left an email"
expect_error "no account of the export has an email" no-email-field.ndjson --policy oldest --out out.jsonl
expect_error "not a regular file" . --policy oldest --out out.jsonl
expect_error "No such file" missing.ndjson --policy oldest --out out.jsonl
expect_error "--policy is required" users.ndjson --out out.jsonl
expect_error "unknown policy 'newest'" users.ndjson --policy newest --out out.jsonl
echo "linkplan CLI: ok ($pairs pairs, $refused refused of $accounts accounts)"
