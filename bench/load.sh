#!/usr/bin/env bash
# Load benchmark: a release build of admit on loopback with a fresh database, driven by
# wrk for a bounded time at a fixed concurrency, scenario by scenario. Prints a table
# (requests per second, latency p50/p99, errors, requests per server CPU-second, peak
# RSS) and writes it to bench/results-latest.md. Loopback only; stops by itself.
#
#   bash bench/load.sh                 # DURATION=10s CONNECTIONS=16 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18080}
API_PORT=$((PORT + 1))

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p admit
BIN=$PWD/target/release/admit
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
admit() { "$BIN" --data-dir "$DATA" "$@"; }

start_ns=$(date +%s%N)
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT --demo --demo-listen 127.0.0.1:$API_PORT --demo-site-listen 127.0.0.1:$((PORT + 2)) >"$DATA/server.log" 2>&1 &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/.well-known/openid-configuration" >/dev/null; do sleep 0.005; done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
until curl -sf "http://127.0.0.1:$API_PORT/" >/dev/null; do sleep 0.05; done
sleep 1
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)

# Provision: a user, a confidential client for each grant, a resource server.
echo 'correct horse battery staple' | admit user add alice --password-stdin >/dev/null
secret() { admit client add "$@" | sed -n 's/^client_secret: //p'; }
SVC=$(secret svc --grant client_credentials --scope read)
APP=$(secret app --grant password --grant refresh_token --scope read)
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
BASE=http://127.0.0.1:$PORT
token() { curl -sf -u "svc:$SVC" -d grant_type=client_credentials "$BASE/oauth2/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'; }

ticks() { awk '{print $14 + $15}' /proc/$PID/stat; }
HZ=$(getconf CLK_TCK)
OUT=bench/results-latest.md
{
  echo "| scenario | req/s | p50 | p99 | errors | req per server CPU-s | peak RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$OUT"

run() { # name, wrk arguments...
  local name=$1; shift
  local before; before=$(ticks)
  local result; result=$(wrk --latency -t1 -c"$CONNECTIONS" -d"$DURATION" "$@")
  local after; after=$(ticks)
  local requests; requests=$(echo "$result" | awk '/requests in/ {print $1}')
  local rps; rps=$(echo "$result" | awk '/Requests\/sec/ {printf "%d", $2}')
  local p50; p50=$(echo "$result" | awk '$1 == "50%" {print $2}')
  local p99; p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
  local errors; errors=$(echo "$result" | awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); e += $1 + $2 + $3 + $4} END {print e + 0}')
  local cpu; cpu=$(echo "$after $before $HZ" | awk '{printf "%.2f", ($1 - $2) / $3}')
  local per_cpu; per_cpu=$(echo "$requests $cpu" | awk '{ if ($2 > 0) printf "%d", $1 / $2; else print "-" }')
  local rss; rss=$(awk '/VmHWM/ {printf "%d MB", $2 / 1024}' /proc/$PID/status)
  echo "| $name | $rps | $p50 | $p99 | $errors | $per_cpu | $rss |" | tee -a "$OUT"
}

TOKEN=$(token)
export BASIC BODY TOKEN
BASIC=$(basic svc "$SVC") BODY="grant_type=client_credentials" run "client credentials (EdDSA JWT)" -s bench/post.lua "$BASE/oauth2/token"
run "JWKS" "$BASE/.well-known/jwks.json"
run "discovery" "$BASE/.well-known/openid-configuration"
run "demo API, no guard" "http://127.0.0.1:$API_PORT/"
run "demo API behind admit-resource" -s bench/bearer.lua "http://127.0.0.1:$API_PORT/api/me"
BASIC=$(basic svc "$SVC") BODY="token=$TOKEN" run "introspection" -s bench/post.lua "$BASE/oauth2/introspect"
BASIC=$(basic app "$APP") BODY="grant_type=password&username=alice&password=correct+horse+battery+staple" run "password grant (Argon2id)" -s bench/post.lua "$BASE/oauth2/token"

{
  echo
  echo "Ready to serve discovery ${ready_ms} ms after start (fresh database: migrations and key generation included); idle RSS $((idle_rss / 1024)) MB."
  echo "wrk -t1 -c$CONNECTIONS -d$DURATION on the same machine; binary $(du -h "$BIN" | cut -f1)."
} | tee -a "$OUT"
