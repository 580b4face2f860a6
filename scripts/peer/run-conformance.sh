#!/usr/bin/env bash
# Starts the Postfix+Dovecot peer, runs the scenario catalogue against it, stops the peer (also
# on failure or interrupt), and fails unless every scenario passed or was skipped (a scenario
# this stack cannot play is skipped by its profile, never listed here). Reports: reports/peer/
# (PEER_REPORT_DIR). Stage times on stderr.
#
# Usage: sudo scripts/peer/run-conformance.sh [libtest filters, e.g. OPE/TLS]
#        PEER_RUNNER=cli sudo scripts/peer/run-conformance.sh [mssconf run filters, e.g. --tag tls]
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$PEER_REPO"
REPORT_DIR=${PEER_REPORT_DIR:-reports/peer}

# How the catalogue runs: `conformance` (the libtest trials of tests/conformance.rs, one per
# scenario) or `cli` (`mssconf run`). Both write
# report.json to $REPORT_DIR. Extra arguments: libtest filters, or `mssconf run` filters.
PEER_RUNNER=${PEER_RUNNER:-conformance}

run_catalogue() {
    case "$PEER_RUNNER" in
        conformance)
            MSSCONF_TARGET="$PEER_PROFILE" MSSCONF_REPORT_DIR="$REPORT_DIR" \
                cargo test -q --test conformance -- "$@" ;;
        cli) mssconf_run --target "$PEER_PROFILE" --report-dir "$REPORT_DIR" "$@" ;;
        *) die "unknown PEER_RUNNER '$PEER_RUNNER'" ;;
    esac
}

# The stack's scripts (exim/run-conformance.sh passes the second stack's).
PEER_START=${PEER_START:-$PEER_DIR/start.sh}
PEER_STOP=${PEER_STOP:-$PEER_DIR/stop.sh}
trap '"$PEER_STOP" || true' EXIT
t0=$(now_ms)
t=$(now_ms); "$PEER_START"; stage_done "peer start" "$t"
rm -rf "$REPORT_DIR"
t=$(now_ms); rc=0; run_catalogue "$@" || rc=$?; stage_done "catalogue run" "$t"
if [ -f "$REPORT_DIR/report.json" ]; then
    "$PEER_PYTHON" "$PEER_DIR/check_report.py" conformance "$REPORT_DIR/report.json" || { stage_done total "$t0"; die "conformance run against the peer failed (report: $REPORT_DIR)"; }
elif [ "$rc" -ne 0 ]; then
    die "catalogue run failed (exit $rc)"
fi
stage_done total "$t0"
log "conformance run against the peer passed (report: $REPORT_DIR)"
