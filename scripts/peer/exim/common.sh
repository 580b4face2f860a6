# Sourced by the second stack's scripts (Exim 4.96 submission + a second Dovecot 2.3 instance):
# the first stack's names (same fictitious operator, same mailboxes, same test PKI), other
# ports, another state directory. Overrides: PEER2_PORT_BASE (default 20000), PEER2_STATE,
# PEER2_PROFILE.
# The first stack's port base (the shared PKI's CRL distribution point is on its HTTP server).
PEER1_PORT_BASE=${PEER_PORT_BASE:-10000}
PEER_PORT_BASE=${PEER2_PORT_BASE:-20000}
PEER_STATE=${PEER2_STATE:-/var/lib/mssconf-peer-exim}
# The first stack's test PKI is shared (pki.sh makes it when missing).
PEER_PKI_SHARED=${PEER_PKI_SHARED:-/var/lib/mssconf-peer/pki}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/common.sh"
PEER2_DIR=$PEER_DIR/exim
PEER_PKI=$PEER_PKI_SHARED
PEER_PROFILE=${PEER2_PROFILE:-$PEER_REPO/targets/local-peer-exim.yaml}

# Exim, extracted from Debian's packages under a private prefix (it cannot be installed beside
# Postfix: both provide mail-transport-agent).
EXIM_ROOT=$PEER_STATE/exim-root
EXIM_BIN=$EXIM_ROOT/usr/sbin/exim4
EXIM_DIR=$PEER_STATE/exim
EXIM_CONF=$EXIM_DIR/exim.conf
EXIM_SPOOL=$EXIM_DIR/spool
EXIM_USER=Debian-exim

# The second Dovecot instance (dovecot.sh reads DC_*): its own config, base_dir, ports, store.
DC_DIR=$PEER_STATE/dovecot
DC_INSTANCE=mssconf-peer-exim
DC_MAIL=$PEER_STATE/mail
DC_LOG=$PEER_LOG/dovecot.log
DC_IMAP_PORT=$PEER_IMAP_PORT
DC_IMAPS_PORT=$PEER_IMAPS_PORT
DC_HTTP_PORT=$PEER_HTTP_PORT
DC_AUTH_SOCKET=$DC_DIR/run/exim-auth
DC_LMTP_SOCKET=$DC_DIR/run/exim-lmtp
DC_MTA_USER=$EXIM_USER
DC_MTA_GROUP=$EXIM_USER
