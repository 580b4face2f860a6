# Sourced by start.sh and stop.sh: starting and stopping the peer's processes. Each process is
# known by a pid file under $PEER_RUN (Postfix and Dovecot by their own pid files, which the
# marker files below say we started); nothing is ever looked up by name.

PEER_POSTFIX_PID=/var/spool/postfix/pid/master.pid

# Starts a helper process in its own session as nobody (it needs no privilege: high loopback
# port, no file written), detached from our output, and records its pid.
peer_spawn() { # $1 name, rest: command
    local name=$1
    shift
    setsid setpriv --reuid=nobody --regid=nogroup --clear-groups "$@" \
        >>"$PEER_LOG/$name.log" 2>&1 < /dev/null &
    echo $! > "$PEER_RUN/$name.pid"
}

# The PSC stand-in of a stack: $1 HTTP port, $2 "smtp,smtps,imap,imaps" ports its autoconfig
# names, $3 directory (owned by nobody) for the revoked token file and, under grants/, the
# OAuth 2.0 clients' secrets and refresh tokens (mode 600, drawn at each start; profile.sh).
peer_start_psc() {
    local port=${1:-$PEER_HTTP_PORT} ports=${2:-$PEER_SMTP_PORT,$PEER_SMTPS_PORT,$PEER_IMAP_PORT,$PEER_IMAPS_PORT}
    local dir=${3:-$PEER_STATE/psc}
    install -d -o nobody -g nogroup -m 700 "$dir" "$dir/grants"
    local args=(--port "$port" --domain "$PEER_DOMAIN" --mail-host 127.0.0.1 --mail-ports "$ports"
        --revoked-token-file "$dir/revoked-token" --crl "$PEER_PKI/crl.pem"
        --grant-dir "$dir/grants" --grant-lifetime "$PEER_GRANT_LIFETIME")
    local d
    for d in $PEER_TOKEN_MAILBOXES; do args+=(--mailbox "$d"); done
    for d in $PEER_WHITELIST; do args+=(--whitelist "$d"); done
    [ "$PEER_VARIANT" = accept-expired-token ] && args+=(--accept-expired)
    [ "$PEER_VARIANT" = accept-revoked-token ] && args+=(--accept-revoked)
    rm -f "$dir/revoked-token" "$dir"/grants/*
    peer_spawn psc "$PEER_PYTHON" "$PEER_DIR/psc_server.py" "${args[@]}"
    wait_port 127.0.0.1 "$port" 10 || die "token/introspection endpoint did not start (see $PEER_LOG/psc.log)"
    local i
    for i in $(seq 50); do
        [ -s "$dir/revoked-token" ] && [ -s "$dir/grants/$PEER_ORG1.refresh-token" ] && break
        sleep 0.1
    done
}

# Plain TCP relay 127.0.0.1:port -> 127.0.0.2:port (TLS stays end to end). See dovecot.sh.
peer_start_relay() { # $1 port, $2 name
    peer_spawn "relay-$2" socat "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork,backlog=64" "TCP:127.0.0.2:$1,bind=127.0.0.1"
    wait_port 127.0.0.1 "$1" 10 || die "relay $2 did not start (see $PEER_LOG/relay-$2.log)"
}

peer_start_dovecot() {
    # Daemons get no terminal or pipe of ours: a caller piping our output would wait forever.
    dovecot -c "$DC_DIR/dovecot.conf" </dev/null >>"$DC_LOG" 2>&1 || die "dovecot did not start (see $DC_LOG)"
    touch "$PEER_RUN/dovecot.started"
    wait_port 127.0.0.2 "$DC_IMAP_PORT" 15 || die "dovecot is not listening on 127.0.0.2:$DC_IMAP_PORT"
    wait_port 127.0.0.2 "$DC_IMAPS_PORT" 15 || die "dovecot is not listening on 127.0.0.2:$DC_IMAPS_PORT"
}

peer_start_postfix() {
    postfix start </dev/null >"$PEER_LOG/postfix-start.out" 2>&1 ||
        { cat "$PEER_LOG/postfix-start.out" >&2; die "postfix did not start (see $PEER_LOG/postfix.log)"; }
    touch "$PEER_RUN/postfix.started"
    wait_port 127.0.0.1 "$PEER_SMTP_PORT" 15 || die "postfix is not listening on $PEER_SMTP_PORT"
    wait_port 127.0.0.1 "$PEER_SMTPS_PORT" 15 || die "postfix is not listening on $PEER_SMTPS_PORT"
}

peer_stop_all() {
    if [ -e "$PEER_RUN/postfix.started" ]; then
        if live_pid "$PEER_POSTFIX_PID" >/dev/null; then
            postfix stop </dev/null >/dev/null 2>&1 || log "postfix stop failed"
            local i
            for i in $(seq 100); do live_pid "$PEER_POSTFIX_PID" >/dev/null || break; sleep 0.05; done
        fi
        rm -f "$PEER_RUN/postfix.started"
    fi
    if [ -e "$PEER_RUN/dovecot.started" ]; then
        stop_pidfile "$DC_DIR/run/master.pid" dovecot "$DC_DIR/dovecot.conf"
        rm -f "$PEER_RUN/dovecot.started"
    fi
    local f
    for f in "$PEER_RUN"/relay-*.pid; do
        [ -e "$f" ] && stop_pidfile "$f" "$(basename "$f" .pid)" "TCP:127.0.0.2:"
    done
    [ -e "$PEER_RUN/psc.pid" ] && stop_pidfile "$PEER_RUN/psc.pid" psc "$PEER_DIR/psc_server.py"
    # A milter left by an older version of these scripts.
    [ -e "$PEER_RUN/milter.pid" ] && stop_pidfile "$PEER_RUN/milter.pid" milter from_milter.py
    return 0
}

# Dovecot re-reads its configuration on HUP (doveadm reload); listeners follow.
peer_reload_dovecot() {
    doveadm -c "$DC_DIR/dovecot.conf" reload </dev/null >>"$DC_LOG" 2>&1 || die "dovecot reload failed (see $DC_LOG)"
    wait_port 127.0.0.2 "$DC_IMAP_PORT" 15 || die "dovecot is not listening on 127.0.0.2:$DC_IMAP_PORT"
    wait_port 127.0.0.2 "$DC_IMAPS_PORT" 15 || die "dovecot is not listening on 127.0.0.2:$DC_IMAPS_PORT"
}

peer_reload_postfix() {
    postfix reload </dev/null >"$PEER_LOG/postfix-start.out" 2>&1 ||
        { cat "$PEER_LOG/postfix-start.out" >&2; die "postfix reload failed"; }
}
