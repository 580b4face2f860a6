#!/usr/bin/env bash
# Stops what scripts/peer/start.sh started (by pid files only). Leaves packages, PKI and
# mailboxes in place; `--purge-mail` also empties the mailboxes and the Postfix queue.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$PEER_DIR/daemons.sh"
require_root
purge=""
[ "${1:-}" = --purge-mail ] && purge=1
[ -d "$PEER_RUN" ] || { log "nothing to stop"; exit 0; }
peer_stop_all
rm -f "$PEER_RUN/variant"
if [ -n "$purge" ]; then
    rm -rf "${PEER_MAIL:?}"/*
    postsuper -d ALL >/dev/null 2>&1 || true
fi
log "peer stopped"
