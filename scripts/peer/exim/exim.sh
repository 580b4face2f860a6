# Sourced by exim/start.sh and exim/misconfig.sh: the Exim configuration of the second stack's
# submission service. Exim 4.96 as Debian builds it (GnuTLS). Every option set here differs
# from Exim's default; the comment names the requirement that needs it, or `env` for the test
# machine. Variants (variants.tsv) change one rule each.

# TLS 1.2 suites as a GnuTLS priority string: ECDHE-RSA with AES-GCM, AES-256-CBC-SHA384 and
# AES-128-CBC-SHA256, i.e. four of the six suites of SC.MSS/CONF.03 (C030 C02F C028 C027).
# GnuTLS combines key exchanges, ciphers and MACs: adding DHE-RSA would also enable
# DHE-RSA-AES-*-CBC-SHA256, outside the list, so the two DHE-RSA-GCM suites are left out.
exim_priority() {
    local vers="-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" kx="-KX-ALL:+ECDHE-RSA" mac="-MAC-ALL:+AEAD:+SHA256:+SHA384"
    local ciphers="-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+AES-256-CBC:+AES-128-CBC"
    case "$PEER_VARIANT" in
        tls10) vers="$vers:+VERS-TLS1.0"; mac="$mac:+SHA1" ;;
        static-rsa) kx="$kx:+RSA" ;;  # RSA-AES-GCM and RSA-AES-CBC-SHA256 (static RSA)
        cbc-sha1) mac="$mac:+SHA1" ;;
    esac
    echo "NORMAL:$vers:$kx:$ciphers:$mac:%SERVER_PRECEDENCE"
}

# TLS material readable by the Exim user (Exim reads it after dropping privileges).
exim_tls_files() {
    local t=$EXIM_DIR/tls
    install -d -m 750 -o root -g "$EXIM_USER" "$t"
    local f
    for f in server.crt.pem server.key.pem server-foreign.crt.pem server-foreign.key.pem server-revoked.crt.pem server-revoked.key.pem ca.pem ca-and-foreign.pem crl.pem; do
        install -m 640 -o root -g "$EXIM_USER" "$PEER_PKI/$f" "$t/$f"
    done
}

exim_configure() {
    install -d -m 750 -o "$EXIM_USER" -g "$EXIM_USER" "$EXIM_SPOOL"
    install -d -m 755 "$EXIM_DIR"
    chown "$EXIM_USER:$EXIM_USER" "$PEER_LOG"
    exim_tls_files
    install -m 755 "$PEER_DIR/mdn_responder.py" "$EXIM_DIR/mdn_responder.py"
    exim_conf > "$EXIM_CONF.tmp"
    chmod 644 "$EXIM_CONF.tmp"
    mv "$EXIM_CONF.tmp" "$EXIM_CONF"
    exim_trust_conf
    local out
    out=$("$EXIM_BIN" -C "$EXIM_CONF" -bV 2>&1) || { printf '%s\n' "$out" >&2; die "exim refused $EXIM_CONF"; }
}

# Debian's exim4 keeps root privilege with -C only for a file named in its compiled-in
# TRUSTED_CONFIG_LIST, /etc/exim4/trusted_configs (root-owned; one path a line). Without it the
# daemon runs unprivileged and cannot run the read-receipt pipe as nobody.
exim_trust_conf() {
    local list=/etc/exim4/trusted_configs
    install -d -m 755 /etc/exim4
    [ -e "$list" ] || install -m 644 /dev/null "$list"
    grep -qxF "$EXIM_CONF" "$list" || echo "$EXIM_CONF" >> "$list"
}

exim_list() { printf '%s\n' "$@" | paste -sd:; }

exim_conf() {
    local t=$EXIM_DIR/tls v=$PEER_VARIANT
    local cert=$t/server.crt.pem key=$t/server.key.pem ca=$t/ca.pem size=$PEER_MAX_SIZE dsn='*'
    [ "$v" = untrusted-server-cert ] && { cert=$t/server-foreign.crt.pem; key=$t/server-foreign.key.pem; }
    [ "$v" = revoked-server-cert ] && { cert=$t/server-revoked.crt.pem; key=$t/server-revoked.key.pem; }
    # OPE/APP.02: the root's CRL (the foreign-client-ca variant trusts a CA that has none).
    local crl="tls_crl = $t/crl.pem"
    [ "$v" = foreign-client-ca ] && { ca=$t/ca-and-foreign.pem; crl="# tls_crl: none (variant foreign-client-ca)"; }
    [ "$v" = no-size-limit ] && size=0
    [ "$v" = no-dsn ] && dsn=
    local tls_on_connect=$PEER_SMTPS_PORT tls_adv='*'
    # The variant offers no STARTTLS on the submission port (implicit TLS stays).
    [ "$v" = no-starttls ] && tls_adv="\${if eq{\$received_port}{$PEER_SMTP_PORT}{}{*}}"
    [ "$v" = no-implicit-tls ] && tls_on_connect=
    # OPE/TLS.06: AUTH offered only under TLS (the variant offers it in clear too).
    local adv='server_advertise_condition = ${if def:tls_in_cipher}'
    [ "$v" = auth-before-tls ] && adv='server_advertise_condition = true'
    cat <<CONF
# Written by mssconf scripts/peer/exim (variant: $v). Re-run rewrites it.
# env: a private instance: own binary path, spool, logs, pid, loopback ports
exim_path = $EXIM_BIN
exim_user = $EXIM_USER
exim_group = $EXIM_USER
spool_directory = $EXIM_SPOOL
log_file_path = $PEER_LOG/exim-%s.log
pid_file_path = $PEER_RUN/exim.pid
# OPE/TLS.01 (submission, STARTTLS), OPE/TLS.07 (implicit TLS); env: plain loopback port for
# the read-receipt responder and the load baseline
local_interfaces = <; 127.0.0.1.$PEER_SMTP_PORT ; 127.0.0.1.$PEER_SMTPS_PORT ; 127.0.0.1.$PEER_PLAIN_PORT
tls_on_connect_ports = $tls_on_connect
# env: names of the fictitious operator
primary_hostname = $PEER_SERVER_NAME
qualify_domain = $PEER_DOMAIN
domainlist local_domains = $PEER_DOMAIN
# OPE/SUB.03: the MSSanté whitelist
domainlist whitelist = $(exim_list $PEER_WHITELIST)
addresslist mailboxes = $(exim_list $PEER_MAILBOXES)
# env: no DNS on loopback
host_lookup =
rfc1413_hosts =
# env: deliveries right away, failures reported at once
queue_only = false
ignore_bounce_errors_after = 1h
timeout_frozen_after = 1h

# OPE/SUB.04: the operator's size limit, announced with SIZE
message_size_limit = $size
# OPE/DSN.01: DSN announced (RFC 3461)
dsn_advertise_hosts = $dsn
# OPE/SUB.05: UTF-8 addresses (RFC 6531)
smtputf8_advertise_hosts = *

# OPE/TLS.01: STARTTLS offered
tls_advertise_hosts = $tls_adv
# OPE/TLS.05: the operator's server certificate
tls_certificate = $cert
tls_privatekey = $key
# OPE/TLS.02, OPE/TLS.04: TLS 1.2 minimum, TLS 1.2 suites of the allow list
tls_require_ciphers = $(exim_priority)
# OPE/APP.01, OPE/APP.02: client certificates asked for, checked against the operator's CA
tls_verify_certificates = $ca
tls_try_verify_hosts = *
$crl

acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_mail:
  # env: the plain loopback port (read-receipt responder, load baseline)
  accept condition = \${if eq{\$received_port}{$PEER_PLAIN_PORT}}
$(exim_acl_auth)
$(exim_acl_sender)
  accept

acl_check_rcpt:
  accept condition = \${if eq{\$received_port}{$PEER_PLAIN_PORT}}
         domains = +local_domains
  deny   condition = \${if eq{\$received_port}{$PEER_PLAIN_PORT}}
         message = 550 5.7.1 The plain listener accepts mail for $PEER_DOMAIN only
$(exim_acl_whitelist)
  accept

begin routers

$(exim_router_unknown)
# env: the other whitelisted domains: no inter-operator relay in the peer, the message is dropped
other_operators:
  driver = redirect
  domains = ! +local_domains
  data = :blackhole:

# OPE/MDN.01 (test material): a copy of the responder's mail goes to mdn_responder.py
mdn_responder:
  driver = accept
  domains = +local_domains
  local_parts = ${PEER_MDN_RESPONDER%@*}
  transport = mdn_pipe
  unseen

# env: every address of the operator's domain goes to Dovecot by LMTP; an unknown one is
# refused there (550 5.1.1) and Exim sends the failure DSN (OPE/DSN.02)
mailboxes:
  driver = accept
  domains = +local_domains
  transport = dovecot_lmtp

begin transports

dovecot_lmtp:
  driver = lmtp
  socket = $DC_LMTP_SOCKET
  user = $EXIM_USER
  batch_max = 50
$(exim_transport_filter)

mdn_pipe:
  driver = pipe
  command = $PEER_PYTHON $EXIM_DIR/mdn_responder.py --smtp 127.0.0.1:$PEER_PLAIN_PORT $PEER_MDN_RESPONDER
  user = nobody
  group = nogroup
  return_path_add
  temp_errors = 75

begin retry
# env: give up on a failing delivery within the hour
*  *  F,1h,1m

begin authenticators

# OPE/AUTH.01, OPE/AUTH.05: bearer tokens, checked by the second Dovecot instance (oauth2
# passdb against the PSC introspection endpoint)
xoauth2:
  driver = dovecot
  public_name = XOAUTH2
  server_socket = $DC_AUTH_SOCKET
  server_set_id = \$auth1
  $adv

oauthbearer:
  driver = dovecot
  public_name = OAUTHBEARER
  server_socket = $DC_AUTH_SOCKET
  server_set_id = \$auth1
  $adv

# OPE/APP.01 (SC.MSS/CONF.12): applicative mailboxes log in with a client certificate of the
# operator's CA and AUTH PLAIN naming that very mailbox, without password. (Exim's `tls`
# authenticator would log the client in at the handshake, before any AUTH: not the spec form.)
app_plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and{ {eq{\$tls_in_certificate_verified}{1}} \\
      {eqi{\$auth2}{\${certextract{subject,CN}{\$tls_in_peercert}}}} \\
      {eq{\$auth3}{}} {inlist{\$auth2}{$(exim_list $PEER_APP1 $PEER_APP2)}} }}
  server_set_id = \$auth2
  $adv
CONF
}

exim_acl_auth() {
    [ "$PEER_VARIANT" = open-submission ] && { echo "  # variant open-submission (OPE/SUB.01): no authentication required"; return; }
    cat <<'ACL'
  # OPE/SUB.01: nothing is submitted without authentication
  deny   message = 530 5.7.0 Authentication required
         !authenticated = *
ACL
}

exim_acl_sender() {
    [ "$PEER_VARIANT" = no-sender-check ] && { echo "  # variant no-sender-check (OPE/SUB.02): the sender is not bound to the login"; return; }
    cat <<'ACL'
  # OPE/SUB.02, OPE/APP.02: the envelope sender is the authenticated mailbox
  deny   message = 553 5.7.1 Sender address is not the authenticated mailbox
         authenticated = *
         !condition = ${if eqi{$sender_address}{$authenticated_id}}
ACL
}

exim_acl_whitelist() {
    [ "$PEER_VARIANT" = no-whitelist ] && { echo "  # variant no-whitelist (OPE/SUB.03)"; return; }
    cat <<'ACL'
  # OPE/SUB.03: recipient domains outside the whitelist are refused
  deny   message = 550 5.7.1 Recipient domain is outside the MSSante whitelist
         ! domains = +whitelist
ACL
}

exim_router_unknown() {
    [ "$PEER_VARIANT" = no-unknown-report ] || return 0
    cat <<'ROUTER'
# variant no-unknown-report (OPE/DSN.02): unknown local addresses silently dropped
unknown_dropped:
  driver = redirect
  domains = +local_domains
  condition = ${if !match_address{$local_part@$domain}{+mailboxes}}
  data = :blackhole:
ROUTER
}

exim_transport_filter() {
    case "$PEER_VARIANT" in
        strip-xmss) echo "  # variant strip-xmss (OPE/MSG.01)"
            echo '  headers_remove = X-MSS-*' ;;
        alter-xdm) echo "  # variant alter-xdm (OPE/MSG.02): one base64 character of the ZIP archive changed"
            echo "  transport_filter = /bin/sed -e s/^UEsDB/UEsDC/" ;;
    esac
    return 0
}
