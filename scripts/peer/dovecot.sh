# Sourced by start.sh: Dovecot as the operator's IMAP service and mailbox store (LMTP from
# Postfix), with its own configuration file, base_dir and instance name, so that Debian's
# default instance (/etc/dovecot) is neither used nor touched.

# The mailboxes are throwaway test data: on a tmpfs (PEER_MAIL_TMPFS=no keeps them on disk).
# On ext4, Dovecot's LMTP spent most of its time in inode allocation for the load bench's
# thousands of created and expunged message files (6.5 → 3.8 ms of CPU a delivery on tmpfs;
# docs/performance.md §3). A refused mount (no privilege for it) leaves the store on disk.
peer_mail_store() {
    mkdir -p "$PEER_MAIL"
    if [ "${PEER_MAIL_TMPFS:-yes}" = yes ] && ! mountpoint -q "$PEER_MAIL"; then
        mount -t tmpfs -o "size=${PEER_MAIL_TMPFS_SIZE:-2g},mode=0755" mssconf-peer-mail "$PEER_MAIL" \
            || log "tmpfs refused: mail store on disk"
    fi
}

peer_dovecot_users() {
    local d=$PEER_DOVECOT
    id vmail >/dev/null 2>&1 || useradd --system --home-dir /var/lib/mssconf-peer/mail --no-create-home --shell /usr/sbin/nologin vmail
    peer_mail_store
    chown vmail:vmail "$PEER_MAIL"
    # userdb: every mailbox of the operator. Unknown addresses get a 550 from LMTP.
    : > "$d/users"
    for a in $PEER_MAILBOXES; do
        echo "$a::$(id -u vmail):$(id -g vmail)::$PEER_MAIL/$a::" >> "$d/users"
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
    local d=$PEER_DOVECOT min=TLSv1.2 plaintext=yes ssl=required
    if [ "$PEER_VARIANT" = tls10 ]; then min=TLSv1; fi
    if [ "$PEER_VARIANT" = auth-before-tls ]; then plaintext=no; ssl=yes; fi
    cat > "$d/oauth2.conf.ext" <<CONF
# Bearer tokens are checked against the peer's introspection endpoint (RFC 7662). Dovecot only
# reads \`active\`; expiry is the endpoint's call. The token must name the mailbox logging in.
introspection_mode = post
introspection_url = http://127.0.0.1:$PEER_HTTP_PORT/psc/introspect
username_attribute = mailbox
active_attribute = active
active_value = true
timeout_msecs = 5000
CONF
    cat > "$d/dovecot.conf" <<CONF
# Written by mssconf scripts/peer/start.sh (variant: ${PEER_VARIANT:-none}). Re-run rewrites it.
instance_name = mssconf-peer
base_dir = $d/run
state_dir = $d/state
protocols = imap lmtp
# Not 127.0.0.1: Dovecot counts a client whose address equals the local one as secured. The
# harness reaches IMAP through the relay on 127.0.0.1 (source 127.0.0.1), so TLS rules apply.
listen = 127.0.0.2
log_path = $PEER_LOG/dovecot.log
auth_verbose = yes
auth_debug = ${PEER_AUTH_DEBUG:-no}
auth_mechanisms = xoauth2 oauthbearer external plain
disable_plaintext_auth = $plaintext
auth_ssl_username_from_cert = yes
ssl = $ssl
ssl_cert = <$PEER_PKI/server.crt.pem
ssl_key = <$PEER_PKI/server.key.pem
ssl_ca = <$PEER_PKI/ca.pem
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_cert_username_field = commonName
ssl_min_protocol = $min
ssl_cipher_list = $(peer_cipherlist)
ssl_prefer_server_ciphers = yes
ssl_dh = </usr/share/dovecot/dh.pem
mail_location = maildir:~/Maildir
# A throwaway test store: no fsync per delivery (the load bench measures the harness, not the disk).
mail_fsync = never
# Only Dovecot writes these Maildirs: trust its index instead of rescanning new/ and cur/ (which
# the load bench fills with thousands of files) when their mtime changes. See docs/peer.md.
maildir_very_dirty_syncs = yes
mail_uid = vmail
mail_gid = vmail
first_valid_uid = $(id -u vmail)
mail_privileged_group =
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
  inet_listener imap {
    address = 127.0.0.2
    port = $PEER_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.2
    port = $PEER_IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  unix_listener /var/spool/postfix/private/mssconf-peer-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service auth {
  unix_listener /var/spool/postfix/private/mssconf-peer-auth {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
  }
}
# No auth penalty: every harness connection comes from 127.0.0.1 and many scenarios fail
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
protocol imap {
  mail_max_userip_connections = 50
}
CONF
}

peer_dovecot_configure() {
    local d=$PEER_DOVECOT
    mkdir -p "$d/run" "$d/state"
    peer_dovecot_users
    peer_dovecot_conf
    local out
    out=$(doveconf -c "$d/dovecot.conf" -n 2>&1 >/dev/null) || { printf '%s\n' "$out" >&2; die "doveconf refused the configuration"; }
}
