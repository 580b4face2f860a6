#!/usr/bin/env bash
# Starts the second stack (Exim + Dovecot), runs the scenario catalogue against it, stops it
# (also on failure or interrupt), and fails unless every scenario passed or was skipped (a
# scenario this stack cannot play is skipped by its profile, never listed here).
# Reports: reports/peer-exim/ (PEER_REPORT_DIR). Stage times on stderr.
#
# Usage: sudo scripts/peer/exim/run-conformance.sh [libtest filters, e.g. OPE/TLS]
#        PEER_RUNNER=cli sudo scripts/peer/exim/run-conformance.sh [mssconf run filters]
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$PEER_REPO"
export PEER_PROFILE PEER_REPORT_DIR=${PEER_REPORT_DIR:-reports/peer-exim}
# The first stack's runner with this stack's start/stop scripts and profile.
export PEER_START=$PEER2_DIR/start.sh PEER_STOP=$PEER2_DIR/stop.sh
exec "$PEER_DIR/run-conformance.sh" "$@"
