#!/usr/bin/env bash
# Proves detection on real servers: for each misconfigured variant of the peer (misconfig.sh
# --list), runs the catalogue and asserts that the scenarios of the broken requirement fail,
# and no other (known limits aside). Reports: reports/peer-misconfig/<variant>/.
# Stops the peer at the end. Exit status 0 only if every variant is detected exactly.
#
# Usage: sudo scripts/peer/misconfig-test.sh [VARIANT ...]   (default: all)
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$PEER_REPO"
BASE=${PEER_REPORT_DIR:-reports/peer-misconfig}

# Failures a variant may cause beyond its requirement, and why.
declare -A TOLERATE=(
    # A suite TLS 1.0 can negotiate (CBC-SHA1) is also a TLS 1.2 suite outside the allow list.
    [tls10]="OPE/TLS.04"
)

variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
    mapfile -t variants < <("$PEER_DIR/misconfig.sh" --list | cut -f1)
fi
trap '"$PEER_DIR/stop.sh" || true' EXIT
[ -n "${PEER_MSSCONF:-}" ] || cargo build -q 2>&1 | tail -5 >&2
mkdir -p "$BASE"
# The correctly configured peer first: a scenario failing there (a catalogue or peer issue of
# its own) says nothing about a variant.
"$PEER_DIR/start.sh" 2>&1 | grep -E 'total' >&2 || true
rm -rf "$BASE/none"
t1=$(now_ms)
mssconf_run --target "$PEER_PROFILE" --report-dir "$BASE/none" >"$BASE/none.log" 2>&1 || true
[ -f "$BASE/none/report.json" ] || die "baseline run wrote no report (see $BASE/none.log)"
stage_done "baseline run" "$t1"
summary=()
failed=0
for v in "${variants[@]}"; do
    req=$("$PEER_DIR/misconfig.sh" --list | awk -F'\t' -v v="$v" '$1 == v {print $2}')
    [ -n "$req" ] || die "unknown variant '$v'"
    t0=$(now_ms)
    "$PEER_DIR/misconfig.sh" "$v" 2>&1 | grep -E 'variant|total' >&2 || true
    t_start=$(( $(now_ms) - t0 ))
    dir="$BASE/$v"
    rm -rf "$dir" "$BASE/$v.log"
    t1=$(now_ms)
    mssconf_run --target "$PEER_PROFILE" --report-dir "$dir" >"$BASE/$v.log" 2>&1 || true
    t_run=$(( $(now_ms) - t1 ))
    args=(misconfig "$dir/report.json" --requirement "$req" --known-limits "$PEER_DIR/known-limits.tsv"
        --baseline "$BASE/none/report.json")
    for r in ${TOLERATE[$v]:-}; do args+=(--tolerate "$r"); done
    echo "== $v (breaks $req; start $((t_start / 1000)).$((t_start % 1000 / 100)) s, run $((t_run / 1000)).$((t_run % 1000 / 100)) s)"
    if [ -f "$dir/report.json" ] && "$PEER_PYTHON" "$PEER_DIR/check_report.py" "${args[@]}"; then
        summary+=("DETECTED  $v -> $req")
    else
        summary+=("MISSED    $v -> $req (see $dir)")
        failed=1
    fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $failed
