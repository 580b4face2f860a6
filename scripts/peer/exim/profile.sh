# Sourced by exim/start.sh and exim/misconfig.sh: the target profile of the running Exim +
# Dovecot stack (targets/local-peer-exim.yaml), written by the first stack's generator with
# this stack's name, version and applicative login form.
PROFILE_NAME=local-peer-exim
PROFILE_SERVICE=EximDovecot
PROFILE_WHAT="the local Exim + Dovecot peer (second stack)"
. "$PEER_DIR/profile.sh"

profile_version() {
    echo "exim-$("$EXIM_BIN" -C "$EXIM_CONF" -bV 2>/dev/null | sed -n 's/^Exim version \([^ ]*\).*/\1/p')-dovecot-$(dovecot --version 2>/dev/null | cut -d' ' -f1)"
}

profile_app_auth() {
    cat <<'YAML'
# Exim checks the client certificate itself: the spec form (certificate + AUTH PLAIN with the
# address, no password) on SMTP as on IMAP.
app_auth_form: plain
YAML
}

exim_write_profile() { peer_write_profile; }
