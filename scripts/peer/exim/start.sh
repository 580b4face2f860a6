#!/usr/bin/env bash
# Starts the second peer stack: Exim 4.96 (submission; Debian's exim4-daemon-heavy extracted
# beside Postfix) + a second Dovecot 2.3 instance (IMAP, LMTP, SASL for Exim), the PSC stand-in
# and the IMAP relays, on other loopback ports than the first stack, then writes the target
# profile targets/local-peer-exim.yaml. Both stacks can run at once.
#
# Usage: sudo scripts/peer/exim/start.sh [--variant NAME]   (NAME: none or a line of variants.tsv)
# Idempotent: a re-run reconfigures and restarts what the previous run started. See docs/peer.md.
set -euo pipefail

while [ $# -gt 0 ]; do
    case "$1" in
        --variant) PEER_VARIANT=${2:?--variant needs a name}; shift 2 ;;
        --variant=*) PEER_VARIANT=${1#*=}; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
export PEER_VARIANT

. "$(dirname "$0")/common.sh"
. "$PEER2_DIR/install.sh"
. "$PEER_DIR/pki.sh"
. "$PEER_DIR/dovecot.sh"
. "$PEER2_DIR/exim.sh"
. "$PEER2_DIR/daemons.sh"
. "$PEER2_DIR/profile.sh"

known_variant "$PEER_VARIANT" || die "unknown variant '$PEER_VARIANT'"
require_root
t0=$(now_ms)
t=$t0; exim_install; stage_done install "$t"
mkdir -p "$PEER_RUN" "$PEER_LOG" "$DC_DIR"
t=$(now_ms); exim_stop_all; stage_done "stop previous" "$t"
t=$(now_ms); peer_pki; stage_done pki "$t"
t=$(now_ms); peer_dovecot_configure; exim_configure; stage_done configure "$t"
t=$(now_ms)
peer_start_psc
peer_start_dovecot
peer_start_relay "$PEER_IMAP_PORT" imap
peer_start_relay "$PEER_IMAPS_PORT" imaps
exim_start
stage_done start "$t"
exim_write_profile
echo "$PEER_VARIANT" > "$PEER_RUN/variant"
stage_done total "$t0"
log "exim peer up (variant: $PEER_VARIANT); target profile: $PEER_PROFILE"
