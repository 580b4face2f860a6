# Sourced by the second stack's scripts: starting, reloading and stopping Exim (by its pid file,
# which the marker file says we started), on top of the first stack's daemons.sh (Dovecot, PSC,
# relays).
. "$PEER_DIR/daemons.sh"

exim_start() {
    # -bd daemon, -q1m queue runner (retries), detached from our output.
    "$EXIM_BIN" -C "$EXIM_CONF" -bd -q1m </dev/null >>"$PEER_LOG/exim-start.out" 2>&1 ||
        { tail -5 "$PEER_LOG/exim-start.out" >&2; die "exim did not start (see $PEER_LOG/exim-main.log, exim-panic.log)"; }
    touch "$PEER_RUN/exim.started"
    exim_wait_ports
}

exim_wait_ports() {
    local p
    for p in "$PEER_SMTP_PORT" "$PEER_SMTPS_PORT" "$PEER_PLAIN_PORT"; do
        wait_port 127.0.0.1 "$p" 15 || die "exim is not listening on 127.0.0.1:$p (see $PEER_LOG/exim-panic.log)"
    done
}

# Exim's daemon re-executes itself on HUP, reading the configuration again.
exim_reload() {
    local pid
    pid=$(live_pid "$PEER_RUN/exim.pid") || die "exim is not running"
    kill -HUP "$pid"
    sleep 0.3
    exim_wait_ports
}

exim_stop_all() {
    if [ -e "$PEER_RUN/exim.started" ]; then
        stop_pidfile "$PEER_RUN/exim.pid" exim "$EXIM_CONF"
        rm -f "$PEER_RUN/exim.started"
    fi
    peer_stop_all
}
