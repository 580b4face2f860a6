# Sourced by start.sh (and exim/start.sh): Dovecot as the operator's IMAP service and mailbox
# store (LMTP from the MTA), with its own configuration file, base_dir and instance name, so
# that Debian's default instance (/etc/dovecot) is neither used nor touched. Two instances can
# run side by side: the DC_* settings (common.sh; exim/common.sh sets the second stack's).


# The mailboxes are throwaway test data: on a tmpfs (PEER_MAIL_TMPFS=no keeps them on disk).
# On ext4, Dovecot's LMTP spent most of its time in inode allocation for the load bench's
# thousands of created and expunged message files (6.5 → 3.8 ms of CPU a delivery on tmpfs;
# docs/performance.md §3). A refused mount (no privilege for it) leaves the store on disk.
peer_mail_store() {
    mkdir -p "$DC_MAIL"
    if [ "${PEER_MAIL_TMPFS:-yes}" = yes ] && ! mountpoint -q "$DC_MAIL"; then
        mount -t tmpfs -o "size=${PEER_MAIL_TMPFS_SIZE:-2g},mode=0755" "$DC_INSTANCE-mail" "$DC_MAIL" \
            || log "tmpfs refused: mail store on disk"
    fi
}

peer_dovecot_users() {
    local d=$DC_DIR
    id vmail >/dev/null 2>&1 || useradd --system --home-dir /var/lib/mssconf-peer/mail --no-create-home --shell /usr/sbin/nologin vmail
    peer_mail_store
    chown vmail:vmail "$DC_MAIL"
    # userdb: every mailbox of the operator. Unknown addresses get a 550 from LMTP.
    : > "$d/users"
    for a in $PEER_MAILBOXES; do
        echo "$a::$(id -u vmail):$(id -g vmail)::$DC_MAIL/$a::" >> "$d/users"
    done
    # Applicative mailboxes log in with their certificate: EXTERNAL, or PLAIN with the address
    # as login and no password (SC.MSS/CONF.12). auth_ssl_username_from_cert makes the
    # certificate's CN the user; the PLAIN lookup key also holds %{cert} ("valid" only for a
    # certificate chaining to the peer CA, in date) and the login the client gave, so a PLAIN
    # login matches only with a valid certificate naming that very mailbox.
    : > "$d/app-passdb"
    : > "$d/app-plain-passdb"
    for a in $PEER_APP1 $PEER_APP2; do
        echo "$a:::::::nopassword=y" >> "$d/app-passdb"
        echo "valid/$a/$a:::::::nopassword=y user=$a" >> "$d/app-plain-passdb"
    done
    chmod 640 "$d/users" "$d/app-passdb" "$d/app-plain-passdb"
    chgrp dovecot "$d/users" "$d/app-passdb" "$d/app-plain-passdb"
}

peer_dovecot_conf() {
    local d=$DC_DIR
    local cert=$PEER_PKI/server.crt.pem key=$PEER_PKI/server.key.pem ca=$PEER_PKI/ca.pem
    [ "$PEER_VARIANT" = untrusted-server-cert ] && { cert=$PEER_PKI/server-foreign.crt.pem; key=$PEER_PKI/server-foreign.key.pem; }
    [ "$PEER_VARIANT" = revoked-server-cert ] && { cert=$PEER_PKI/server-revoked.crt.pem; key=$PEER_PKI/server-revoked.key.pem; }
    # OPE/APP.02: the root's CRL rides in the CA file (Dovecot reads CRLs there) and is checked
    # (ssl_require_crl = no would skip every CRL check). The variant trusts a foreign CA that
    # publishes no CRL: no CRL check there.
    local require_crl=yes dh=/usr/share/dovecot/dh.pem
    # The variant weak-dh (OPE/TLS.08) uses 1024-bit DH parameters for the DHE suites.
    [ "$PEER_VARIANT" = weak-dh ] && dh=$PEER_PKI/dh1024.pem
    ca=$PEER_PKI/ca-and-crl.pem
    [ "$PEER_VARIANT" = foreign-client-ca ] && { ca=$PEER_PKI/ca-and-foreign.pem; require_crl=no; }
    local binding="username_attribute = mailbox"
    # The variant normalises both sides of the comparison to one constant: any token matches.
    [ "$PEER_VARIANT" = token-any-mailbox ] && binding="$binding
# variant token-any-mailbox (OPE/AUTH.04): the token's mailbox no longer identifies the login
username_format = any-mailbox"
    cat > "$d/oauth2.conf.ext" <<CONF
# OPE/AUTH.01, OPE/AUTH.03: bearer tokens are checked against the operator's introspection
# endpoint (RFC 7662). Dovecot only reads \`active\`; expiry and revocation are the endpoint's call.
introspection_mode = post
introspection_url = http://127.0.0.1:$DC_HTTP_PORT/psc/introspect
# OPE/AUTH.04: the token must name the mailbox logging in
$binding
active_attribute = active
active_value = true
# env: bounded wait on the endpoint
timeout_msecs = 5000
CONF
    # Every line differs from Dovecot 2.3's default; the comment names the requirement that needs
    # it, or `env` for the test machine (own instance, loopback, logs, throwaway store).
    cat > "$d/dovecot.conf" <<CONF
# Written by mssconf scripts/peer (variant: ${PEER_VARIANT:-none}). Re-run rewrites it.
# env: a private instance beside Debian's
instance_name = $DC_INSTANCE
base_dir = $d/run
state_dir = $d/state
protocols = imap lmtp
# env: not 127.0.0.1: Dovecot counts a client whose address equals the local one as secured. The
# harness reaches IMAP through the relay on 127.0.0.1 (source 127.0.0.1), so TLS rules apply.
listen = 127.0.0.2
log_path = $DC_LOG
auth_verbose = yes
auth_debug = ${PEER_AUTH_DEBUG:-no}
# OPE/AUTH.01, OPE/AUTH.05 (XOAUTH2, OAUTHBEARER), OPE/APP.01 (EXTERNAL, PLAIN + certificate)
auth_mechanisms = xoauth2 oauthbearer external plain
$(peer_dovecot_variant_lines)
# OPE/APP.01: the certificate's CN is the applicative mailbox
auth_ssl_username_from_cert = yes
# OPE/TLS.05: the operator's server certificate
ssl_cert = <$cert
ssl_key = <$key
# OPE/APP.01, OPE/APP.02: client certificates asked for and checked against the operator's CA
ssl_ca = <$ca
ssl_verify_client_cert = yes
# OPE/APP.02: client certificates checked against the root's CRL (in ssl_ca)
ssl_require_crl = $require_crl
ssl_cert_username_field = commonName
# OPE/TLS.04: exactly the TLS 1.2 suites of SC.MSS/CONF.03 (DHE needs the group file)
ssl_cipher_list = $(peer_cipherlist)
ssl_dh = <$dh
# env: the operator's mailbox store (Maildir), a throwaway test store: no fsync per delivery,
# and only Dovecot writes these Maildirs, so it trusts its index instead of rescanning new/ and
# cur/ (which the load bench fills with thousands of files). See docs/peer.md.
mail_location = maildir:~/Maildir
mail_fsync = never
maildir_very_dirty_syncs = yes
mail_uid = vmail
mail_gid = vmail
first_valid_uid = $(id -u vmail)
mail_privileged_group =
# OPE/IMAP.01: the folders a client expects, with SPECIAL-USE
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = external
  args = $d/app-passdb
}
passdb {
  driver = passwd-file
  mechanisms = plain
  args = username_format=%{cert}/%u/%{orig_user} $d/app-plain-passdb
}
userdb {
  driver = passwd-file
  args = $d/users
}
service imap-login {
  # OPE/TLS.01: IMAP with STARTTLS
  inet_listener imap {
    address = 127.0.0.2
    port = $DC_IMAP_PORT
  }
  # OPE/TLS.07: IMAP over implicit TLS
  inet_listener imaps {
    address = 127.0.0.2
    port = $DC_IMAPS_PORT
    ssl = $([ "$PEER_VARIANT" = no-implicit-tls ] && echo no || echo yes)
  }
}
# env: delivery from the MTA, and SASL for it (OPE/AUTH.01 on SMTP)
service lmtp {
  unix_listener $DC_LMTP_SOCKET {
    mode = 0600
    user = $DC_MTA_USER
    group = $DC_MTA_GROUP
  }
}
service auth {
  unix_listener $DC_AUTH_SOCKET {
    mode = 0660
    user = $DC_MTA_USER
    group = $DC_MTA_GROUP
  }
  unix_listener auth-userdb {
    mode = 0600
  }
}
# env: no auth penalty: every harness connection comes from 127.0.0.1 and many scenarios fail
# logins on purpose; anvil's growing per-IP delay (up to 15 s) would time them out. A test
# environment trade-off, documented in docs/peer.md. (mode 0: auth cannot reach the socket.)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lmtp {
  postmaster_address = postmaster@$PEER_DOMAIN
}
# env: the harness opens several sessions per mailbox at once
protocol imap {
  mail_max_userip_connections = 50
}
CONF
}

# Settings that depend on the variant (the correct peer's line, or the variant's).
peer_dovecot_variant_lines() {
    case "$PEER_VARIANT" in
        auth-before-tls)
            echo "# variant auth-before-tls (OPE/TLS.06): authentication allowed before TLS"
            echo "disable_plaintext_auth = no"
            echo "ssl = yes" ;;
        *)
            echo "# OPE/TLS.06: no authentication before TLS (disable_plaintext_auth = yes is the default)"
            echo "ssl = required" ;;
    esac
    # ssl_min_protocol: TLSv1.2 is Dovecot 2.3.19's default (OPE/TLS.02).
    [ "$PEER_VARIANT" = tls10 ] && { echo "# variant tls10 (OPE/TLS.02)"; echo "ssl_min_protocol = TLSv1"; }
    return 0
}

peer_dovecot_configure() {
    local d=$DC_DIR
    mkdir -p "$d/run" "$d/state"
    peer_dovecot_users
    peer_dovecot_conf
    local out
    out=$(doveconf -c "$d/dovecot.conf" -n 2>&1 >/dev/null) || { printf '%s\n' "$out" >&2; die "doveconf refused the configuration"; }
}
