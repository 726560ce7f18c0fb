#!/usr/bin/env bash
# Load benchmark: release builds of admit and of a minimal signing server, and node
# oidc-provider, each on loopback with fresh state, driven by wrk for a bounded time at
# a fixed concurrency, scenario by scenario. Prints a table (requests per second,
# latency p50/p99, unexpected answers, requests per server CPU-second, peak RSS during
# the scenario) and the ratios the benchmarks issue asks for, and writes both to
# bench/results-latest.md. Loopback only; stops by itself. See bench/README.md.
#
#   bash bench/load.sh                 # DURATION=10s CONNECTIONS=16 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18080}
API_PORT=$((PORT + 1)) BASELINE_PORT=$((PORT + 10)) PEER_PORT=$((PORT + 15))

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p admit
cargo build --release -q -p admit-server --example sign_baseline
(cd bench/oidc-provider && npm ci --silent --no-audit --no-fund)
BIN=$PWD/target/release/admit
DATA=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA"' EXIT
admit() { "$BIN" --data-dir "$DATA" "$@"; }
wait_for() { until curl -sf "$1" >/dev/null; do sleep 0.002; done; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

# Start-up and idle memory: admit alone on a fresh embedded database.
start_ns=$(date +%s%N)
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT >"$DATA/first.log" 2>&1 &
PID=$!
PIDS+=($PID)
wait_for "http://127.0.0.1:$PORT/.well-known/openid-configuration"
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 1
idle_rss=$(rss_mb $PID)
kill -TERM $PID && wait $PID || true

# The load runs: admit with the demo API (the resource server) in process.
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT --demo --demo-listen 127.0.0.1:$API_PORT --demo-site-listen 127.0.0.1:$((PORT + 2)) >"$DATA/server.log" 2>&1 &
PID=$!
PIDS+=($PID)
wait_for "http://127.0.0.1:$API_PORT/"
SERVER=$PID

echo 'correct horse battery staple' | admit user add alice --password-stdin >/dev/null
secret() { admit client add "$@" | sed -n 's/^client_secret: //p'; }
SVC=$(secret svc --grant client_credentials --scope read)
APP=$(secret app --grant password --grant refresh_token --scope read)
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
BASE=http://127.0.0.1:$PORT
token() { curl -sf -u "svc:$SVC" -d grant_type=client_credentials "$BASE/oauth2/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'; }

ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
HZ=$(getconf CLK_TCK)
OUT=bench/results-latest.md
{
  echo "| scenario | req/s | p50 | p99 | unexpected | req per server CPU-s | peak RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$OUT"
declare -A PER_CPU RPS VALID

# run NAME THREADS wrk-arguments...: one scenario against $SERVER. A scenario's Lua
# script may print "unexpected N" (and "valid N"); otherwise non-2xx answers and
# socket errors count as unexpected.
run() {
  local name=$1 threads=$2; shift 2
  echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || true # reset the peak RSS
  local before; before=$(ticks)
  local result; result=$(wrk --latency -t"$threads" -c"$CONNECTIONS" -d"$DURATION" "$@")
  local after; after=$(ticks)
  local requests; requests=$(echo "$result" | awk '/requests in/ {print $1}')
  RPS[$name]=$(echo "$result" | awk '/Requests\/sec/ {printf "%d", $2}')
  local p50; p50=$(echo "$result" | awk '$1 == "50%" {print $2}')
  local p99; p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
  local errors; errors=$(echo "$result" | awk '
    /^unexpected/ {scripted = 1; s = $2}
    /Non-2xx/ {e += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); e += $1 + $2 + $3 + $4}
    END {print scripted ? s : e + 0}')
  VALID[$name]=$(echo "$result" | awk '/^valid/ {print $2}')
  local cpu; cpu=$(echo "$after $before $HZ" | awk '{printf "%.2f", ($1 - $2) / $3}')
  PER_CPU[$name]=$(echo "$requests $cpu" | awk '{ if ($2 > 0) printf "%d", $1 / $2; else print 0 }')
  local rss; rss=$(awk '/VmHWM/ {printf "%d MB", $2 / 1024}' "/proc/$SERVER/status")
  echo "| $name | ${RPS[$name]} | $p50 | $p99 | $errors | ${PER_CPU[$name]} | $rss |" | tee -a "$OUT"
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }

export BASIC BODY TOKEN TOKENS FORGED BAD_BASIC GARBAGE_EVERY
TOKEN=$(token)
BASIC=$(basic svc "$SVC")
BODY="grant_type=client_credentials" run "client credentials" 1 -s bench/post.lua "$BASE/oauth2/token"

BASIC=$(basic app "$APP") BODY="grant_type=password&username=alice&password=correct+horse+battery+staple" \
  run "password grant (Argon2id)" 1 -s bench/post.lua "$BASE/oauth2/token"

run "demo API, no guard" 1 "http://127.0.0.1:$API_PORT/"
run "demo API behind admit-resource, same token" 1 -s bench/bearer.lua "http://127.0.0.1:$API_PORT/api/me"
TOKENS=$DATA/tokens.txt
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/harvest.lua "$BASE/oauth2/token" >/dev/null
run "demo API behind admit-resource, distinct tokens ($(wc -l <"$TOKENS"))" 1 -s bench/distinct.lua "http://127.0.0.1:$API_PORT/api/me"

BODY="token=$TOKEN" run "introspection" 1 -s bench/post.lua "$BASE/oauth2/introspect"
run "JWKS" 1 "$BASE/.well-known/jwks.json"
run "discovery" 1 "$BASE/.well-known/openid-configuration"

# Bad input under load: the same valid traffic, pure and with every tenth request garbage.
FORGED="${TOKEN%.*}.$(printf 'forged-signature-of-the-right-length-for-eddsa-0123456789abcdefghijklmno' | base64 -w0 | tr '+/' '-_' | tr -d '=')"
BAD_BASIC=$(basic svc "not-the-secret")
GARBAGE_EVERY=0 run "client credentials, pure" "$CONNECTIONS" -s bench/mix.lua "$BASE"
GARBAGE_EVERY=10 run "client credentials, 10% garbage" "$CONNECTIONS" -s bench/mix.lua "$BASE"
under_load_rss=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$SERVER/status")

# The ceiling: a minimal axum server that only signs a fixed JWT with a kept EdDSA key.
target/release/examples/sign_baseline 127.0.0.1:$BASELINE_PORT EdDSA &
SERVER=$!
PIDS+=($SERVER)
until curl -sf -X POST "http://127.0.0.1:$BASELINE_PORT/token" >/dev/null; do sleep 0.01; done
BODY="grant_type=client_credentials" run "minimal axum handler signing a JWT (EdDSA)" 1 -s bench/post.lua "http://127.0.0.1:$BASELINE_PORT/token"

# The peer: node oidc-provider, client credentials with EdDSA JWT access tokens.
PEER_SECRET=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
NODE_ENV=production node bench/oidc-provider/server.mjs $PEER_PORT "$PEER_SECRET" >"$DATA/peer.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
PEER=http://127.0.0.1:$PEER_PORT
wait_for "$PEER/.well-known/openid-configuration"
peer_idle_rss=$(rss_mb $SERVER)
BASIC=$(basic svc "$PEER_SECRET") BODY="grant_type=client_credentials&scope=read" run "oidc-provider: client credentials" 1 -s bench/post.lua "$PEER/token"
run "oidc-provider: JWKS" 1 "$PEER/jwks"
run "oidc-provider: discovery" 1 "$PEER/.well-known/openid-configuration"

# Argon2id alone at the parameters the server hashes with (OWASP's minimum by default).
argon2_ms=$(admit calibrate --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["argon2id"]["floor"]["ms"])' || true)
{
  echo
  echo "Ratios (requests per server CPU-second, this run):"
  echo "- client credentials / minimal signing handler: $(ratio "${PER_CPU[client credentials]}" "${PER_CPU[minimal axum handler signing a JWT (EdDSA)]}") (target ≥ 0.80)"
  echo "- client credentials / oidc-provider: $(ratio "${PER_CPU[client credentials]}" "${PER_CPU[oidc-provider: client credentials]}") (target ≥ 7); JWKS $(ratio "${PER_CPU[JWKS]}" "${PER_CPU[oidc-provider: JWKS]}"), discovery $(ratio "${PER_CPU[discovery]}" "${PER_CPU[oidc-provider: discovery]}")"
  echo "- guarded / unguarded route, same token: $(ratio "${PER_CPU[demo API behind admit-resource, same token]}" "${PER_CPU[demo API, no guard]}") (target ≥ 0.80)"
  if [ -n "$argon2_ms" ]; then
    echo "- password logins / Argon2id-only rate ($argon2_ms ms per hash): $(echo "${PER_CPU[password grant (Argon2id)]} $argon2_ms" | awk '{printf "%.2f", $1 * $2 / 1000}') (target ≥ 0.90)"
  fi
  echo "- with 10% garbage: valid requests at $(ratio "${VALID[client credentials, 10% garbage]}" "${VALID[client credentials, pure]}") of the pure run's (target ≥ 0.90); all requests per CPU-s $(ratio "${PER_CPU[client credentials, 10% garbage]}" "${PER_CPU[client credentials, pure]}") of the pure run's"
  echo
  echo "admit: ready to serve discovery ${ready_ms} ms after start (fresh database: migrations and key generation included); idle RSS ${idle_rss} MB; peak RSS under the loads above (demo API and site in process) ${under_load_rss} MB; release binary $(du -h "$BIN" | cut -f1)."
  echo "oidc-provider $(node -p 'require("./bench/oidc-provider/node_modules/oidc-provider/package.json").version') on node $(node --version): idle RSS ${peer_idle_rss} MB."
  echo "wrk -c$CONNECTIONS -d$DURATION on the same machine (-t1, or one thread per connection where a script follows answers); $(nproc) cores."
} | tee -a "$OUT"
