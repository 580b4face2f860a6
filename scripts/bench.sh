#!/usr/bin/env bash
# Runs `mssconf bench` (release build) with the Postfix+Dovecot peer started for it, then stops
# the peer. Every figure must be measured: a skipped line, or a line not in the documented form
# `<figure>: <value> <unit> (baseline <name>: <value> <unit>, ratio <r>)`, fails the script.
#
# Usage: sudo scripts/bench.sh [--quick]      (figures: reports/bench/bench.json)
set -euo pipefail
. "$(dirname "$0")/peer/common.sh"
cd "$PEER_REPO"

cargo build -q --release --bin mssconf
trap '"$PEER_DIR/stop.sh" >/dev/null 2>&1 || true' EXIT
"$PEER_DIR/start.sh" >/dev/null
out=$(mktemp)
start=$(date +%s)
target/release/mssconf bench --peer "$PEER_PROFILE" --out reports/bench "$@" | tee "$out"
echo "bench: $(( $(date +%s) - start )) s"
form='^[^:]+: [-0-9.e+]+ [^ ]+ \(baseline [^:]+: [-0-9.e+]+ [^ ]+, ratio [-0-9.e+n/a]+\)$'
bad=$(grep -Evc "$form" "$out" || true)
lines=$(wc -l < "$out")
if [ "$lines" -eq 0 ] || [ "$bad" -ne 0 ]; then
    grep -Ev "$form" "$out" >&2 || true
    die "bench: $bad of $lines lines are skipped or not in the documented form"
fi
