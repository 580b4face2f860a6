# Sourced by start.sh: Postfix as the operator's submission service (main.cf, master.cf and the
# lookup tables under $PEER_PF_MAPS). Variants relax one rule each (see misconfig.sh).

# The six TLS 1.2 suites of SC.MSS/CONF.03 (OpenSSL names); the target profile lists the same.
PEER_TLS12_SUITES="ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256"
# What the tls10 variant adds: TLS 1.0 needs a suite TLS 1.0 can use, and OpenSSL 3's default
# security level refuses TLS 1.0 altogether.
PEER_LEGACY_SUITE="ECDHE-RSA-AES256-SHA"

peer_cipherlist() {
    if [ "$PEER_VARIANT" = tls10 ]; then
        echo "$PEER_TLS12_SUITES:$PEER_LEGACY_SUITE:@SECLEVEL=0"
    else
        echo "$PEER_TLS12_SUITES"
    fi
}

peer_postfix_maps() {
    local m=$PEER_PF_MAPS
    mkdir -p "$m"
    # SASL login -> the addresses it may use as envelope sender (reject_*_sender_login_mismatch).
    # Applicative addresses are listed (owned by themselves) so no SASL login can borrow them.
    {
        for a in $PEER_MAILBOXES; do echo "$a $a"; done
    } > "$m/sender-login"
    # Recipients whose domain is outside the MSSanté whitelist are refused at RCPT.
    local alt
    alt=$(printf '%s\n' $PEER_WHITELIST | sed 's/\./\\./g' | paste -sd'|')
    printf '!/@(%s)$/ 550 5.7.1 Recipient domain is outside the MSSante whitelist\n' "$alt" > "$m/whitelist.regexp"
    printf '/^/ 530 5.7.0 Authentication required\n' > "$m/need-auth.regexp"
    # The plain baseline listener delivers to the peer's own domain only.
    printf '!/@%s$/ 550 5.7.1 The plain listener accepts mail for %s only\n' "${PEER_DOMAIN//./\\.}" "$PEER_DOMAIN" > "$m/plain-recipient.regexp"
    printf '/^/ 553 5.7.1 Sender address is not the mailbox of the client certificate\n' > "$m/cert-mismatch.regexp"
    # Certificate-only applicative submission: the SHA-256 fingerprint of each applicative
    # certificate permits relaying (relay_clientcerts) and selects the one sender it may use.
    local fp1 fp2
    fp1=$(pki_fingerprint "$PEER_PKI/app1.crt.pem")
    fp2=$(pki_fingerprint "$PEER_PKI/app2.crt.pem")
    printf '%s %s\n%s %s\n' "$fp1" "$PEER_APP1" "$fp2" "$PEER_APP2" > "$m/relay-clientcerts"
    printf '%s peer_app1\n%s peer_app2\n' "$fp1" "$fp2" > "$m/ccert-senders"
    echo "$PEER_APP1 OK" > "$m/app1-sender"
    echo "$PEER_APP2 OK" > "$m/app2-sender"
    # Local mailboxes (LMTP to Dovecot). Unknown local recipients are accepted at RCPT and
    # bounced by Dovecot, so that a failure DSN exists (OPE/DSN.02).
    printf '%s OK\n' $PEER_MAILBOXES > "$m/mailboxes"
    # The read-receipt responder gets its mail and a copy piped to mdn_responder.py.
    echo "$PEER_MDN_RESPONDER $PEER_MDN_RESPONDER, responder@mdn-responder.peer.invalid" > "$m/virtual-alias"
    # Other whitelisted domains: no inter-operator relay on loopback, the message is dropped.
    echo "mdn-responder.peer.invalid mdn-responder:" > "$m/transport"
    for d in $PEER_WHITELIST; do
        [ "$d" = "$PEER_DOMAIN" ] || echo "$d discard:no inter-operator relay in the peer" >> "$m/transport"
    done
}

peer_postfix_main() {
    local m=$PEER_PF_MAPS protocols=">=TLSv1.2" auth_only=yes level=encrypt
    [ "$PEER_VARIANT" = tls10 ] && protocols=">=TLSv1"
    # `encrypt` implies AUTH only after TLS: the variant has to lower it to `may`.
    [ "$PEER_VARIANT" = auth-before-tls ] && { auth_only=no; level=may; }
    local sender="reject_non_fqdn_sender, reject_authenticated_sender_login_mismatch, permit_sasl_authenticated, check_ccert_access texthash:$m/ccert-senders, check_sender_access regexp:$m/need-auth.regexp"
    local milters="inet:127.0.0.1:$PEER_MILTER_PORT"
    [ "$PEER_VARIANT" = no-sender-check ] && milters=""
    # The variant forgets the login <-> sender binding (envelope and From:); the certificate
    # <-> mailbox binding of applicative submission (OPE/APP.02) stays.
    [ "$PEER_VARIANT" = no-sender-check ] &&
        sender="reject_non_fqdn_sender, permit_sasl_authenticated, check_ccert_access texthash:$m/ccert-senders, check_sender_access regexp:$m/need-auth.regexp"
    local recipient="reject_non_fqdn_recipient, check_recipient_access regexp:$m/whitelist.regexp, permit"
    [ "$PEER_VARIANT" = no-whitelist ] && recipient="reject_non_fqdn_recipient, permit"
    cat > /etc/postfix/main.cf <<CONF
# Written by mssconf scripts/peer/start.sh (variant: ${PEER_VARIANT:-none}). Re-run rewrites it.
compatibility_level = 3.6
myhostname = $PEER_SERVER_NAME
mydomain = $PEER_DOMAIN
myorigin = \$myhostname
mydestination = localhost
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost =
# Nothing leaves the machine, even in a variant that accepts outside recipients: no SMTP client
# delivery (hence no DNS lookup) at all; such mail bounces at once.
default_transport = error:5.7.1 the mssconf peer delivers nothing outside this machine
relay_transport = error:5.7.1 the mssconf peer delivers nothing outside this machine
biff = no
append_dot_mydomain = no
smtputf8_enable = yes
alias_maps =
alias_database =
maillog_file = $PEER_LOG/postfix.log
queue_directory = /var/spool/postfix

message_size_limit = $PEER_MAX_SIZE
mailbox_size_limit = 0

virtual_mailbox_domains = $PEER_DOMAIN
virtual_mailbox_maps = texthash:$m/mailboxes
virtual_transport = lmtp:unix:private/mssconf-peer-lmtp
transport_maps = texthash:$m/transport
virtual_alias_maps = texthash:$m/virtual-alias
# Bounces and DSNs leave fast: the harness waits for them.
delay_warning_time = 0
bounce_queue_lifetime = 1h
maximal_queue_lifetime = 1h

smtpd_tls_cert_file = $PEER_PKI/server.crt.pem
smtpd_tls_key_file = $PEER_PKI/server.key.pem
smtpd_tls_CAfile = $PEER_PKI/ca.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_fingerprint_digest = sha256
smtpd_tls_protocols = $protocols
smtpd_tls_mandatory_protocols = $protocols
smtpd_tls_ciphers = high
smtpd_tls_mandatory_ciphers = high
tls_high_cipherlist = $(peer_cipherlist)
tls_preempt_cipherlist = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
smtp_tls_security_level = none

smtpd_sasl_type = dovecot
smtpd_sasl_path = private/mssconf-peer-auth
smtpd_sasl_auth_enable = no
smtpd_sasl_authenticated_header = no
smtpd_sender_login_maps = texthash:$m/sender-login
relay_clientcerts = texthash:$m/relay-clientcerts
smtpd_restriction_classes = peer_app1, peer_app2
peer_app1 = check_sender_access texthash:$m/app1-sender, check_sender_access regexp:$m/cert-mismatch.regexp
peer_app2 = check_sender_access texthash:$m/app2-sender, check_sender_access regexp:$m/cert-mismatch.regexp

# The port 25 listener is off: only the submission services of master.cf listen.
peer_tls_auth_only = $auth_only
peer_tls_security_level = $level
peer_sender_restrictions = $sender
peer_recipient_restrictions = $recipient
peer_relay_restrictions = permit_sasl_authenticated, permit_tls_clientcerts, reject
# From: must be the envelope sender (from_milter.py); without the milter, mail waits (4xx).
peer_smtpd_milters = $milters
milter_default_action = tempfail
milter_protocol = 6
CONF
}

peer_postfix_master() {
    local common="
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=\$peer_tls_auth_only
  -o smtpd_delay_reject=no
  -o smtpd_reject_unlisted_recipient=no
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=\$peer_sender_restrictions
  -o smtpd_recipient_restrictions=\$peer_recipient_restrictions
  -o smtpd_relay_restrictions=\$peer_relay_restrictions
  -o smtpd_milters=\$peer_smtpd_milters
  -o smtpd_tls_security_level=\$peer_tls_security_level"
    cat > /etc/postfix/master.cf <<CONF
# Written by mssconf scripts/peer/start.sh. No chroot: everything stays on this test host.
127.0.0.1:$PEER_SMTP_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-submission$common
127.0.0.1:$PEER_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-submissions
  -o smtpd_tls_wrappermode=yes$common
127.0.0.1:$PEER_PLAIN_PORT inet n - n - - smtpd
  -o syslog_name=postfix/peer-plain
  -o smtpd_sasl_auth_enable=no
  -o smtpd_tls_security_level=none
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=check_recipient_access,regexp:$PEER_PF_MAPS/plain-recipient.regexp,permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_milters=\$peer_smtpd_milters
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
