#!/usr/bin/env bash
# Load benchmark: release builds of admit and of a minimal signing server, and node
# oidc-provider, each on loopback with fresh state, driven by wrk for a bounded time at
# a fixed concurrency, scenario by scenario. Prints a table (requests per second,
# latency p50/p99, unexpected answers, requests per server CPU-second, peak RSS during
# the scenario) and the ratios the benchmarks issue asks for, and writes both to
# bench/results-latest.md. Loopback only; stops by itself. See bench/README.md.
#
#   bash bench/load.sh                 # DURATION=10s CONNECTIONS=16 by default
#
# Builds go to CARGO_TARGET_DIR (target/ by default), for CARGO_BUILD_TARGET if set,
# with the RUSTFLAGS given, so bench/pgo.sh runs this script on instrumented and on
# profile-guided builds.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18080}
API_PORT=$((PORT + 1)) BASELINE_PORT=$((PORT + 10)) GUARD_PORT=$((PORT + 11)) PEER_PORT=$((PORT + 15))

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
REL=$(realpath -m "${CARGO_TARGET_DIR:-target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}release")
cargo build --release -q -p admit
cargo build --release -q -p admit-server --example sign_baseline --example argon2_rate
cargo build --release -q -p admit --example refresh_load
cargo build --release -q -p admit-demo --example guard_baseline
(cd bench/oidc-provider && npm ci --silent --no-audit --no-fund)
BIN=$REL/admit
DATA=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$DATA"' EXIT
admit() { "$BIN" --data-dir "$DATA" "$@"; }
wait_for() { until curl -sf "$1" >/dev/null; do sleep 0.002; done; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
# Discovery answered 200, asked through bash's /dev/tcp: polling with curl would add a
# process start (tens of milliseconds here) to every attempt. `head` writes the request
# in one piece; bash's own printf writes a line at a time, and Nagle's algorithm with
# delayed ACKs then holds the rest back 40 ms.
ready_probe() {
  local status= request=$'GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
  until [[ $status == *" 200 "* ]]; do
    sleep 0.001
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || continue
    head -c "${#request}" <<<"$request" >&3
    read -r status <&3 || true
    exec 3>&-
  done
}

# Start-up and idle memory: admit alone, first on a fresh embedded database (which
# includes creating it and generating keys), then restarted on it. A first start's
# time varies with the RSA key's search for primes, so it is the median of five fresh
# databases, with their range; its first JWKS, which waits for the RSA key, is timed
# too.
start_admit() {
  start_ns=$(date +%s%N)
  "$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT >>"$DATA/$1.log" 2>&1 &
  PID=$!
  PIDS+=($PID)
  ready_probe
  ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
}
median_range() { printf '%s\n' "$@" | sort -n | tr '\n' ' ' | awk '{print $3 " (" $1 "-" $5 ")"}'; }
firsts=() jwks_firsts=()
for _ in 1 2 3 4 5; do
  rm -rf "${DATA:?}"/*
  start_admit fresh
  firsts+=($ready_ms)
  curl -sf "http://127.0.0.1:$PORT/.well-known/jwks.json" >/dev/null
  jwks_firsts+=($(( ($(date +%s%N) - start_ns) / 1000000 )))
  # The next keys follow; stop once all six keys are published (or after 10 s).
  for _ in $(seq 1000); do
    (($(curl -sf "http://127.0.0.1:$PORT/.well-known/jwks.json" | grep -o '"kid"' | wc -l) == 6)) && break
    sleep 0.01
  done
  kill -TERM $PID && wait $PID || true
done
ready_fresh=$(median_range "${firsts[@]}")
jwks_fresh=$(median_range "${jwks_firsts[@]}")
start_admit restart
ready_restart=$ready_ms
sleep 1
idle_rss=$(rss_mb $PID)
idle_anon=$(awk '/RssAnon/ {printf "%d", $2 / 1024}' "/proc/$PID/status")
kill -TERM $PID && wait $PID || true

# The load runs: admit with the demo API (the resource server) in process.
"$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT --demo --demo-listen 127.0.0.1:$API_PORT --demo-site-listen 127.0.0.1:$((PORT + 2)) >"$DATA/server.log" 2>&1 &
PID=$!
PIDS+=($PID)
wait_for "http://127.0.0.1:$API_PORT/"
ADMIT=$PID

# The ceilings: a minimal axum server that only signs a fixed JWT with a kept EdDSA
# key, and only verifies admit's tokens against admit's JWKS (for distinct tokens).
curl -sf "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$DATA/jwks.json"
"$REL/examples/sign_baseline" 127.0.0.1:$BASELINE_PORT EdDSA "$DATA/jwks.json" &
BASELINE=$!
PIDS+=($BASELINE)
until curl -sf -X POST "http://127.0.0.1:$BASELINE_PORT/token" >/dev/null; do sleep 0.01; done

echo 'correct horse battery staple' | admit user add alice --password-stdin >/dev/null
secret() { admit client add "$@" | sed -n 's/^client_secret: //p'; }
SVC=$(secret svc --grant client_credentials --scope read)
APP=$(secret app --grant password --grant refresh_token --scope read)
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
BASE=http://127.0.0.1:$PORT
token() { curl -sf -u "svc:$SVC" -d grant_type=client_credentials "$BASE/oauth2/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'; }

ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
HZ=$(getconf CLK_TCK)
OUT=${OUT:-bench/results-latest.md}
{
  echo "| scenario | req/s | p50 | p99 | unexpected | req per server CPU-s | peak RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$OUT"
declare -A PER_CPU RPS VALID SAMPLES
admit_peak_rss=0

# run NAME LOAD-COMMAND...: one scenario against $SERVER, driven by a command that
# prints wrk's format. A scenario may print "unexpected N" (and "valid N"); otherwise
# non-2xx answers and socket errors count as unexpected.
run() {
  local name=$1; shift
  echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || true # reset the peak RSS
  local before; before=$(ticks)
  local result; result=$("$@")
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
  local rss; rss=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$SERVER/status")
  if [ "$SERVER" = "$ADMIT" ] && [ "$rss" -gt "$admit_peak_rss" ]; then admit_peak_rss=$rss; fi
  SAMPLES[$name]+="${PER_CPU[$name]} "
  SAMPLES[$name valid]+="${VALID[$name]} "
  echo "| $name${ROUND:+ (round $ROUND)} | ${RPS[$name]} | $p50 | $p99 | $errors | ${PER_CPU[$name]} | $rss MB |" | tee -a "$OUT"
}
# The median of a scenario's requests per server CPU-second over its rounds.
median() { echo "${SAMPLES[$1]}" | tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# wrk with one thread, or with a thread per connection (for scripts that follow answers).
wrk1() { wrk --latency -t1 -c"$CONNECTIONS" -d"$DURATION" "$@"; }
wrkc() { wrk --latency -t"$CONNECTIONS" -c"$CONNECTIONS" -d"$DURATION" "$@"; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }
# The share of the server's work that one garbage request in ten takes, given the
# requests per CPU-second of valid traffic alone ($1) and of garbage alone ($2).
garbage_share() { echo "$1 $2" | awk '{ if ($1 > 0 && $2 > 0) printf "%.2f", (0.1 / $2) / (0.9 / $1 + 0.1 / $2); else print "-" }'; }

export BASIC BODY TOKEN TOKENS GARBAGE_EVERY
TOKEN=$(token)
BASIC=$(basic svc "$SVC")
# Client credentials and its ceiling, alternated for three rounds: the ratio of the
# medians holds up better on a shared machine than one pair of runs.
for ROUND in 1 2 3; do
  SERVER=$ADMIT BODY="grant_type=client_credentials" \
    run "client credentials" wrk1 -s bench/post.lua "$BASE/oauth2/token"
  SERVER=$BASELINE BODY="grant_type=client_credentials" \
    run "minimal axum handler signing a JWT (EdDSA)" wrk1 -s bench/post.lua "http://127.0.0.1:$BASELINE_PORT/token"
done
unset ROUND
SERVER=$ADMIT

# Password logins, and Argon2id alone at the same parameters with one hashing thread
# per core as the server has, alternated for three rounds.
for ROUND in 1 2 3; do
  BASIC=$(basic app "$APP") BODY="grant_type=password&username=alice&password=correct+horse+battery+staple" \
    run "password grant (Argon2id)" wrk1 -s bench/post.lua "$BASE/oauth2/token"
  SAMPLES[argon2]+="$("$REL/examples/argon2_rate" "$(nproc)" "${DURATION%s}") "
done
unset ROUND

# Refresh rotation, three rounds: one chain per connection, each started by a
# password login.
for ROUND in 1 2 3; do
  for _ in $(seq "$CONNECTIONS"); do
    curl -sf -u "app:$APP" -d grant_type=password -d username=alice -d password=correct+horse+battery+staple "$BASE/oauth2/token" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh_token"])'
  done >"$DATA/refresh.txt"
  run "refresh-token rotation" "$REL/examples/refresh_load" "$BASE/oauth2/token" "$(basic app "$APP")" "$DATA/refresh.txt" "${DURATION%s}"
done
unset ROUND

# The resource server, three rounds: the same request (with the Bearer token) to the
# demo API's route behind the guard and to the same handler without it, both in one
# small process (guard_baseline); then a different token per request, to the demo API
# in admit's process and to the minimal verifying handler.
TOKEN=$(token)
"$REL/examples/guard_baseline" 127.0.0.1:$GUARD_PORT "$BASE" "$TOKEN" &
GUARD=$!
PIDS+=($GUARD)
wait_for "http://127.0.0.1:$GUARD_PORT/open/me"
TOKENS=$DATA/tokens.txt
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/harvest.lua "$BASE/oauth2/token" >/dev/null
DISTINCT="demo API behind admit-resource, distinct tokens ($(wc -l <"$TOKENS"))"
VERIFY="minimal axum handler verifying a JWT (EdDSA), distinct tokens"
for ROUND in 1 2 3; do
  SERVER=$GUARD run "GET /api/me without the guard" wrk1 -s bench/bearer.lua "http://127.0.0.1:$GUARD_PORT/open/me"
  SERVER=$GUARD run "GET /api/me behind admit-resource, same token" wrk1 -s bench/bearer.lua "http://127.0.0.1:$GUARD_PORT/api/me"
  run "$DISTINCT" wrk1 -s bench/distinct.lua "http://127.0.0.1:$API_PORT/api/me"
  SERVER=$BASELINE run "$VERIFY" wrk1 -s bench/distinct.lua "http://127.0.0.1:$BASELINE_PORT/verify"
done
unset ROUND

BODY="token=$TOKEN" run "introspection" wrk1 -s bench/post.lua "$BASE/oauth2/introspect"
run "JWKS" wrk1 "$BASE/.well-known/jwks.json"
run "discovery" wrk1 "$BASE/.well-known/openid-configuration"

# Bad input under load: the same valid traffic, pure and with every tenth request
# garbage, and the garbage alone (what it costs), alternated for three rounds.
for ROUND in 1 2 3; do
  GARBAGE_EVERY=0 run "client credentials, pure" wrkc -s bench/mix.lua "$BASE"
  GARBAGE_EVERY=10 run "client credentials, 10% garbage" wrkc -s bench/mix.lua "$BASE"
  GARBAGE_EVERY=1 run "garbage alone" wrkc -s bench/mix.lua "$BASE"
done
unset ROUND


# The peer: node oidc-provider, client credentials with EdDSA JWT access tokens.
PEER_SECRET=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
NODE_ENV=production node bench/oidc-provider/server.mjs $PEER_PORT "$PEER_SECRET" >"$DATA/peer.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
PEER=http://127.0.0.1:$PEER_PORT
wait_for "$PEER/.well-known/openid-configuration"
peer_idle_rss=$(rss_mb $SERVER)
BASIC=$(basic svc "$PEER_SECRET") BODY="grant_type=client_credentials&scope=read" run "oidc-provider: client credentials" wrk1 -s bench/post.lua "$PEER/token"
run "oidc-provider: JWKS" wrk1 "$PEER/jwks"
run "oidc-provider: discovery" wrk1 "$PEER/.well-known/openid-configuration"

{
  echo
  echo "Ratios (requests per server CPU-second, this run):"
  echo "- client credentials / minimal signing handler, medians of three rounds: $(ratio "$(median "client credentials")" "$(median "minimal axum handler signing a JWT (EdDSA)")") (target ≥ 0.80)"
  echo "- client credentials / oidc-provider: $(ratio "$(median "client credentials")" "${PER_CPU[oidc-provider: client credentials]}") (target ≥ 7); JWKS $(ratio "${PER_CPU[JWKS]}" "${PER_CPU[oidc-provider: JWKS]}"), discovery $(ratio "${PER_CPU[discovery]}" "${PER_CPU[oidc-provider: discovery]}")"
  echo "- refresh rotation, medians of three rounds: $(ratio "$(median "client credentials")" "$(median "refresh-token rotation")") times the server CPU per request of client credentials (target ≤ 3)"
  echo "- guarded / unguarded route, same token, medians of three rounds: $(ratio "$(median "GET /api/me behind admit-resource, same token")" "$(median "GET /api/me without the guard")") (target ≥ 0.80)"
  echo "- guarded route, distinct tokens / minimal verifying handler, medians of three rounds: $(ratio "$(median "$DISTINCT")" "$(median "$VERIFY")") (target ≥ 0.80)"
  echo "- password logins / Argon2id-only rate ($(median argon2) checks per CPU-s, $(nproc) threads), medians of three rounds: $(ratio "$(median "password grant (Argon2id)")" "$(median argon2)") (target ≥ 0.90)"
  valid_ratio=$(ratio "$(median "client credentials, 10% garbage valid")" "$(median "client credentials, pure valid")")
  echo "- with 10% garbage, medians of three rounds: valid requests at $valid_ratio of the pure runs' per CPU-s, slowed by $(echo "$valid_ratio" | awk '{printf "%.2f", 1 - $1}'); the garbage's share of the work, from its cost alone: $(garbage_share "$(median "client credentials, pure")" "$(median "garbage alone")") (target: slowed by no more than that share); all requests per CPU-s at $(ratio "$(median "client credentials, 10% garbage")" "$(median "client credentials, pure")") of the pure runs'"
  echo
  echo "admit: ready to serve discovery ${ready_fresh} ms after start on a fresh database (median of five, and range) (creating it, migrations and generating the EdDSA and ES256 keys included; the RS256 key and the next keys are made just after), its first JWKS (which waits for the RS256 key) ${jwks_fresh} ms after start, ${ready_restart} ms on restart; idle RSS ${idle_rss} MB (${idle_anon} MB of it anonymous memory, the rest the binary's pages); peak RSS under the loads above (demo API and site in process) ${admit_peak_rss} MB; release binary $(du -h "$BIN" | cut -f1)."
  echo "oidc-provider $(node -p 'require("./bench/oidc-provider/node_modules/oidc-provider/package.json").version') on node $(node --version): idle RSS ${peer_idle_rss} MB."
  echo "wrk -c$CONNECTIONS -d$DURATION on the same machine (-t1, or one thread per connection where a script follows answers); $(nproc) cores."
} | tee -a "$OUT"
