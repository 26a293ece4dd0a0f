#!/usr/bin/env bash
# Soak: mykey-connect on SQLite, pinned as in bench/run.sh (server on CPU 0 with one worker,
# load generator on CPU 1, both under BENCH_SCHED), first 10 s of BENCH_SOAK_SCENARIO at full
# speed for its peak, then the same scenario paced at BENCH_SOAK_FRACTION of that peak for
# BENCH_SOAK_MINUTES, the server's RSS sampled every 10 s. Prints the summary (RSS at start,
# end and maximum, errors, rate, latency) and writes it with the samples to
# bench/results/soak-latest.txt.
#
# Knobs: BENCH_SOAK_MINUTES (30), BENCH_SOAK_FRACTION (0.5), BENCH_SOAK_SCENARIO (S5, the SSO
# code flow: a write transaction and a signature per flow), BENCH_CONNECTIONS (32),
# BENCH_SCHED, BENCH_BUILD=0 and BENCH_BIN (as in bench/run.sh), BENCH_KEEP=1 keeps the temp
# folder.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${BENCH_SOAK_MINUTES:-30}
FRACTION=${BENCH_SOAK_FRACTION:-0.5}
SCENARIO=${BENCH_SOAK_SCENARIO:-S5}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
if [[ -z ${BENCH_SCHED+x} ]]; then
  if chrt -r 1 true 2>/dev/null; then BENCH_SCHED="chrt -r 1"; else BENCH_SCHED="nice -n -10"; fi
fi
read -ra SCHED <<<"$BENCH_SCHED"
REDIRECT_URI=http://127.0.0.1:9/callback

WORK=$(mktemp -d /tmp/mykey-soak.XXXXXX)
SERVER_PID=
SAMPLER_PID=
cleanup() {
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -z ${BENCH_KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  cargo build --release --bins --manifest-path "$ROOT/Cargo.toml"
  cargo build --release --manifest-path "$ROOT/bench/loadgen/Cargo.toml" --target-dir "$ROOT/target"
fi
BIN=${BENCH_BIN:-$ROOT/target/release/mykey-connect}
TESTKIT=$ROOT/target/release/mykey-testkit
LOADGEN=$ROOT/target/release/mykey-loadgen

"$TESTKIT" init-ca "$WORK/ca" >/dev/null
"$TESTKIT" issue-card --ca "$WORK/ca" --out "$WORK/card.json" >/dev/null 2>&1
mkdir -p "$WORK/roots/auth" "$WORK/roots/sign"
cp "$WORK/ca/auth-root.pem" "$WORK/roots/auth/"
cp "$WORK/ca/sign-root.pem" "$WORK/roots/sign/"
for purpose in auth sign; do
  "$TESTKIT" crl --ca "$WORK/ca" --purpose "$purpose" --out "$WORK/$purpose.crl" >/dev/null
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export MYKEY_ISSUER=$base MYKEY_LISTEN=127.0.0.1:$port MYKEY_DATABASE_URL=sqlite://$WORK/soak.sqlite3
export MYKEY_AUTH_ROOTS=$WORK/roots/auth MYKEY_SIGN_ROOTS=$WORK/roots/sign
export MYKEY_ALLOW_TEST_CARDS=true MYKEY_WORKERS=1
MYKEY_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
export MYKEY_KEY_ENCRYPTION_KEY
"$BIN" crl import "$WORK/auth.crl" "$WORK/sign.crl" >"$WORK/crl.log" 2>&1
"${SCHED[@]}" taskset -c 0 "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 60))
until curl -sf -o /dev/null "$base/healthz"; do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  ((SECONDS < deadline)) || { echo "server not ready" >&2; exit 1; }
  sleep 0.1
done
"$BIN" client add --name "Soak site" --redirect-uri "$REDIRECT_URI" --json >"$WORK/client.json"

loadgen() {
  "${SCHED[@]}" taskset -c 1 "$LOADGEN" run --base-url "$base" --server mykey \
    --client-file "$WORK/client.json" --redirect-uri "$REDIRECT_URI" --card "$WORK/card.json" \
    --scenarios "$SCENARIO" --connections "$CONNECTIONS" --server-pid "$SERVER_PID" "$@"
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }

echo "== peak of $SCENARIO (10 s)" >&2
loadgen --duration 10 --warmup 2 --target soak-peak --out "$WORK/peak.jsonl"
peak=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["rate"])' "$WORK/peak.jsonl")
rate=$(python3 -c "print(round($peak * $FRACTION, 1))")
echo "== soak: $SCENARIO at $rate/s ($FRACTION of $peak/s) for $MINUTES min" >&2

started=$(date -u '+%Y-%m-%d %H:%M UTC')
(
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    echo "$SECONDS $(rss)"
    sleep 10
  done
) >"$WORK/rss.txt" &
SAMPLER_PID=$!
status=0
loadgen --rate "$rate" --duration $((MINUTES * 60)) --warmup 0 --target soak \
  --out "$WORK/soak.jsonl" || status=$?
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
echo "$SECONDS $(rss)" >>"$WORK/rss.txt"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")

mkdir -p "$ROOT/bench/results"
report=$ROOT/bench/results/soak-latest.txt
python3 - "$WORK/soak.jsonl" "$WORK/rss.txt" "$hwm" "$started" "$MINUTES" "$peak" "$rate" \
  "$SCENARIO" "$(git -C "$ROOT" rev-parse --short HEAD)" >"$report" <<'PY'
import json, sys
soak, rss_file, hwm, started, minutes, peak, rate, scenario, commit = sys.argv[1:]
r = json.loads(open(soak).readline())
samples = [int(l.split()[1]) for l in open(rss_file) if len(l.split()) == 2]
mb = lambda kib: kib * 1024 / 1e6
print(f"soak {started}, commit {commit}: {scenario} at {float(rate):,.0f}/s "
      f"(half of the {float(peak):,.0f}/s peak) for {minutes} min, pinned")
print(f"served {r['ok']:,} ({r['rate']:,.0f}/s), errors {r['errors']}, "
      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, server CPU {r['server_cpu_pct'] or 0:.0f}%")
print(f"RSS start {mb(samples[0]):.1f} MB, end {mb(samples[-1]):.1f} MB, "
      f"max sampled {mb(max(samples)):.1f} MB, VmHWM {mb(int(hwm)):.1f} MB ({len(samples)} samples, every 10 s)")
for s in r.get("error_samples", []):
    print(f"  error: {s}")
print("samples (s since start, RSS KiB):")
for l in open(rss_file):
    print("  " + l.strip())
PY
head -3 "$report"
echo "report: $report" >&2
exit "$status"
