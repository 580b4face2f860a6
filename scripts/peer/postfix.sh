# Sourced by start.sh: Postfix as the operator's submission service (main.cf, master.cf and the
# lookup tables under $PEER_PF_MAPS). Variants relax one rule each (see misconfig.sh).

peer_postfix_maps() {
    local m=$PEER_PF_MAPS
    mkdir -p "$m"
    # OPE/SUB.02: SASL login -> the addresses it may use as envelope sender
    # (reject_authenticated_sender_login_mismatch). Applicative addresses are listed (owned by
    # themselves) so no SASL login can borrow them.
    {
        for a in $PEER_MAILBOXES; do echo "$a $a"; done
    } > "$m/sender-login"
    # OPE/SUB.03: recipients whose domain is outside the MSSanté whitelist are refused at RCPT.
    local alt
    alt=$(printf '%s\n' $PEER_WHITELIST | sed 's/\./\\./g' | paste -sd'|')
    printf '!/@(%s)$/ 550 5.7.1 Recipient domain is outside the MSSante whitelist\n' "$alt" > "$m/whitelist.regexp"
    # env (bench): the plain baseline listener delivers to the peer's own domain only.
    printf '!/@%s$/ 550 5.7.1 The plain listener accepts mail for %s only\n' "${PEER_DOMAIN//./\\.}" "$PEER_DOMAIN" > "$m/plain-recipient.regexp"
    # OPE/APP.02: a certificate-authenticated client may only send as its own mailbox.
    printf '/^/ 553 5.7.1 Sender address is not the mailbox of the client certificate\n' > "$m/cert-mismatch.regexp"
    # OPE/APP.01, OPE/APP.02: certificate-only applicative submission: the SHA-256 fingerprint
    # of each applicative certificate permits relaying (relay_clientcerts) and selects the one
    # sender it may use.
    local fp1 fp2
    fp1=$(pki_fingerprint "$PEER_PKI/app1.crt.pem")
    fp2=$(pki_fingerprint "$PEER_PKI/app2.crt.pem")
    printf '%s %s\n%s %s\n' "$fp1" "$PEER_APP1" "$fp2" "$PEER_APP2" > "$m/relay-clientcerts"
    printf '%s peer_app1\n%s peer_app2\n' "$fp1" "$fp2" > "$m/ccert-senders"
    echo "$PEER_APP1 OK" > "$m/app1-sender"
    echo "$PEER_APP2 OK" > "$m/app2-sender"
    # env: the operator's mailboxes (LMTP to Dovecot). Postfix's default
    # smtpd_reject_unlisted_recipient=yes refuses any other local address at RCPT (550 5.1.1).
    printf '%s OK\n' $PEER_MAILBOXES > "$m/mailboxes"
    # OPE/MDN.01 (test material): the read-receipt responder gets its mail and a copy piped to
    # mdn_responder.py.
    echo "$PEER_MDN_RESPONDER $PEER_MDN_RESPONDER, responder@mdn-responder.peer.invalid" > "$m/virtual-alias"
    # env: other whitelisted domains: no inter-operator relay on loopback, the message is dropped.
    echo "mdn-responder.peer.invalid mdn-responder:" > "$m/transport"
    for d in $PEER_WHITELIST; do
        [ "$d" = "$PEER_DOMAIN" ] || echo "$d discard:no inter-operator relay in the peer" >> "$m/transport"
    done
    # Variant no-unknown-report: the operator's mailboxes keep their LMTP delivery, any other
    # address of its domain is silently dropped.
    if [ "$PEER_VARIANT" = no-unknown-report ]; then
        printf '%s lmtp:unix:private/mssconf-peer-lmtp\n' $PEER_MAILBOXES >> "$m/transport"
        printf '/@%s$/ discard:unknown mailbox dropped\n' "${PEER_DOMAIN//./\\.}" > "$m/unknown-discard.regexp"
    fi
    # Variants strip-xmss and alter-xdm (content checks). A ZIP archive's base64 starts "UEsDB".
    printf '/^X-MSS-/ IGNORE\n' > "$m/strip-xmss.regexp"
    printf '/^UEsDB(.*)$/ REPLACE UEsDC${1}\n' > "$m/alter-xdm.regexp"
}

# Settings that only a variant writes (the correct peer keeps Postfix's default).
peer_postfix_variant_lines() {
    local m=$PEER_PF_MAPS
    case "$PEER_VARIANT" in
        weak-dh) echo "# variant weak-dh (OPE/TLS.08): 1024-bit DH parameters for the DHE suites"
            echo "smtpd_tls_dh1024_param_file = $PEER_PKI/dh1024.pem" ;;
        no-dsn) echo "# variant no-dsn (OPE/DSN.01): DSN not announced"
            echo "smtpd_discard_ehlo_keywords = dsn" ;;
        no-unknown-report) echo "# variant no-unknown-report (OPE/DSN.02): unknown local recipients accepted, then dropped"
            echo "smtpd_reject_unlisted_recipient = no" ;;
        strip-xmss) echo "# variant strip-xmss (OPE/MSG.01): X-MSS-* headers removed"
            echo "header_checks = regexp:$m/strip-xmss.regexp" ;;
        alter-xdm) echo "# variant alter-xdm (OPE/MSG.02): the XDM archive altered in transit"
            echo "body_checks = regexp:$m/alter-xdm.regexp" ;;
    esac
}

peer_postfix_main() {
    local m=$PEER_PF_MAPS protocols=">=TLSv1.2" auth_only=yes level=encrypt
    [ "$PEER_VARIANT" = tls10 ] && protocols=">=TLSv1"
    # `encrypt` implies AUTH only after TLS: the variant has to lower it to `may`.
    [ "$PEER_VARIANT" = auth-before-tls ] && { auth_only=no; level=may; }
    [ "$PEER_VARIANT" = no-starttls ] && level=none
    local sender="reject_authenticated_sender_login_mismatch, check_ccert_access texthash:$m/ccert-senders"
    # The variant forgets the login <-> sender binding; the certificate <-> mailbox binding of
    # applicative submission (OPE/APP.02) stays.
    [ "$PEER_VARIANT" = no-sender-check ] && sender="check_ccert_access texthash:$m/ccert-senders"
    local recipient="check_recipient_access regexp:$m/whitelist.regexp"
    [ "$PEER_VARIANT" = no-whitelist ] && recipient=""
    local relay="permit_sasl_authenticated, permit_tls_clientcerts, reject"
    [ "$PEER_VARIANT" = open-submission ] && relay="permit_sasl_authenticated, permit_tls_clientcerts, permit_mynetworks, reject"
    local cafile=$PEER_PKI/ca.pem cert=$PEER_PKI/server.crt.pem key=$PEER_PKI/server.key.pem
    [ "$PEER_VARIANT" = foreign-client-ca ] && cafile=$PEER_PKI/ca-and-foreign.pem
    [ "$PEER_VARIANT" = untrusted-server-cert ] && { cert=$PEER_PKI/server-foreign.crt.pem; key=$PEER_PKI/server-foreign.key.pem; }
    [ "$PEER_VARIANT" = revoked-server-cert ] && { cert=$PEER_PKI/server-revoked.crt.pem; key=$PEER_PKI/server-revoked.key.pem; }
    local size=$PEER_MAX_SIZE transport="texthash:$m/transport" outside="error:5.7.1 the mssconf peer delivers nothing outside this machine"
    # The variant relays outside the whitelist: the message is "sent" (dropped here).
    [ "$PEER_VARIANT" = no-whitelist ] && outside="discard:outside recipient (variant no-whitelist)"
    [ "$PEER_VARIANT" = no-size-limit ] && size=0
    [ "$PEER_VARIANT" = no-unknown-report ] && transport="texthash:$m/transport, regexp:$m/unknown-discard.regexp"
    # Every line differs from Postfix 3.7's default; the comment names the requirement that
    # needs it, or `env` for the test machine (loopback, logs, no outside delivery).
    cat > /etc/postfix/main.cf <<CONF
# Written by mssconf scripts/peer/start.sh (variant: ${PEER_VARIANT:-none}). Re-run rewrites it.
# env: current defaults, no backwards-compatibility warnings
compatibility_level = 3.6
# env: names of the fictitious operator
myhostname = $PEER_SERVER_NAME
mydomain = $PEER_DOMAIN
myorigin = \$myhostname
mydestination = localhost
# env: loopback only, IPv4
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
# env: nothing leaves the machine: no SMTP client delivery (hence no DNS lookup) at all; such
# mail bounces at once (variant no-whitelist: it is dropped as if relayed).
default_transport = $outside
relay_transport = $outside
# env: no local aliases, own log file (no syslog in the container)
alias_maps =
alias_database =
maillog_file = $PEER_LOG/postfix.log

# OPE/SUB.04: the operator's size limit, announced with SIZE (RFC 1870)
message_size_limit = $size
# env: the operator's mailboxes, delivered by LMTP to Dovecot
virtual_mailbox_domains = $PEER_DOMAIN
virtual_mailbox_maps = texthash:$m/mailboxes
virtual_transport = lmtp:unix:private/mssconf-peer-lmtp
transport_maps = $transport
# OPE/MDN.01 (test material): copy of the responder's mail to mdn_responder.py
virtual_alias_maps = texthash:$m/virtual-alias
$(peer_postfix_variant_lines)

# OPE/TLS.05: the server certificate of the operator's PKI
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
# OPE/APP.01, OPE/APP.02: client certificates asked for and checked against the operator's CA
smtpd_tls_CAfile = $cafile
smtpd_tls_ask_ccert = yes
smtpd_tls_fingerprint_digest = sha256
# OPE/TLS.02: TLS 1.2 minimum
smtpd_tls_protocols = $protocols
smtpd_tls_mandatory_protocols = $protocols
# OPE/TLS.04: exactly the TLS 1.2 suites of SC.MSS/CONF.03
smtpd_tls_ciphers = high
smtpd_tls_mandatory_ciphers = high
tls_high_cipherlist = $(peer_cipherlist)
tls_preempt_cipherlist = yes

# OPE/AUTH.01, OPE/AUTH.05: SASL (XOAUTH2, OAUTHBEARER) by Dovecot, on the submission ports only
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/mssconf-peer-auth
# OPE/SUB.02: envelope sender bound to the SASL login
smtpd_sender_login_maps = texthash:$m/sender-login
# OPE/APP.01, OPE/APP.02: the applicative certificates, and the sender each may use
relay_clientcerts = texthash:$m/relay-clientcerts
smtpd_restriction_classes = peer_app1, peer_app2
peer_app1 = check_sender_access texthash:$m/app1-sender, check_sender_access regexp:$m/cert-mismatch.regexp
peer_app2 = check_sender_access texthash:$m/app2-sender, check_sender_access regexp:$m/cert-mismatch.regexp

# Parameters of the submission services (master.cf); the port 25 listener is off.
# OPE/TLS.06: AUTH only after TLS
peer_tls_auth_only = $auth_only
# OPE/TLS.01: STARTTLS, required before anything else
peer_tls_security_level = $level
# OPE/SUB.02, OPE/APP.02
peer_sender_restrictions = $sender
# OPE/SUB.03
peer_recipient_restrictions = $recipient
# OPE/SUB.01: nothing is relayed nor delivered without authentication (SASL or certificate)
peer_relay_restrictions = $relay
CONF
}

peer_postfix_master() {
    # The submission block of Debian's master.cf (commented out there), with our parameters.
    local common="
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=\$peer_tls_auth_only
  -o smtpd_sender_restrictions=\$peer_sender_restrictions
  -o smtpd_recipient_restrictions=\$peer_recipient_restrictions
  -o smtpd_relay_restrictions=\$peer_relay_restrictions"
    local wrapper="
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt"
    # OPE/TLS.07: implicit TLS on the second port (the variant serves it in clear).
    [ "$PEER_VARIANT" = no-implicit-tls ] && wrapper="
  -o smtpd_tls_security_level=none"
    cat > /etc/postfix/master.cf <<CONF
# Written by mssconf scripts/peer/start.sh. env: no chroot (everything stays on this test host).
# OPE/TLS.01: submission with STARTTLS required
127.0.0.1:$PEER_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-submission
  -o smtpd_tls_security_level=\$peer_tls_security_level$common
# OPE/TLS.07: submission over implicit TLS
127.0.0.1:$PEER_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-submissions$wrapper$common
# env (bench): plain loopback listener for smtp-source (no scenario uses it)
127.0.0.1:$PEER_PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-plain
  -o smtpd_tls_security_level=none
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=check_recipient_access,regexp:$PEER_PF_MAPS/plain-recipient.regexp,permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
# OPE/MDN.01 (test material): the automatic read-receipt responder
mdn-responder unix -    n       n       -       -       pipe
  flags=R user=nobody argv=$PEER_PYTHON $PEER_STATE/bin/mdn_responder.py $PEER_MDN_RESPONDER
CONF
}

peer_postfix_configure() {
    # The packaged master.cf is kept once; main.cf and master.cf are ours from here on.
    [ -e /etc/postfix/master.cf.mssconf-orig ] || ! grep -q '^smtp .*inet' /etc/postfix/master.cf 2>/dev/null ||
        cp /etc/postfix/master.cf /etc/postfix/master.cf.mssconf-orig
    peer_postfix_maps
    mkdir -p "$PEER_STATE/bin"
    install -m 755 "$PEER_DIR/mdn_responder.py" "$PEER_STATE/bin/mdn_responder.py"
    peer_postfix_main
    peer_postfix_master
    # `postfix start` runs the full `postfix check`; here only what postconf says of main.cf.
    local out
    out=$(postconf -n 2>&1 >/dev/null) || { printf '%s\n' "$out" >&2; die "postconf refused main.cf"; }
    [ -z "$out" ] || log "postconf: $out"
}
