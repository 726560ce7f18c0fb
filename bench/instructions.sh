#!/usr/bin/env bash
# Instructions and heap allocations per client-credentials request, counted by
# valgrind's callgrind: admit against the minimal signing handler; then admit under
# bench/mix.lua, pure, with every tenth request garbage, and the garbage alone, to
# price the bad-input target in work rather than time. Unlike CPU time on a shared
# machine, the counts repeat to within a few percent from run to run, so two builds
# can be compared on small changes (BIN=path/to/admit for another build).
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

# count NAME URL LUA COMMAND...: the server under callgrind, counting only while wrk
# runs LUA against URL (four connections, a thread each, as mix.lua needs), once
# $READY answers (admit's JWKS waits for its keys, so none is made while counting).
# Prints a table row and leaves "requests valid instructions" in $DATA/NAME.count.
count() {
  local name=$1 url=$2 lua=$3 pid result requests
  shift 3
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$DATA/$name.out" "$@" >"$DATA/$name.log" 2>&1 &
  pid=$!
  until curl -s -o /dev/null "$READY"; do sleep 0.5; done
  wrk -t4 -c4 -d3s -s "$lua" "$url" >/dev/null
  callgrind_control --instr=on $pid >/dev/null 2>&1
  result=$(wrk -t4 -c4 -d"${COUNT_SECONDS}s" -s "$lua" "$url")
  callgrind_control --instr=off $pid >/dev/null 2>&1
  kill $pid && wait $pid 2>/dev/null || true
  # mix.lua counts what it did not expect itself (garbage must get its 4xx).
  if grep -Eq '^unexpected [1-9]|Socket errors' <<<"$result" ||
    { ! grep -q '^unexpected' <<<"$result" && grep -q 'Non-2xx' <<<"$result"; }; then
    echo "$name: unexpected answers" >&2 && echo "$result" >&2 && exit 1
  fi
  requests=$(awk '/requests in/ {print $1}' <<<"$result")
  python3 - "$DATA/$name.out" "$requests" "$name" "$DATA/$name.count" \
    "$(awk '/^valid/ {print $2}' <<<"$result")" <<'EOF'
import re, sys
path, requests, name, count, valid = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
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
open(count, "w").write(f"{requests} {valid or requests} {instructions}\n")
print(f"| {name} | {requests} | {instructions // requests:,} | {allocations / requests:.0f} |")
EOF
}

echo "| server | requests counted | instructions per request | allocations per request |"
echo "|---|---:|---:|---:|"
SECRET=$("$BIN" --data-dir "$DATA" client add svc --grant client_credentials | sed -n 's/^client_secret: //p')
BASIC=$(printf 'svc:%s' "$SECRET" | base64 -w0)
ADMIT=("$BIN" --data-dir "$DATA" serve --listen 127.0.0.1:$PORT)
READY=http://127.0.0.1:$PORT/.well-known/jwks.json
count admit "http://127.0.0.1:$PORT/oauth2/token" bench/post.lua "${ADMIT[@]}"
READY=http://127.0.0.1:$((PORT + 1))/token
count "minimal signing handler" "$READY" bench/post.lua \
  target/release/examples/sign_baseline 127.0.0.1:$((PORT + 1)) EdDSA

# Bad input (as load.sh's last scenario): the work per valid request with every tenth
# request garbage, against the garbage's share of the work, from what it costs alone.
READY=http://127.0.0.1:$PORT/.well-known/jwks.json
"${ADMIT[@]}" >"$DATA/token.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -s -o /dev/null "$READY"; do sleep 0.1; done
TOKEN=$(curl -sf -u "svc:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth2/token" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "admit issued no token" >&2 && exit 1; }
kill $pid && wait $pid 2>/dev/null || true
export TOKEN GARBAGE_EVERY
for GARBAGE_EVERY in 0 10 1; do
  count "admit, mix.lua, garbage every $GARBAGE_EVERY" "http://127.0.0.1:$PORT" bench/mix.lua "${ADMIT[@]}"
done
python3 - "$DATA/admit, mix.lua, garbage every "{0,10,1}.count <<'EOF'
import sys
(pn, _, pi), (mn, mv, mi), (gn, _, gi) = ([int(x) for x in open(p).read().split()] for p in sys.argv[1:])
pure, garbage, bad = pi / pn, gi / gn, mn - mv
share = bad * garbage / (mv * pure + bad * garbage)
print(f"\nWith {bad} garbage requests among {mn}, valid requests slowed by {1 - mv * pure / mi:.3f} "
      f"in instructions; the garbage's share of the work, from its cost alone ({garbage:,.0f} "
      f"instructions a request against {pure:,.0f}): {share:.3f}")
EOF
