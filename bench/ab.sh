#!/usr/bin/env bash
# Before/after: runs bench/run.sh on mykey SQLite (or BENCH_TARGETS) for each of the given
# mykey-connect binaries in turn, ROUNDS times, alternating, so that the host's drift falls
# on both alike. Prints each run's result lines and any error samples the load generator kept,
# then puts BENCHMARKS.md and bench/results back as they were (nothing is published).
#
#   bash bench/ab.sh ROUNDS SCENARIOS BINARY...
#   bash bench/ab.sh 3 S5E,S5,S6 /tmp/mykey-before target/release/mykey-connect
#
# Keep a copy of the "before" binary (cp target/release/mykey-connect /tmp/mykey-before)
# before building the change. Other knobs as in bench/run.sh (BENCH_DURATION, BENCH_SCHED, …);
# the release build of the load generator must exist (bash bench/run.sh builds it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if (($# < 3)); then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
ROUNDS=$1 SCENARIOS=$2
shift 2
for bin in "$@"; do
  [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }
done
if ! git -C "$ROOT" diff --quiet -- BENCHMARKS.md bench/results; then
  echo "BENCHMARKS.md or bench/results has uncommitted changes; this script restores them" >&2
  exit 2
fi
log=$(mktemp)
trap 'rm -f "$log"; git -C "$ROOT" checkout -q -- BENCHMARKS.md bench/results' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for bin in "$@"; do
    name=$(basename "$bin")
    BENCH_BUILD=0 BENCH_BIN=$bin BENCH_TARGETS=${BENCH_TARGETS:-mykey-sqlite} \
      BENCH_SCENARIOS=$SCENARIOS bash "$ROOT/bench/run.sh" >"$log" 2>&1 ||
      { echo "round $round $name: bench/run.sh failed, its output:" >&2; cat "$log" >&2; exit 1; }
    grep -E '^mykey-[a-z0-9-]+ +S[0-9]+E? ' "$log" | sed "s|^|round $round $name  |"
    grep -o '"error_samples":\[[^]]*[^[]\]' "$ROOT/bench/results/latest.jsonl" |
      sed "s|^|round $round $name  errors: |" || true
    git -C "$ROOT" checkout -q -- BENCHMARKS.md bench/results
  done
done
