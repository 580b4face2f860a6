#!/usr/bin/env bash
# Switches the running Exim+Dovecot peer into one misconfigured variant (variants.tsv), or back
# with `none`: the configuration is rewritten, Exim re-reads it on HUP, Dovecot on reload, the
# PSC stand-in restarts (it takes its faults as options). Nothing is reinstalled.
#
# Usage: sudo scripts/peer/exim/misconfig.sh VARIANT | --list
set -euo pipefail
. "$(dirname "$0")/common.sh"
case "${1:-}" in
    ""|-h|--help) sed -n '2,6p' "$0"; exit 2 ;;
    --list) grep -v '^#' "$PEER_DIR/variants.tsv"; exit 0 ;;
esac
export PEER_VARIANT=$1
known_variant "$PEER_VARIANT" || die "unknown variant '$1' (try --list)"
. "$PEER_DIR/pki.sh"
. "$PEER_DIR/dovecot.sh"
. "$PEER2_DIR/exim.sh"
. "$PEER2_DIR/daemons.sh"
. "$PEER2_DIR/profile.sh"
require_root
[ -e "$PEER_RUN/exim.started" ] && [ -e "$PEER_RUN/dovecot.started" ] ||
    die "the exim peer is not running: scripts/peer/exim/start.sh first"
t0=$(now_ms)
line=$(awk -F'\t' -v v="$1" '$1 == v' "$PEER_DIR/variants.tsv")
[ -z "$line" ] || log "variant $1 breaks $(cut -f2 <<<"$line"): $(cut -f5 <<<"$line")"
peer_pki
peer_dovecot_configure
exim_configure
stop_pidfile "$PEER_RUN/psc.pid" psc "$PEER_DIR/psc_server.py"
peer_start_psc
peer_reload_dovecot
exim_reload
exim_write_profile
echo "$PEER_VARIANT" > "$PEER_RUN/variant"
stage_done "switch to $PEER_VARIANT" "$t0"
