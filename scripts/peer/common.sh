# Sourced by the peer scripts: names, ports and paths of the peer operator. Every value can be
# overridden from the environment (PEER_*).

PEER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER_REPO=$(cd "$PEER_DIR/../.." && pwd)
PEER_STATE=${PEER_STATE:-/var/lib/mssconf-peer}
PEER_RUN=$PEER_STATE/run
PEER_LOG=$PEER_STATE/log
PEER_PKI=$PEER_STATE/pki
PEER_MAIL=$PEER_STATE/mail
PEER_DOVECOT=$PEER_STATE/dovecot
PEER_PF_MAPS=/etc/postfix/mssconf-peer
PEER_PROFILE=${PEER_PROFILE:-$PEER_REPO/targets/local-peer.yaml}
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}

PEER_DOMAIN=${PEER_DOMAIN:-peer.mssante.test}
PEER_SERVER_NAME=${PEER_SERVER_NAME:-mss.peer.mssante.test}
PEER_PER1=dr.martin.fictif@$PEER_DOMAIN
PEER_PER2=dr.durand.fictif@$PEER_DOMAIN
PEER_ORG1=secretariat.fictif@$PEER_DOMAIN
PEER_APP1=app.dpi.fictif@$PEER_DOMAIN
PEER_APP2=app.labo.fictif@$PEER_DOMAIN
PEER_MDN_RESPONDER=repondeur.mdn@$PEER_DOMAIN
PEER_MDN_SILENT=silencieux.mdn@$PEER_DOMAIN
# Mailboxes logging in with a bearer token, and every mailbox of the operator.
PEER_TOKEN_MAILBOXES="$PEER_PER1 $PEER_PER2 $PEER_ORG1 $PEER_MDN_RESPONDER $PEER_MDN_SILENT"
PEER_MAILBOXES="$PEER_TOKEN_MAILBOXES $PEER_APP1 $PEER_APP2"
PEER_UNKNOWN_LOCAL=inconnu.fictif@$PEER_DOMAIN
PEER_OUTSIDE=destinataire@exterieur.example
# An address at another operator of the whitelist (second entry of PEER_WHITELIST below).
PEER_OTHER_OPERATOR=correspondant.fictif@hopital-fictif.mssante.test
# The whitelist the operator enforces and publishes (fictitious domains, .test only).
PEER_WHITELIST="$PEER_DOMAIN hopital-fictif.mssante.test clinique-fictive.mssante.test"
PEER_MAX_SIZE=${PEER_MAX_SIZE:-31457280}
# Lifetime (s) of the tokens of the PSC stand-in's OAuth 2.0 grants (org1's; docs/peer.md). A
# short one (PEER_GRANT_LIFETIME=40) makes a run renew org1's token at the endpoint.
PEER_GRANT_LIFETIME=${PEER_GRANT_LIFETIME:-600}

PEER_PORT_BASE=${PEER_PORT_BASE:-10000}
PEER_SMTP_PORT=$((PEER_PORT_BASE + 587))
PEER_SMTPS_PORT=$((PEER_PORT_BASE + 465))
PEER_IMAP_PORT=$((PEER_PORT_BASE + 143))
PEER_IMAPS_PORT=$((PEER_PORT_BASE + 993))
PEER_HTTP_PORT=$((PEER_PORT_BASE + 80))
# Plain SMTP, no TLS/AUTH, loopback clients and the peer's own domain only: the listener of the
# load baseline (Postfix's smtp-source cannot do TLS or SASL). See `mssconf bench` and docs/peer.md.
PEER_PLAIN_PORT=$((PEER_PORT_BASE + 25))
# The root's CRL as this stack's HTTP server (psc_server.py) publishes it; the profile declares
# it (http.crl, OPE/TLS.05.02).
PEER_CRL_URL=http://127.0.0.1:$PEER_HTTP_PORT/crl/root.crl
# The CRL distribution point the server certificates of the test PKI name: the first stack's
# HTTP server (the second stack shares the PKI and sets PEER1_PORT_BASE to the first's base).
PEER_PKI_CRL_DP=${PEER_PKI_CRL_DP:-http://127.0.0.1:$(( ${PEER1_PORT_BASE:-$PEER_PORT_BASE} + 80 ))/crl/root.crl}

# The Dovecot instance of the stack (dovecot.sh, daemons.sh): its configuration directory,
# instance name, store, log, ports, and where and for whom it serves the MTA (SASL, LMTP).
DC_DIR=${DC_DIR:-$PEER_DOVECOT}
DC_INSTANCE=${DC_INSTANCE:-mssconf-peer}
DC_MAIL=${DC_MAIL:-$PEER_MAIL}
DC_LOG=${DC_LOG:-$PEER_LOG/dovecot.log}
DC_IMAP_PORT=${DC_IMAP_PORT:-$PEER_IMAP_PORT}
DC_IMAPS_PORT=${DC_IMAPS_PORT:-$PEER_IMAPS_PORT}
DC_HTTP_PORT=${DC_HTTP_PORT:-$PEER_HTTP_PORT}
# Where the MTA reaches the auth and LMTP services, and the account it runs as.
DC_AUTH_SOCKET=${DC_AUTH_SOCKET:-/var/spool/postfix/private/mssconf-peer-auth}
DC_LMTP_SOCKET=${DC_LMTP_SOCKET:-/var/spool/postfix/private/mssconf-peer-lmtp}
DC_MTA_USER=${DC_MTA_USER:-postfix}
DC_MTA_GROUP=${DC_MTA_GROUP:-postfix}

# none, or a misconfigured variant of variants.tsv
PEER_VARIANT=${PEER_VARIANT:-none}

# The six TLS 1.2 suites of SC.MSS/CONF.03 (OpenSSL names); the target profile lists the same.
PEER_TLS12_SUITES="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"
# What the tls10 variant adds: TLS 1.0 needs a suite TLS 1.0 can use, and OpenSSL 3's default
# security level refuses TLS 1.0 altogether.
PEER_LEGACY_SUITE="ECDHE-RSA-AES256-SHA"

# The TLS 1.2 suites (OpenSSL cipher list) of Postfix and Dovecot (OPE/TLS.04). Variants static-rsa and
# cbc-sha1 add one suite outside the allow list (OPE/TLS.04); weak-dh lowers the security level.
peer_cipherlist() {
    case "$PEER_VARIANT" in
        tls10) echo "$PEER_TLS12_SUITES:$PEER_LEGACY_SUITE:@SECLEVEL=0" ;;
        static-rsa) echo "$PEER_TLS12_SUITES:AES256-SHA" ;;
        cbc-sha1) echo "$PEER_TLS12_SUITES:ECDHE-RSA-AES128-SHA" ;;
        # OpenSSL 3's default security level (2) refuses a DH group under 2048 bits: an operator
        # keeping 1024-bit DH parameters has lowered it to 1 for them to be used.
        weak-dh) echo "$PEER_TLS12_SUITES:@SECLEVEL=1" ;;
        *) echo "$PEER_TLS12_SUITES" ;;
    esac
}

log() { echo "[peer] $*" >&2; }
die() { log "error: $*"; exit 1; }

# Seconds since the epoch with milliseconds, for stage timings.
now_ms() { date +%s%3N; }
stage_done() { # $1 name, $2 start ms
    local ms=$(( $(now_ms) - $2 ))
    log "$(printf '%-22s %5d.%03d s' "$1" $((ms / 1000)) $((ms % 1000)))"
}

# Waits until 127.x:port accepts TCP connections (bounded).
wait_port() { # $1 host, $2 port, $3 seconds
    local deadline=$(( $(date +%s) + ${3:-15} ))
    while ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# Whether a process runs (a zombie waiting for its reaper counts as ended).
alive() { # $1 pid
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid in a pid file if that process is alive.
live_pid() { # $1 pid file
    local pid
    [ -s "$1" ] || return 1
    pid=$(head -n1 "$1" | tr -dc 0-9)
    [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

# Stops the process of a pid file we wrote, waiting for it to end (bounded), then removes it.
# The process must still run the expected program ($3): a pid reused since is left alone.
stop_pidfile() { # $1 pid file, $2 name, $3 text its command line must contain
    local pid i
    if pid=$(live_pid "$1") && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$3"; then
        kill "$pid" 2>/dev/null || true
        for i in $(seq 100); do alive "$pid" || break; sleep 0.05; done
        if alive "$pid"; then
            log "$2 (pid $pid) did not stop on TERM: KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$1"
}

# The harness: `cargo run` in this checkout, or the binary PEER_MSSCONF (with the catalogue of
# PEER_CATALOGUE_ROOT, e.g. another worktree) when set.
mssconf_run() { # mssconf run arguments
    local root=()
    [ -n "${PEER_CATALOGUE_ROOT:-}" ] && root=(--root "$PEER_CATALOGUE_ROOT")
    if [ -n "${PEER_MSSCONF:-}" ]; then
        "$PEER_MSSCONF" run "${root[@]}" "$@"
    else
        (cd "$PEER_REPO" && cargo run -q -- run "${root[@]}" "$@")
    fi
}

# Whether NAME is `none` or a variant of variants.tsv.
known_variant() { # $1 name
    [ "$1" = none ] || awk -F'\t' -v v="$1" '$1 == v {found=1} END {exit !found}' "$PEER_DIR/variants.tsv"
}

# The catalogue the runs use (its schema says which profile keys the harness knows).
catalogue_root() { echo "${PEER_CATALOGUE_ROOT:-$PEER_REPO}"; }

require_root() {
    [ "$(id -u)" = 0 ] || die "run as root (installs packages, binds services, writes /etc/postfix)"
}
