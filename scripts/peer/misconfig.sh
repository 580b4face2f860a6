#!/usr/bin/env bash
# Switches the running Postfix+Dovecot peer into one deliberately misconfigured variant (one
# requirement broken, variants.tsv), or back with `none`, by rewriting the configuration and
# reloading Postfix and Dovecot (the PSC stand-in restarts: it takes its faults as options).
# Nothing is reinstalled or stopped. The variant stays until the next start.sh / misconfig.sh.
#
# Usage: sudo scripts/peer/misconfig.sh VARIANT | --list
set -euo pipefail
. "$(dirname "$0")/common.sh"

case "${1:-}" in
    ""|-h|--help) sed -n '2,8p' "$0"; exit 2 ;;
    --list) grep -v '^#' "$PEER_DIR/variants.tsv"; exit 0 ;;
esac
export PEER_VARIANT=$1
known_variant "$PEER_VARIANT" || die "unknown variant '$1' (try --list)"
. "$PEER_DIR/pki.sh"
. "$PEER_DIR/postfix.sh"
. "$PEER_DIR/dovecot.sh"
. "$PEER_DIR/daemons.sh"
. "$PEER_DIR/profile.sh"
require_root
[ -e "$PEER_RUN/postfix.started" ] && [ -e "$PEER_RUN/dovecot.started" ] ||
    die "the peer is not running: scripts/peer/start.sh first"
t0=$(now_ms)
line=$(awk -F'\t' -v v="$1" '$1 == v' "$PEER_DIR/variants.tsv")
[ -z "$line" ] || log "variant $1 breaks $(cut -f2 <<<"$line"): $(cut -f5 <<<"$line")"
peer_pki
peer_postfix_configure
peer_dovecot_configure
stop_pidfile "$PEER_RUN/psc.pid" psc "$PEER_DIR/psc_server.py"
peer_start_psc
peer_reload_dovecot
peer_reload_postfix
peer_write_profile
echo "$PEER_VARIANT" > "$PEER_RUN/variant"
stage_done "switch to $PEER_VARIANT" "$t0"
