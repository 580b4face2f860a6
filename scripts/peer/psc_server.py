#!/usr/bin/python3
"""Test stand-in for Pro Santé Connect and the operator's public HTTP documents, for the peer.

Loopback only. Serves:
  POST /psc/token (or /token)  form mailbox=<address>&lifetime=<seconds>[&revoked=1]
                               -> {"access_token": ...} (negative lifetime: an already expired
                               token; revoked=1: a token revoked at once)
  POST /psc/oauth2/token       the standard OAuth 2.0 token endpoint (RFC 6749): grant_type=
                               client_credentials (§4.4) or refresh_token (§6), client
                               authentication by HTTP Basic or in the body (psc_grants.py);
                               clients' secrets and refresh tokens in --grant-dir (mode 600)
  POST /psc/revoke             form token=<token> (RFC 7009): the token is no longer active
  POST /psc/introspect         form token=<token> -> RFC 7662 {"active": true, "mailbox": ...}
                               or {"active": false}; Dovecot's oauth2 passdb calls it
  GET  /listeblanchemssante.xml                      the whitelist, published shape
  GET  /.well-known/autoconfig/mail/config-v1.1.xml  Mozilla autoconfig of the endpoints
  GET  /crl/root.crl           the test root's CRL (--crl FILE, PEM), served in DER
                               (application/pkix-crl, RFC 5280 §4.2.1.13), read at each request

Tokens are JWT-shaped, HMAC-signed with a key drawn at start: a restart invalidates them.
--revoked-token-file writes, at start, a token of the first mailbox that is unexpired but
revoked (introspection answers `active: false`), for the profile's `negative.revoked_token`.
Tokens are never logged.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import psc_grants

WHITELIST_NS = "https://listeblanche.mssante.fr/schema"
MAX_LIFETIME = 366 * 24 * 3600
MAX_BODY = 64 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Issuer:
    def __init__(self, mailboxes, accept_expired, accept_revoked=False):
        self.key = secrets.token_bytes(32)
        self.mailboxes = {m.lower(): i for i, m in enumerate(mailboxes)}
        self.accept_expired = accept_expired
        self.accept_revoked = accept_revoked
        self.revoked = set()
        self.serial = 0

    def revoke(self, token: str) -> bool:
        """Marks a token of ours as revoked (by its jti); False for anything else."""
        claims = self.verify(token)
        if claims is None or not isinstance(claims.get("jti"), str):
            return False
        self.revoked.add(claims["jti"])
        return True

    def issue(self, mailbox: str, lifetime: int) -> str:
        now = int(time.time())
        self.serial += 1
        rpps = f"{10000000000 + self.mailboxes[mailbox]:011d}"
        claims = {
            "iss": "mssconf-peer-psc",
            "sub": "8" + rpps,
            "SubjectNameID": "8" + rpps,
            "mailbox": mailbox,
            "scope": "openid scope_all mail",
            "iat": now,
            "exp": now + lifetime,
            "jti": f"peer-{self.serial}-{secrets.token_hex(4)}",
        }
        head = b64url(b'{"alg":"HS256","typ":"JWT"}')
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = b64url(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}"

    def introspect(self, token: str):
        """Claims of an active token, or None (unknown, forged, malformed, expired or revoked)."""
        claims = self.verify(token)
        if claims is None:
            return None
        if claims["exp"] <= time.time() and not self.accept_expired:
            return None
        if claims.get("jti") in self.revoked and not self.accept_revoked:
            return None
        return claims

    def verify(self, token: str):
        """Claims of a token this issuer signed (whatever its expiry), or None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        want = hmac.new(self.key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(unb64url(parts[2]), want):
                return None
            claims = json.loads(unb64url(parts[1]))
        except (ValueError, json.JSONDecodeError):
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            return None
        return claims


def crl_der(path):
    """The first CRL of a PEM file, in DER (what a CA publishes at a distribution point)."""
    with open(path, encoding="ascii") as f:
        text = f.read()
    begin, end = "-----BEGIN X509 CRL-----", "-----END X509 CRL-----"
    start = text.index(begin) + len(begin)
    return base64.b64decode("".join(text[start:text.index(end, start)].split()), validate=True)


def whitelist_xml(domains):
    items = "".join(f"  <Domaine>\n    <Nom>{escape(d)}</Nom>\n  </Domaine>\n" for d in domains)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<ListeBlanche xmlns="{WHITELIST_NS}">\n{items}</ListeBlanche>\n'


def autoconfig_xml(domain, host, ports):
    def server(tag, kind, port, socket):
        return (
            f'    <{tag} type="{kind}">\n      <hostname>{escape(host)}</hostname>\n'
            f"      <port>{port}</port>\n      <socketType>{socket}</socketType>\n"
            f"      <authentication>OAuth2</authentication>\n"
            f"      <username>%EMAILADDRESS%</username>\n    </{tag}>\n"
        )

    d = escape(domain)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n'
        f'  <emailProvider id="{d}">\n    <domain>{d}</domain>\n'
        f"    <displayName>mssconf peer operator (fictitious)</displayName>\n"
        + server("incomingServer", "imap", ports["imaps"], "SSL")
        + server("incomingServer", "imap", ports["imap"], "STARTTLS")
        + server("outgoingServer", "smtp", ports["smtps"], "SSL")
        + server("outgoingServer", "smtp", ports["smtp"], "STARTTLS")
        + "  </emailProvider>\n</clientConfig>\n"
    )


class Handler(BaseHTTPRequestHandler):
    server_version = "mssconf-peer-psc/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {fmt % args}\n")

    def send(self, status, body, ctype="application/json", headers=None):
        if isinstance(body, bytes):
            data = body
        else:
            data, ctype = body.encode("utf-8"), f"{ctype}; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def bad_request(self, why):
        self.send(400, json.dumps({"error": "invalid_request", "error_description": why}))

    def form(self):
        """Each field of the form body with the list of its values, or None."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        raw = self.rfile.read(length).decode("utf-8", "replace")
        return urllib.parse.parse_qs(raw, keep_blank_values=True)

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        lists = self.form()
        if lists is None:
            return self.bad_request("expected an application/x-www-form-urlencoded body")
        if path in ("/psc/oauth2/token", "/oauth2/token"):
            return self.grant(lists)
        fields = {k: v[0] for k, v in lists.items()}
        if path in ("/psc/token", "/token"):
            return self.token(fields)
        if path in ("/psc/introspect", "/introspect"):
            return self.introspect(fields)
        if path in ("/psc/revoke", "/revoke"):
            # RFC 7009 §2.2: 200 whether or not the token was known.
            self.server.cfg.issuer.revoke(fields.get("token", ""))
            return self.send(200, "{}")
        self.send(404, json.dumps({"error": "not_found"}))

    def token(self, fields):
        cfg = self.server.cfg
        mailbox = fields.get("mailbox", "").strip().lower()
        if not mailbox:
            return self.bad_request("missing field `mailbox`")
        if mailbox not in cfg.issuer.mailboxes:
            return self.bad_request("unknown mailbox, or an applicative one (those use a client certificate)")
        try:
            lifetime = int(fields.get("lifetime", "600"))
        except ValueError:
            return self.bad_request("`lifetime` must be whole seconds")
        if abs(lifetime) > MAX_LIFETIME:
            return self.bad_request("`lifetime` must be within a year (negative: already expired)")
        token = cfg.issuer.issue(mailbox, lifetime)
        if fields.get("revoked", "").lower() in ("1", "true", "yes"):
            cfg.issuer.revoke(token)
        self.send(200, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": max(lifetime, 0)}))

    def grant(self, lists):
        grants = self.server.cfg.grants
        if grants is None:
            return self.send(404, json.dumps({"error": "not_found"}))
        status, body, headers = grants.answer(self.headers.get("Content-Type"), self.headers.get("Authorization"), lists)
        # The log says who got what (client, grant, token id), never a secret or a token.
        if status == 200:
            claims = grants.issuer.verify(body["access_token"])
            what = f"token {claims['jti']} issued to {claims['mailbox']} (expires in {body['expires_in']} s)"
        else:
            what = f"refused: {status} {body['error']}"
        grant_type = (lists.get("grant_type") or ["-"])[0]
        grant_type = grant_type if grant_type in ("refresh_token", "client_credentials") else "(other)"
        self.log_message("oauth2 %s grant: %s", grant_type, what)
        self.send(status, json.dumps(body), headers=headers)

    def introspect(self, fields):
        claims = self.server.cfg.issuer.introspect(fields.get("token", ""))
        if claims is None:
            return self.send(200, json.dumps({"active": False}))
        out = {"active": True, "token_type": "Bearer"}
        out.update({k: claims[k] for k in ("iss", "sub", "SubjectNameID", "mailbox", "scope", "iat", "exp")})
        self.send(200, json.dumps(out))

    def do_GET(self):
        cfg = self.server.cfg
        path = urllib.parse.urlparse(self.path).path
        if path == "/listeblanchemssante.xml":
            return self.send(200, whitelist_xml(cfg.whitelist), "application/xml")
        if path == "/.well-known/autoconfig/mail/config-v1.1.xml":
            return self.send(200, autoconfig_xml(cfg.domain, cfg.mail_host, cfg.ports), "application/xml")
        if path == "/crl/root.crl" and cfg.crl:
            try:
                return self.send(200, crl_der(cfg.crl), "application/pkix-crl")
            except (OSError, ValueError) as e:
                return self.send(500, json.dumps({"error": f"CRL unreadable: {e}"}))
        self.send(404, json.dumps({"error": "not_found"}))


def write_revoked_token(issuer, mailbox, path):
    """A token valid for a day but revoked at once, written private to its owner."""
    token = issuer.issue(mailbox, 24 * 3600)
    issuer.revoke(token)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--mail-host", default="127.0.0.1", help="host the autoconfig names (the profile's endpoints)")
    p.add_argument("--mailbox", action="append", default=[], help="address that may get tokens (PER/ORG)")
    p.add_argument("--whitelist", action="append", default=[], help="whitelisted domain")
    p.add_argument("--mail-ports", required=True, help="smtp,smtps,imap,imaps")
    p.add_argument("--accept-expired", action="store_true", help="misconfiguration: expired tokens stay active")
    p.add_argument("--accept-revoked", action="store_true", help="misconfiguration: revoked tokens stay active")
    p.add_argument("--revoked-token-file", help="write a revoked (unexpired) token of the first mailbox here (mode 600)")
    p.add_argument("--crl", help="PEM CRL served in DER at /crl/root.crl")
    p.add_argument("--grant-dir", help="serve /psc/oauth2/token; write each client's secret and refresh token here (mode 600)")
    p.add_argument("--grant-lifetime", type=int, default=600, help="lifetime of the tokens of the OAuth 2.0 grants (seconds)")
    p.add_argument("--pid-file")
    a = p.parse_args()
    smtp, smtps, imap, imaps = (int(x) for x in a.mail_ports.split(","))
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    issuer = Issuer(a.mailbox, a.accept_expired, a.accept_revoked)
    server.cfg = argparse.Namespace(
        issuer=issuer,
        grants=psc_grants.Grants(issuer, a.grant_lifetime) if a.grant_dir else None,
        whitelist=a.whitelist,
        domain=a.domain,
        mail_host=a.mail_host,
        ports={"smtp": smtp, "smtps": smtps, "imap": imap, "imaps": imaps},
        crl=a.crl,
    )
    if a.revoked_token_file and a.mailbox:
        write_revoked_token(server.cfg.issuer, a.mailbox[0].lower(), a.revoked_token_file)
    if server.cfg.grants:
        server.cfg.grants.write_files(a.grant_dir)
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    sys.stderr.write(
        f"mssconf peer PSC stand-in on 127.0.0.1:{a.port} "
        f"(accept_expired={a.accept_expired}, accept_revoked={a.accept_revoked})\n"
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
