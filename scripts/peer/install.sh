# Sourced by start.sh: installs Postfix, Dovecot and socat from Debian's packages without
# letting the packages start their default instances (there is no systemd here, and the
# peer starts its own daemons with its own configuration).

PEER_PACKAGES="postfix dovecot-core dovecot-imapd dovecot-lmtpd socat openssl python3 ca-certificates"

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

peer_install() {
    local missing=()
    for p in $PEER_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    log "installing ${missing[*]}"
    # A policy-rc.d answering 101 keeps the maintainer scripts from starting daemons. Only
    # ours is removed afterwards: an existing one belongs to someone else.
    local own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string $PEER_SERVER_NAME" | debconf-set-selections
    local rc=0
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]; then
        apt-get update -q || rc=$?
    fi
    if [ $rc -eq 0 ] && ! apt_install "${missing[@]}"; then
        # Stale package lists (versions gone from the mirror): refresh once and retry.
        apt-get update -q && apt_install "${missing[@]}" || rc=$?
    fi
    [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
    [ $rc -eq 0 ] || die "apt-get failed ($rc) installing ${missing[*]}"
}
