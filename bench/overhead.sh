#!/usr/bin/env bash
# What the per-request log line costs: client-credentials tokens per server
# CPU-second with the default log filter (one `admit::request` line per request) and
# with `ADMIT_LOG=warn` (no request lines), alternated for three rounds. A release
# build on loopback; stops by itself. Compare two builds with BIN=path/to/admit.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
PORT=${PORT:-18999}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p admit
  BIN=$PWD/target/release/admit
fi
run() { # NAME, then environment assignments for the server
  local name=$1 data pid t0 t1 out requests
  shift
  data=$(mktemp -d)
  local secret
  secret=$("$BIN" --data-dir "$data" client add svc --grant client_credentials | sed -n 's/^client_secret: //p')
  env "$@" "$BIN" --data-dir "$data" serve --listen 127.0.0.1:$PORT >"$data/log" 2>&1 &
  pid=$!
  until curl -sf http://127.0.0.1:$PORT/health/live >/dev/null; do sleep 0.01; done
  t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
  out=$(BASIC=$(printf 'svc:%s' "$secret" | base64 -w0) BODY=grant_type=client_credentials \
    wrk -t2 -c16 -d"$DURATION" -s bench/post.lua http://127.0.0.1:$PORT/oauth2/token)
  t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$name: $(( requests * $(getconf CLK_TCK) / (t1 - t0) )) tokens per server CPU-s"
  kill -TERM $pid
  wait $pid || true
  rm -rf "$data"
}
for round in 1 2 3; do
  run "round $round, request log on " ADMIT_LOG=info
  run "round $round, request log off" ADMIT_LOG=warn
done
