#!/usr/bin/env bash
# Instructions and heap allocations per client-credentials request, counted by
# valgrind's callgrind: admit against the minimal signing handler. Unlike CPU time on
# a shared machine, the counts repeat to within a few percent from run to run, so two
# builds can be compared on small changes (BIN=path/to/admit for another build).
# callgrind runs a simulated CPU without SHA or AES instructions, so hashing and
# random bytes weigh more here than on hardware: read the counts beside load.sh's.
# Loopback only; each server is counted for COUNT_SECONDS (10) of wrk load at four
# connections, after three seconds of warm-up, and stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18998}
COUNT_SECONDS=${COUNT_SECONDS:-10}
for tool in wrk valgrind; do
  command -v $tool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tool >/dev/null; }
done
cargo build --release -q -p admit-server --example sign_baseline
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p admit
  BIN=$PWD/target/release/admit
fi
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
export BODY=grant_type=client_credentials BASIC

# count NAME URL COMMAND...: the server under callgrind, counting only while loaded.
count() {
  local name=$1 url=$2 pid requests
  shift 2
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DATA/$name.out" "$@" >"$DATA/$name.log" 2>&1 &
  pid=$!
  until curl -s -o /dev/null -X POST "$url"; do sleep 0.5; done
  wrk -t1 -c4 -d3s -s bench/post.lua "$url" >/dev/null
  callgrind_control --instr=on $pid >/dev/null 2>&1
  requests=$(wrk -t1 -c4 -d"${COUNT_SECONDS}s" -s bench/post.lua "$url" | awk '/requests in/ {print $1}')
  callgrind_control --instr=off $pid >/dev/null 2>&1
  kill $pid && wait $pid 2>/dev/null || true
  python3 - "$DATA/$name.out" "$requests" "$name" <<'EOF'
import re, sys
path, requests, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, instructions, allocations, callee = {}, 0, 0, None
for line in open(path, errors="replace"):
    if m := re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?", line):
        kind, ident, fn = m.groups()
        names.setdefault(ident, fn)
        callee = names[ident] if kind == "cfn" else None
    elif m := re.match(r"^calls=(\d+)", line):
        if callee in ("malloc", "calloc", "realloc"):
            allocations += int(m.group(1))
    elif line.startswith("summary:") or line.startswith("totals:"):
        instructions = max(instructions, int(line.split()[1]))
print(f"| {name} | {requests} | {instructions // requests:,} | {allocations / requests:.0f} |")
EOF
}

echo "| server | requests counted | instructions per request | allocations per request |"
echo "|---|---:|---:|---:|"
SECRET=$("$BIN" --data-dir "$DATA" client add svc --grant client_credentials | sed -n 's/^client_secret: //p')
BASIC=$(printf 'svc:%s' "$SECRET" | base64 -w0)
count admit "http://127.0.0.1:$PORT/oauth2/token" "$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT
count "minimal signing handler" "http://127.0.0.1:$((PORT + 1))/token" \
  target/release/examples/sign_baseline 127.0.0.1:$((PORT + 1)) EdDSA
