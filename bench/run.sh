#!/usr/bin/env bash
# The benchmark suite in one command: builds the release binaries and the load generator,
# makes a test CA, software cards and CRLs, then for each target (node-oidc-provider 9, mykey
# on SQLite, mykey on PostgreSQL, all with the server pinned to CPU 0 and the load generator to
# CPU 1, plus one unpinned mykey SQLite pass) starts the server, records its idle memory,
# runs S1–S7, records its peak memory, then (mykey only) S8 CRL ingest and S9 revocation
# fan-out, and stops it; finally rewrites the results part of BENCHMARKS.md and
# bench/results/latest.jsonl.
#
# Knobs (environment): BENCH_DURATION (s measured per scenario, 10), BENCH_WARMUP (2),
# BENCH_CONNECTIONS (32), BENCH_LOGIN_CONCURRENCY (16; also the browsers seeded at once in
# S9), BENCH_SCENARIOS (S1,S2,S3,S4,S5,S5E,S6,S7,S8,S9; S5E is S5 with a second client whose
# ID tokens are ES256), BENCH_CRL_ENTRIES (S8's padded CRL, 1000000),
# BENCH_FANOUT_BROWSERS (S9's browser sessions, 1000), BENCH_FANOUT_CLIENTS (S9's clients, 10),
# BENCH_FANOUT_TIMEOUT (s after the import that S9 waits for logout tokens, 120),
# BENCH_FANOUT_ALG (the S9 clients' ID token alg, which logout tokens use too: RS256 or ES256),
# BENCH_TARGETS (node mykey-sqlite mykey-postgres mykey-sqlite-unpinned; also
# mykey-postgres-2nodes: two `serve` processes on one PostgreSQL database, both pinned to
# CPU 0 with one worker each, S5/S5E alternating per request between them),
# BENCH_POSTGRES_URL (admin URL, postgres://postgres@127.0.0.1:5432/postgres), BENCH_SCHED
# (the command prefix giving server and load generator priority: "chrt -r 1", or "nice -n -10"
# where real-time scheduling is refused; empty for none), BENCH_KEEP=1 keeps the temp folder,
# BENCH_BUILD=0 uses the release binaries in target/ as they are (no cargo build), BENCH_BIN
# another mykey-connect binary (e.g. a copy of an earlier build, to profile before and after). All traffic stays on loopback.
#
# Profiling instead of the table: BENCH_PROFILE=perf (sampled, `perf record` on the server
# during the scenarios) or BENCH_PROFILE=callgrind (instruction counts; the server runs under
# valgrind, so pair it with BENCH_MAX_OPS, e.g. 300) for the first target of BENCH_TARGETS;
# the reports go to bench/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
LOGINS=${BENCH_LOGIN_CONCURRENCY:-16}
SCENARIOS=${BENCH_SCENARIOS:-S1,S2,S3,S4,S5,S5E,S6,S7,S8,S9}
SCENARIOS=$(tr -d ' ' <<<"${SCENARIOS^^}")
# S1–S7 are the load generator's `run`; S8 and S9 are separate steps (revocation_scenarios).
LOAD_SCENARIOS=$(tr ',' '\n' <<<"$SCENARIOS" | grep -vx -e S8 -e S9 | paste -sd, - || true)
has_scenario() { [[ ,$SCENARIOS, == *,$1,* ]]; }
CRL_ENTRIES=${BENCH_CRL_ENTRIES:-1000000}
FANOUT_BROWSERS=${BENCH_FANOUT_BROWSERS:-1000}
FANOUT_CLIENTS=${BENCH_FANOUT_CLIENTS:-10}
FANOUT_TIMEOUT=${BENCH_FANOUT_TIMEOUT:-120}
FANOUT_ALG=${BENCH_FANOUT_ALG:-RS256}
TARGETS=${BENCH_TARGETS:-node mykey-sqlite mykey-postgres mykey-sqlite-unpinned}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
# Other work shares these 2 cores: without priority, the server and the load generator wait
# behind it on every wake-up. SCHED_RR 1 lets each run at once on its core when it has work
# (both block in epoll otherwise; the kernel keeps 5% for everything else, sched_rt_runtime_us).
if [[ -z ${BENCH_SCHED+x} ]]; then
  if chrt -r 1 true 2>/dev/null; then BENCH_SCHED="chrt -r 1"; else BENCH_SCHED="nice -n -10"; fi
fi
read -ra SCHED <<<"$BENCH_SCHED"
PROFILE=${BENCH_PROFILE:-}
MAX_OPS=${BENCH_MAX_OPS:-}
[[ -n $PROFILE ]] && TARGETS=${TARGETS%% *}
REDIRECT_URI=http://127.0.0.1:9/callback

WORK=$(mktemp -d /tmp/mykey-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
SERVER_PID=
SERVER2_PID=
LOADGEN_PID=
PG_DB=

log() { printf '\n== %s\n' "$*" >&2; }

stop_server() {
  if [[ -n $SERVER2_PID ]]; then
    kill "$SERVER2_PID" 2>/dev/null || true
    wait "$SERVER2_PID" 2>/dev/null || true
    SERVER2_PID=
  fi
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

drop_pg() {
  if [[ -n $PG_DB ]]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
    PG_DB=
  fi
}

cleanup() {
  [[ -n $LOADGEN_PID ]] && kill "$LOADGEN_PID" 2>/dev/null
  stop_server
  drop_pg
  if [[ -z ${BENCH_KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Polls until the URL answers 200 (120 s deadline: valgrind is slow to start), failing early if the server died.
wait_ready() {
  local url=$1 deadline=$((SECONDS + 120))
  until curl -sf -o /dev/null "$url"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited; see $WORK/*.log" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "server not ready at $url" >&2; exit 1; }
    sleep 0.1
  done
}

# --- build -----------------------------------------------------------------------------------
if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  log "building release binaries"
  cargo build --release --bins --manifest-path "$ROOT/Cargo.toml"
  cargo build --release --manifest-path "$ROOT/bench/loadgen/Cargo.toml" --target-dir "$ROOT/target"
fi
BIN=${BENCH_BIN:-$ROOT/target/release/mykey-connect}
TESTKIT=$ROOT/target/release/mykey-testkit
LOADGEN=$ROOT/target/release/mykey-loadgen

# --- test CA, cards, CRLs --------------------------------------------------------------------
log "test CA, cards and CRLs in $WORK"
"$TESTKIT" init-ca "$WORK/ca" >/dev/null
"$TESTKIT" issue-card --ca "$WORK/ca" --out "$WORK/card.json" >/dev/null 2>&1
mkdir -p "$WORK/roots/auth" "$WORK/roots/sign" "$WORK/crl"
cp "$WORK/ca/auth-root.pem" "$WORK/roots/auth/"
cp "$WORK/ca/sign-root.pem" "$WORK/roots/sign/"
# The CRLs every mykey target imports before it starts (nothing revoked yet). CRL numbers
# grow with each `crl` call, so the later CRLs below succeed these in every database.
for purpose in auth sign; do
  "$TESTKIT" crl --ca "$WORK/ca" --purpose "$purpose" --out "$WORK/crl/$purpose.crl" >/dev/null
done
if has_scenario S8; then
  # S8: a CRL padded to CRL_ENTRIES, then its successor with one entry more (the diff path).
  # Their nextUpdates differ (25 h, 26 h) so that the load generator sees when the server
  # serves each one (mykey_crl_next_update_seconds).
  "$TESTKIT" crl --ca "$WORK/ca" --purpose auth --pad "$CRL_ENTRIES" --next-update-hours 25 \
    --out "$WORK/crl/s8-full.crl" >/dev/null
  "$TESTKIT" crl --ca "$WORK/ca" --purpose auth --pad $((CRL_ENTRIES + 1)) --next-update-hours 26 \
    --out "$WORK/crl/s8-diff.crl" >/dev/null
fi
if has_scenario S9; then
  # S9's resident: a card of its own, so that S9 does not depend on the sessions and tokens
  # S1–S7 left with the bench card, and the bench card stays good for every target. Its
  # certificate is revoked in the CA now; each target learns it from a CRL made just before
  # its S9 (revocation_scenarios).
  "$TESTKIT" issue-card --ca "$WORK/ca" --out "$WORK/fanout-card.json" --name "失効　太郎" \
    >/dev/null 2>&1
  fanout_serial=$("$TESTKIT" show "$WORK/fanout-card.json" |
    awk '/^auth:/ { a = 1 } a && /serial:/ { print $2; exit }')
  "$TESTKIT" revoke --ca "$WORK/ca" --serial "$fanout_serial" --reason keyCompromise >/dev/null
fi

# A yardstick for S5–S7 (one RS256 signature per token response): aws-lc-rs signing with an
# RSA-2048 key on the load generator's core.
sign_speed=$("${SCHED[@]}" taskset -c 1 "$LOADGEN" sign-speed --card "$WORK/card.json")

# --- one target ------------------------------------------------------------------------------
# pinned: the server gets CPU 0 and one worker, the load generator CPU 1.
run_loadgen() {
  local target=$1 server=$2 pinned=$3 base=$4 client=$5 alt_base=${6:-}
  local pin=("${SCHED[@]}")
  [[ $pinned == yes ]] && pin+=(taskset -c 1)
  local extra=()
  [[ -n $alt_base ]] && extra+=(--alt-base-url "$alt_base")
  [[ $server == mykey ]] && extra+=(--card "$WORK/card.json")
  # S5E: the second client of the target, with ES256 ID tokens.
  [[ -f ${client%.json}-es256.json ]] && extra+=(--es256-client-file "${client%.json}-es256.json")
  [[ -n $MAX_OPS ]] && extra+=(--max-ops "$MAX_OPS")
  "$LOADGEN" rss --pid "$SERVER_PID" --target "$target" --phase idle --out "$RESULTS" >/dev/null
  [[ -n $LOAD_SCENARIOS ]] || return 0
  local perf_pid=
  if [[ $PROFILE == perf ]]; then
    perf record -F 997 -g -p "$SERVER_PID" -o "$WORK/perf.data" 2>"$WORK/perf.log" &
    perf_pid=$!
  fi
  "${pin[@]}" "$LOADGEN" run --base-url "$base" --server "$server" --client-file "$client" \
    --redirect-uri "$REDIRECT_URI" "${extra[@]}" --scenarios "$LOAD_SCENARIOS" \
    --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNECTIONS" \
    --login-concurrency "$LOGINS" --server-pid "$SERVER_PID" --target "$target" \
    --out "$RESULTS" &
  LOADGEN_PID=$!
  wait "$LOADGEN_PID" || echo "$target: some scenarios had errors (marked in the table)" >&2
  LOADGEN_PID=
  "$LOADGEN" rss --pid "$SERVER_PID" --target "$target" --phase peak --out "$RESULTS" >/dev/null
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    mkdir -p "$ROOT/bench/results"
    local report="$ROOT/bench/results/perf-$target-${LOAD_SCENARIOS//,/-}.txt"
    {
      perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none
      perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --percent-limit 0.3 \
        --stdio -g none
    } 2>/dev/null | grep -v -e '^#' -e '^$' | sed -E 's/[[:space:]]+(-[[:space:]]+)*$//' >"$report"
    echo "perf report: $report" >&2
  fi
}

# S8 (CRL ingest) and S9 (revocation fan-out), on a running mykey server after S1–S7 (so
# S10's peak is S1–S7's). The imports run as their own processes with the load generator's
# pinning (CPU 1 when pinned), as an operator's `mykey-connect crl import` next to the server.
revocation_scenarios() {
  local target=$1 pinned=$2 base=$3
  if [[ -n $PROFILE ]]; then
    has_scenario S8 || has_scenario S9 && echo "$target: S8/S9 are not profiled" >&2
    return 0
  fi
  local pin=("${SCHED[@]}")
  [[ $pinned == yes ]] && pin+=(taskset -c 1)
  if has_scenario S8; then
    log "$target: S8 CRL ingest"
    local step
    for step in full diff; do
      "${pin[@]}" "$LOADGEN" ingest --base-url "$base" --mykey-bin "$BIN" \
        --crl "$WORK/crl/s8-$step.crl" --step "$step" --server-pid "$SERVER_PID" \
        --target "$target" --out "$RESULTS" || echo "$target: S8 ($step) had errors" >&2
    done
  fi
  if has_scenario S9; then
    log "$target: S9 revocation fan-out"
    local port; port=$(free_port)
    local clients=() n
    for ((n = 0; n < FANOUT_CLIENTS; n++)); do
      "$BIN" client add --name "Fan-out site $n" --redirect-uri "$REDIRECT_URI" \
        --backchannel-logout-uri "http://127.0.0.1:$port/logout/$n" \
        --id-token-alg "$FANOUT_ALG" --json >"$WORK/$target-fanout-$n.json"
      clients+=(--client-file "$WORK/$target-fanout-$n.json")
    done
    # This target's CRL listing the S9 card (revoked at set-up), numbered after all before.
    "$TESTKIT" crl --ca "$WORK/ca" --purpose auth --out "$WORK/crl/s9-$target.crl" >/dev/null
    "${pin[@]}" "$LOADGEN" fanout --base-url "$base" --card "$WORK/fanout-card.json" \
      "${clients[@]}" --redirect-uri "$REDIRECT_URI" --listen "127.0.0.1:$port" \
      --browsers "$FANOUT_BROWSERS" --concurrency "$LOGINS" --timeout "$FANOUT_TIMEOUT" \
      --mykey-bin "$BIN" --crl "$WORK/crl/s9-$target.crl" --server-pid "$SERVER_PID" \
      --server-log "$WORK/$target.log" --target "$target" --out "$RESULTS" &
    LOADGEN_PID=$!
    wait "$LOADGEN_PID" || echo "$target: S9 had errors (marked in the table)" >&2
    LOADGEN_PID=
  fi
}

run_mykey() {
  local target=$1 db=$2 pinned=$3 nodes=${4:-1}
  local port; port=$(free_port)
  local base=http://127.0.0.1:$port
  local url
  if [[ $db == sqlite ]]; then
    url="sqlite://$WORK/$target.sqlite3"
  else
    PG_DB="mykey_bench_$$"
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_DB" >/dev/null
    url="${PG_ADMIN%/*}/$PG_DB"
  fi
  local workers=1 pin=("${SCHED[@]}" taskset -c 0)
  [[ $pinned == yes ]] || { workers=0; pin=("${SCHED[@]}"); }
  if [[ $PROFILE == callgrind ]]; then
    pin+=(valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out")
  fi
  log "$target: mykey-connect on $db, pinned=$pinned, $base"
  export MYKEY_ISSUER=$base MYKEY_LISTEN=127.0.0.1:$port MYKEY_DATABASE_URL=$url
  export MYKEY_AUTH_ROOTS=$WORK/roots/auth MYKEY_SIGN_ROOTS=$WORK/roots/sign
  export MYKEY_ALLOW_TEST_CARDS=true MYKEY_WORKERS=$workers
  MYKEY_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
  export MYKEY_KEY_ENCRYPTION_KEY
  # Revocation data before the first login (logins fail closed without it); the server loads
  # the stored CRLs at start-up. This also creates the database schema and signing keys.
  "$BIN" crl import "$WORK/crl/auth.crl" "$WORK/crl/sign.crl" >"$WORK/$target-crl.log" 2>&1 ||
    { cat "$WORK/$target-crl.log" >&2; exit 1; }
  "${pin[@]}" "$BIN" serve >"$WORK/$target.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$base/healthz"
  local alt_base=
  if ((nodes > 1)); then
    # A second node of the same deployment (same issuer, database and keys) on the same core.
    local port2; port2=$(free_port)
    alt_base=http://127.0.0.1:$port2
    MYKEY_LISTEN=127.0.0.1:$port2 "${pin[@]}" "$BIN" serve >"$WORK/$target-2.log" 2>&1 &
    SERVER2_PID=$!
    local deadline=$((SECONDS + 60))
    until curl -sf -o /dev/null "$alt_base/healthz"; do
      ((SECONDS < deadline)) || { echo "second node not ready" >&2; exit 1; }
      sleep 0.1
    done
  fi
  "$BIN" client add --name "Benchmark site" --redirect-uri "$REDIRECT_URI" --json \
    >"$WORK/$target-client.json"
  "$BIN" client add --name "Benchmark site (ES256)" --redirect-uri "$REDIRECT_URI" \
    --id-token-alg ES256 --json >"$WORK/$target-client-es256.json"
  # Start-up (key generation, migrations) is not what a scenario costs.
  [[ $PROFILE == callgrind ]] && callgrind_control --zero "$SERVER_PID" >/dev/null
  run_loadgen "$target" mykey "$pinned" "$base" "$WORK/$target-client.json" "$alt_base"
  revocation_scenarios "$target" "$pinned" "$base"
  stop_server
  drop_pg
  if [[ $PROFILE == callgrind ]]; then
    mkdir -p "$ROOT/bench/results"
    local report="$ROOT/bench/results/callgrind-$target-${LOAD_SCENARIOS//,/-}.txt"
    {
      echo "Calls (summed over callers) of the functions BENCHMARKS.md discusses:"
      callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$WORK/callgrind.out" |
        awk '/<.*\([0-9,]+x\)/ { if (match($0, /\(([0-9,]+)x\)/, m)) { gsub(",", "", m[1]); calls += m[1] } }
             /\* .*(Db::(read|write)_blocking|jws::sign_payload|login::qr_data_uri|login::verify_one)/ {
               sub(/^ +/, ""); print calls " calls: " $0 }
             /^$/ { calls = 0 }'
      echo
      callgrind_annotate --inclusive=yes --threshold=99 "$WORK/callgrind.out"
    } >"$report"
    echo "callgrind report: $report" >&2
  fi
}

run_node() {
  local target=$1
  local port; port=$(free_port)
  local base=http://127.0.0.1:$port
  log "$target: node-oidc-provider 9, pinned, $base"
  mkdir -p "$WORK/node"
  cp "$ROOT/bench/node-oidc-provider/package.json" "$ROOT/bench/node-oidc-provider/server.mjs" \
    "$WORK/node/"
  (cd "$WORK/node" && npm install --no-audit --no-fund --no-package-lock --silent >/dev/null)
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/node/key.pem" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/node/ec-key.pem" 2>/dev/null
  local id
  for id in bench bench-es256; do
    printf '{"client_id":"%s","client_secret":"%s","redirect_uri":"%s"}\n' "$id" \
      "$(head -c 32 /dev/urandom | base64 | tr -d '/+=')" "$REDIRECT_URI" >"$WORK/node/$id.json"
  done
  mv "$WORK/node/bench.json" "$WORK/node/client.json"
  mv "$WORK/node/bench-es256.json" "$WORK/node/client-es256.json"
  NODE_ENV=production NODE_OIDC_ISSUER=$base NODE_OIDC_PORT=$port \
    NODE_OIDC_KEY=$WORK/node/key.pem NODE_OIDC_CLIENT=$WORK/node/client.json \
    NODE_OIDC_EC_KEY=$WORK/node/ec-key.pem NODE_OIDC_CLIENT_ES256=$WORK/node/client-es256.json \
    "${SCHED[@]}" taskset -c 0 node "$WORK/node/server.mjs" >"$WORK/$target.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$base/.well-known/openid-configuration"
  run_loadgen "$target" node yes "$base" "$WORK/node/client.json"
  stop_server
}

for target in $TARGETS; do
  case $target in
    node)
      # node-oidc-provider has no CRLs or back-channel logouts: nothing to run for S8/S9 alone.
      if [[ -n $LOAD_SCENARIOS ]]; then
        run_node node
      else
        echo "node: no S1–S7 scenario selected" >&2
      fi
      ;;
    mykey-sqlite) run_mykey mykey-sqlite sqlite yes ;;
    mykey-postgres) run_mykey mykey-postgres postgres yes ;;
    mykey-postgres-2nodes) run_mykey mykey-postgres-2nodes postgres yes 2 ;;
    mykey-sqlite-unpinned) run_mykey mykey-sqlite-unpinned sqlite no ;;
    *) echo "unknown target $target" >&2; exit 1 ;;
  esac
done

# --- the table -------------------------------------------------------------------------------
[[ -n $PROFILE ]] && exit 0
log "writing BENCHMARKS.md"
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
machine="$model, $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
commit=$(git -C "$ROOT" rev-parse --short HEAD)
git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock bench || commit="$commit (with local changes)"
# The server inherits the environment: a run with asynchronous token commits says so.
pg_commits="PostgreSQL commits durable (its default synchronous_commit)"
case ${MYKEY_POSTGRES_ASYNCHRONOUS_TOKEN_COMMITS:-false} in
  true | 1 | yes) pg_commits="PostgreSQL with \`postgres_asynchronous_token_commits\` (the code exchange and the refresh commit without waiting for the WAL flush)" ;;
esac
settings="Server pinned with \`taskset -c 0\` (\`MYKEY_WORKERS=1\`; node is single-threaded), load generator \`taskset -c 1\` (one thread), both under \`$BENCH_SCHED\` (other work shares this machine); ${WARMUP} s warm-up, ${DURATION} s measured per scenario; ${CONNECTIONS} keep-alive connections, ${LOGINS} concurrent logins for S6; SQLite in WAL with synchronous=NORMAL, $pg_commits; $sign_speed on CPU 1; S8/S9: \`mykey-connect crl import\` runs with the load generator's pinning, S9 seeds ${FANOUT_BROWSERS} browser sessions × ${FANOUT_CLIENTS} clients (${LOGINS} browsers at once; ${FANOUT_ALG} ID and logout tokens); node-oidc-provider $(node -p "require('$WORK/node/node_modules/oidc-provider/package.json').version" 2>/dev/null || echo 9) on Node.js $(node --version), in-memory adapter"
"$LOADGEN" report --results "$RESULTS" --machine "$machine" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --commit "$commit" --settings "$settings" --into "$ROOT/BENCHMARKS.md"
mkdir -p "$ROOT/bench/results"
cp "$RESULTS" "$ROOT/bench/results/latest.jsonl"
echo "done: BENCHMARKS.md and bench/results/latest.jsonl" >&2
