# Sourced by start.sh: the peer's test PKI, made with the openssl CLI. A root standing in for
# IGC-Santé, the server certificate (host name + loopback addresses, and a CRL distribution
# point on the peer's HTTP server, PEER_PKI_CRL_DP, which serves the root's CRL: OPE/TLS.05.02),
# one client certificate per applicative mailbox, an expired one, one from a foreign CA, and one
# the root revoked with the root's CRL (crl.pem; the stacks load it, OPE/APP.02) (plus, for the
# variants, a server certificate from the foreign CA, a server certificate the CRL lists, a
# bundle trusting both CAs and 1024-bit DH parameters). Kept across runs (a re-run reuses it)
# unless PEER_FRESH_PKI=1, a file is missing or its format (PEER_PKI_FORMAT) differs.

# What the PKI's files are made for: bumped when pki.sh makes them differently, so an older PKI
# directory is made again. The distribution point is part of it (it is in the certificates).
PEER_PKI_FORMAT="3 $PEER_PKI_CRL_DP"

# openssl with its chatter kept for when it fails.
ossl() {
    local out
    out=$(PEER_SAN="${PEER_SAN:-DNS:unused.invalid}" PEER_CRL_DP="$PEER_PKI_CRL_DP" openssl "$@" 2>&1) || { printf '%s\n' "$out" >&2; die "openssl $1 failed"; }
}

pki_ca_conf() { # $1 = CA dir
    cat <<CONF
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[ca]
default_ca = peer_ca
[peer_ca]
dir = $1
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_crl_days = 730
new_certs_dir = \$dir/issued
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
countryName = optional
[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::PEER_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# A server certificate of the root: where the root's CRL is published (OPE/TLS.05.02).
[root_server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::PEER_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:\${ENV::PEER_CRL_DP}
[client_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = \${ENV::PEER_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[root_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CONF
}

# $1 CA dir, $2 subject; makes a self-signed root valid two years.
pki_root() {
    mkdir -p "$1/issued"
    : > "$1/index.txt"
    echo 1000 > "$1/serial"
    echo 01 > "$1/crlnumber"
    pki_ca_conf "$1" > "$1/ca.cnf"
    ossl req -new -x509 -utf8 -newkey rsa:2048 -nodes -sha256 -days 730 \
        -subj "$2" -keyout "$1/ca.key.pem" -out "$1/ca.pem" -config "$1/ca.cnf" -extensions root_ext
}

# $1 CA dir, $2 out prefix, $3 subject, $4 extension section, $5 SAN, [$6 $7 start/end dates]
pki_issue() {
    local ca=$1 out=$2 subj=$3 ext=$4 san=$5
    ossl req -new -utf8 -newkey rsa:2048 -nodes -subj "$subj" -config "$ca/ca.cnf" \
        -keyout "$out.key.pem" -out "$out.csr.pem"
    local dates=(-days 365)
    [ $# -ge 7 ] && dates=(-startdate "$6" -enddate "$7")
    PEER_SAN="$san" ossl ca -batch -utf8 -notext -config "$ca/ca.cnf" -extensions "$ext" \
        -cert "$ca/ca.pem" -keyfile "$ca/ca.key.pem" "${dates[@]}" \
        -in "$out.csr.pem" -out "$out.crt.pem"
    rm -f "$out.csr.pem"
    chmod 600 "$out.key.pem"
}

pki_fingerprint() { # $1 cert -> AA:BB:… (SHA-256, what Postfix compares)
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

pki_complete() {
    local f
    for f in ca.pem server.crt.pem server.key.pem app1.crt.pem app2.crt.pem \
             app1-expired.crt.pem app1-foreign.crt.pem server-foreign.crt.pem ca-and-foreign.pem \
             app1-revoked.crt.pem crl.pem ca-and-crl.pem server-revoked.crt.pem dh1024.pem; do
        [ -s "$PEER_PKI/$f" ] || return 1
    done
    [ "$(cat "$PEER_PKI/format" 2>/dev/null)" = "$PEER_PKI_FORMAT" ] || return 1
    # Renew when the server certificate expires within a week.
    openssl x509 -in "$PEER_PKI/server.crt.pem" -noout -checkend 604800 >/dev/null
}

peer_pki() {
    if [ "${PEER_FRESH_PKI:-0}" != 1 ] && pki_complete; then
        return 0
    fi
    log "generating the test PKI in $PEER_PKI"
    rm -rf "$PEER_PKI"
    mkdir -p "$PEER_PKI"
    chmod 755 "$PEER_PKI"
    local root="$PEER_PKI/root" foreign="$PEER_PKI/foreign"
    pki_root "$root" "/C=FR/O=mssconf peer (fictitious)/OU=TEST/CN=IGC-Santé TEST peer"
    pki_root "$foreign" "/C=FR/O=Foreign TEST CA (not IGC-Santé)/CN=Foreign TEST peer CA"
    cp "$root/ca.pem" "$PEER_PKI/ca.pem"
    pki_issue "$root" "$PEER_PKI/server" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_SERVER_NAME" \
        root_server_ext "DNS:$PEER_SERVER_NAME,IP:127.0.0.1,IP:127.0.0.2"
    pki_issue "$root" "$PEER_PKI/app1" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_APP1" \
        client_ext "email:$PEER_APP1"
    pki_issue "$root" "$PEER_PKI/app2" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_APP2" \
        client_ext "email:$PEER_APP2"
    pki_issue "$root" "$PEER_PKI/app1-expired" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_APP1" \
        client_ext "email:$PEER_APP1" 20200101000000Z 20210101000000Z
    pki_issue "$foreign" "$PEER_PKI/app1-foreign" "/C=FR/O=Foreign TEST CA (not IGC-Santé)/CN=$PEER_APP1" \
        client_ext "email:$PEER_APP1"
    # Variant untrusted-server-cert (OPE/TLS.05): the same names, from the foreign CA.
    pki_issue "$foreign" "$PEER_PKI/server-foreign" "/C=FR/O=Foreign TEST CA (not IGC-Santé)/CN=$PEER_SERVER_NAME" \
        server_ext "DNS:$PEER_SERVER_NAME,IP:127.0.0.1,IP:127.0.0.2"
    # OPE/APP.02 (negative.revoked_client_cert): a valid app1 certificate of the root, revoked;
    # the root's CRL lists it (crl.pem; ca-and-crl.pem for the servers that read CRLs from the
    # CA file).
    pki_issue "$root" "$PEER_PKI/app1-revoked" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_APP1" \
        client_ext "email:$PEER_APP1"
    ossl ca -batch -config "$root/ca.cnf" -cert "$root/ca.pem" -keyfile "$root/ca.key.pem" \
        -revoke "$PEER_PKI/app1-revoked.crt.pem" -crl_reason keyCompromise
    # Variant revoked-server-cert (OPE/TLS.05.02): a server certificate of the root, revoked
    # (the CRL lists it; the server certificate of the other runs stays unlisted).
    pki_issue "$root" "$PEER_PKI/server-revoked" "/C=FR/O=mssconf peer (fictitious)/CN=$PEER_SERVER_NAME" \
        root_server_ext "DNS:$PEER_SERVER_NAME,IP:127.0.0.1,IP:127.0.0.2"
    ossl ca -batch -config "$root/ca.cnf" -cert "$root/ca.pem" -keyfile "$root/ca.key.pem" \
        -revoke "$PEER_PKI/server-revoked.crt.pem" -crl_reason keyCompromise
    ossl ca -batch -config "$root/ca.cnf" -cert "$root/ca.pem" -keyfile "$root/ca.key.pem" \
        -gencrl -out "$PEER_PKI/crl.pem"
    cat "$root/ca.pem" "$PEER_PKI/crl.pem" > "$PEER_PKI/ca-and-crl.pem"
    # Variant foreign-client-ca (OPE/APP.02): client certificates of both CAs accepted.
    cat "$root/ca.pem" "$foreign/ca.pem" > "$PEER_PKI/ca-and-foreign.pem"
    # Variant weak-dh (OPE/TLS.08): 1024-bit DH parameters for the DHE suites.
    ossl dhparam -out "$PEER_PKI/dh1024.pem" 1024
    # Dovecot and Postfix read the server key as root before dropping privileges.
    chmod 600 "$PEER_PKI"/*.key.pem "$root/ca.key.pem" "$foreign/ca.key.pem"
    echo "$PEER_PKI_FORMAT" > "$PEER_PKI/format"
}
