#!/usr/bin/env bash
# Switches the running peer into one deliberately misconfigured variant (one requirement
# broken), or back with `none`. The variant stays until the next start.sh / misconfig.sh.
#
# Usage: sudo scripts/peer/misconfig.sh VARIANT | --list
set -euo pipefail
. "$(dirname "$0")/common.sh"

# variant <TAB> requirement it breaks <TAB> what changes
VARIANTS="tls10	OPE/TLS.02	Postfix smtpd_tls_protocols >=TLSv1 and Dovecot ssl_min_protocol TLSv1, plus one TLS 1.0 suite at OpenSSL security level 0
no-whitelist	OPE/SUB.03	Postfix drops the whitelist check_recipient_access: any recipient domain accepted
no-sender-check	OPE/SUB.02	Postfix drops reject_authenticated_sender_login_mismatch and the From: milter (certificate sender classes stay)
auth-before-tls	OPE/TLS.06	Postfix smtpd_tls_auth_only=no and smtpd_tls_security_level=may; Dovecot disable_plaintext_auth=no and ssl=yes (not required)
accept-expired-token	OPE/AUTH.03	the introspection endpoint reports expired tokens as active"

case "${1:-}" in
    ""|-h|--help) sed -n '2,6p' "$0"; exit 2 ;;
    --list) printf '%s\n' "$VARIANTS"; exit 0 ;;
esac
line=$(printf '%s\n' "$VARIANTS" | awk -F'\t' -v v="$1" '$1 == v')
[ -n "$line" ] || [ "$1" = none ] || die "unknown variant '$1' (try --list)"
[ -n "$line" ] && log "variant $1 breaks $(cut -f2 <<<"$line"): $(cut -f3 <<<"$line")"
exec "$PEER_DIR/start.sh" --variant "$1"
