#!/usr/bin/env bash
# Stops what scripts/peer/exim/start.sh started (by pid files only). Leaves the extracted
# packages, the PKI and the mailboxes in place; `--purge-mail` also empties the mailboxes.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$PEER2_DIR/daemons.sh"
require_root
[ -d "$PEER_RUN" ] || { log "nothing to stop"; exit 0; }
exim_stop_all
rm -f "$PEER_RUN/variant"
[ "${1:-}" = --purge-mail ] && rm -rf "${DC_MAIL:?}"/*
log "exim peer stopped"
