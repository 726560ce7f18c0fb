#!/usr/bin/env bash
# Profile-guided release builds, and bench/load.sh on them. Three steps:
#   1. an instrumented build (-Cprofile-generate) in target/pgo-train, trained by a
#      short bench/load.sh run (every scenario: start-ups, tokens, logins, rotations,
#      the guard, garbage), whose results are thrown away;
#   2. its profiles merged by llvm-profdata of rustc's own LLVM version (Debian's
#      llvm-N, installed if missing);
#   3. bench/load.sh on builds that use them (-Cprofile-use) in target/pgo. admit and
#      the minimal handlers are both built this way, so the ratios compare like
#      with like; target/pgo/<host>/release/admit is the profile-guided binary.
# Loopback only; stops by itself. See bench/README.md.
#
#   bash bench/pgo.sh          # TRAIN_DURATION=2s, then load.sh's own DURATION
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTC=$(rustc -vV)
LLVM=$(sed -n 's/^LLVM version: \([0-9]*\).*/\1/p' <<<"$RUSTC")
PROFDATA=llvm-profdata-$LLVM
command -v "$PROFDATA" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "llvm-$LLVM" >/dev/null; }
PROFILES=$(realpath -m target/pgo-profiles)
# Builds for the host named as a target, so RUSTFLAGS reach only what runs under load,
# not build scripts or proc macros.
CARGO_BUILD_TARGET=$(sed -n 's/^host: //p' <<<"$RUSTC")
export CARGO_BUILD_TARGET
rm -rf "$PROFILES"

TRAIN=$(realpath -m target/pgo-train)
CARGO_TARGET_DIR=$TRAIN RUSTFLAGS="-Cprofile-generate=$PROFILES" OUT=/dev/null \
  DURATION=${TRAIN_DURATION:-2s} bash bench/load.sh >/dev/null
# load.sh's servers write their profiles as they exit, after it has returned; one
# still running after 30 s is left out of the profile, and stopped.
for _ in $(seq 300); do pgrep -f "^$TRAIN/$CARGO_BUILD_TARGET/release/" >/dev/null || break; sleep 0.1; done
pkill -KILL -f "^$TRAIN/$CARGO_BUILD_TARGET/release/" || true
"$PROFDATA" merge -o "$PROFILES/merged.profdata" "$PROFILES"

CARGO_TARGET_DIR=target/pgo RUSTFLAGS="-Cprofile-use=$PROFILES/merged.profdata" bash bench/load.sh
