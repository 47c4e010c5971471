#!/usr/bin/env bash
# smoke.sh FUZZER SEEDS WORK SECONDS: runs a libFuzzer target for SECONDS over its
# committed seeds (read only) and a fresh work corpus in WORK, where crashes land too
# (WORK/crash-*, printed with the reproducer command). Fails on any finding.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus"
# New inputs go to the first corpus folder: the work copy, never the seeds.
# A fixed seed (A0_FUZZ_SEED, default 1): the smoke run explores the same inputs each time
# (as far as the machine's speed takes it in SECONDS); long runs use a random one.
exec "$fuzzer" -seed="${A0_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds"
