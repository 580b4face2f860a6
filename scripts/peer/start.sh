#!/usr/bin/env bash
# Starts the local peer operator: Postfix (submission) + Dovecot (IMAP, LMTP) from Debian's
# packages on loopback, a PSC stand-in (token issuer, introspection, whitelist, autoconfig) and
# the IMAP relays, then writes the target profile targets/local-peer.yaml.
#
# Usage: sudo scripts/peer/start.sh [--variant NAME]
#   NAME: none (default) or a deliberate misconfiguration of variants.tsv (see misconfig.sh)
# Idempotent: a re-run reconfigures and restarts what the previous run started.
# Needs root on Debian 12 without systemd. See docs/peer.md.
set -euo pipefail

while [ $# -gt 0 ]; do
    case "$1" in
        --variant) PEER_VARIANT=${2:?--variant needs a name}; shift 2 ;;
        --variant=*) PEER_VARIANT=${1#*=}; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
export PEER_VARIANT

. "$(dirname "$0")/common.sh"
. "$PEER_DIR/install.sh"
. "$PEER_DIR/pki.sh"
. "$PEER_DIR/postfix.sh"
. "$PEER_DIR/dovecot.sh"
. "$PEER_DIR/daemons.sh"
. "$PEER_DIR/profile.sh"

known_variant "$PEER_VARIANT" || die "unknown variant '$PEER_VARIANT'"

require_root
t0=$(now_ms)
t=$t0; peer_install; stage_done install "$t"
mkdir -p "$PEER_RUN" "$PEER_LOG" "$PEER_DOVECOT"
t=$(now_ms); peer_stop_all; stage_done "stop previous" "$t"
t=$(now_ms); peer_pki; stage_done pki "$t"
t=$(now_ms); peer_postfix_configure; peer_dovecot_configure; stage_done configure "$t"
t=$(now_ms)
peer_start_psc
peer_start_dovecot
peer_start_relay "$PEER_IMAP_PORT" imap
peer_start_relay "$PEER_IMAPS_PORT" imaps
peer_start_postfix
stage_done start "$t"
peer_write_profile
echo "$PEER_VARIANT" > "$PEER_RUN/variant"
stage_done total "$t0"
log "peer up (variant: $PEER_VARIANT); target profile: $PEER_PROFILE"
