# Sourced by exim/start.sh: Dovecot and socat from Debian's packages (the first stack's
# install.sh), and Exim 4.96 (exim4-daemon-heavy) downloaded with apt-get and extracted with
# dpkg -x under $EXIM_ROOT, with the shared libraries it needs and the Debian-exim account.
# Debian's exim4 packages conflict with postfix (mail-transport-agent): they are never installed.

. "$PEER_DIR/install.sh"

EXIM_PACKAGES="exim4-daemon-heavy exim4-base"
# Libraries exim4 links that neither Postfix nor Dovecot pulled in (none conflicts).
EXIM_LIBS="libmariadb3 libidn12 libspf2-2 libgnutls-dane0 libpq5 libperl5.36 libsqlite3-0 libldap-2.5-0 libsasl2-2 libnsl2"

exim_install() {
    peer_install
    local missing=() p
    for p in $EXIM_LIBS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt_install "${missing[@]}" || { apt-get update -q && apt_install "${missing[@]}"; } ||
            die "apt-get failed installing ${missing[*]}"
    fi
    id "$EXIM_USER" >/dev/null 2>&1 ||
        useradd --system --user-group --home-dir "$EXIM_DIR" --no-create-home --shell /usr/sbin/nologin "$EXIM_USER"
    [ -x "$EXIM_BIN" ] && return 0
    log "downloading and extracting $EXIM_PACKAGES"
    local dl=$PEER_STATE/debs
    rm -rf "$dl" "$EXIM_ROOT"
    mkdir -p "$dl" "$EXIM_ROOT"
    chown _apt "$dl" 2>/dev/null || true
    (cd "$dl" && apt-get download -q $EXIM_PACKAGES) ||
        { apt-get update -q && (cd "$dl" && apt-get download -q $EXIM_PACKAGES); } ||
        die "apt-get download $EXIM_PACKAGES failed"
    local deb
    for deb in "$dl"/*.deb; do dpkg -x "$deb" "$EXIM_ROOT"; done
    [ -x "$EXIM_BIN" ] || die "no $EXIM_BIN in the extracted packages"
    local libs
    libs=$(ldd "$EXIM_BIN" | awk '/not found/ {print $1}')
    [ -z "$libs" ] || die "exim4 still lacks: $libs"
}
