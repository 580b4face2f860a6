"""The OAuth 2.0 token endpoint of the PSC stand-in (RFC 6749): the client credentials grant
(§4.4) and the refresh token grant (§6), for the mailboxes the stand-in issues tokens to.

Each PER/ORG mailbox is a registered confidential client: its `client_id` is its address; its
client secret and one refresh token are drawn at start (a restart invalidates them) and written
to private files (`<dir>/<address>.client-secret`, `<dir>/<address>.refresh-token`, mode 600)
for the target profile to point at. The client authenticates with HTTP Basic, its id and secret
form-encoded first (§2.3.1), or with `client_id`/`client_secret` in the body; never both. The
refresh token is not rotated. The access tokens are the stand-in's own (`Issuer.issue`), so its
introspection endpoint accepts them. `answer` does no IO: the HTTP handler calls it.
"""

import base64
import binascii
import hmac
import os
import secrets
import urllib.parse

# The scopes of every token the stand-in issues; a request may ask for a subset (§3.3).
SCOPES = ("openid", "scope_all", "mail")
REALM = "mssconf-peer-psc"


class Client:
    def __init__(self, mailbox):
        self.mailbox = mailbox
        self.secret = secrets.token_urlsafe(32)
        self.refresh_token = secrets.token_urlsafe(32)


class Refusal(Exception):
    """An error answer (§5.2): status, `error`, `error_description`."""

    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def invalid_client(description):
    # §5.2: 401 for a failed client authentication, with the scheme the client may use.
    return Refusal(401, "invalid_client", description)


class Grants:
    def __init__(self, issuer, lifetime):
        self.issuer = issuer
        self.lifetime = lifetime
        self.clients = {m: Client(m) for m in issuer.mailboxes}

    def write_files(self, directory):
        """The client secret and refresh token of every client, each in a private file."""
        for c in self.clients.values():
            write_private(os.path.join(directory, f"{c.mailbox}.client-secret"), c.secret)
            write_private(os.path.join(directory, f"{c.mailbox}.refresh-token"), c.refresh_token)

    def answer(self, content_type, authorization, fields):
        """(status, JSON object, extra headers) for a token request. `fields` maps each form
        name to the list of its values; `authorization` is the header or None."""
        try:
            body, client = self.grant(content_type, authorization, fields)
        except Refusal as r:
            headers = {"WWW-Authenticate": f'Basic realm="{REALM}"'} if r.status == 401 else {}
            return r.status, {"error": r.error, "error_description": r.description}, headers
        return 200, body, {"Pragma": "no-cache"}

    def grant(self, content_type, authorization, fields):
        if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise Refusal(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        repeated = sorted(k for k, v in fields.items() if len(v) > 1)
        if repeated:  # §3.2
            raise Refusal(400, "invalid_request", f"parameter given more than once: {', '.join(repeated)}")
        form = {k: v[0] for k, v in fields.items()}
        client = self.authenticate(authorization, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise Refusal(400, "invalid_request", "missing grant_type")
        if grant_type == "refresh_token":
            presented = form.get("refresh_token", "")
            if not presented:
                raise Refusal(400, "invalid_request", "missing refresh_token")
            # §6: a refresh token is bound to the client it was issued to.
            if not hmac.compare_digest(presented.encode(), client.refresh_token.encode()):
                raise Refusal(400, "invalid_grant", "unknown refresh token, or another client's")
        elif grant_type != "client_credentials":
            raise Refusal(400, "unsupported_grant_type", "refresh_token or client_credentials")
        scope = self.scope(form.get("scope"))
        token = self.issuer.issue(client.mailbox, self.lifetime)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": max(self.lifetime, 0), "scope": scope}
        return body, client

    def authenticate(self, authorization, form):
        """The client, authenticated by HTTP Basic or by the body (§2.3.1), never by both."""
        if authorization is not None:
            if "client_secret" in form:
                raise Refusal(400, "invalid_request", "more than one client authentication method")
            client_id, secret = basic(authorization)
            if form.get("client_id", client_id) != client_id:
                raise Refusal(400, "invalid_request", "client_id differs from the authenticated client")
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        if not client_id:
            raise invalid_client("no client authentication")
        client = self.clients.get(client_id.lower())
        if client is None:
            raise invalid_client("unknown client")
        # Every client here is confidential: it must authenticate for either grant (§4.4, §6).
        if secret is None:
            raise invalid_client("client authentication required (confidential client)")
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise invalid_client("client authentication failed")
        return client

    @staticmethod
    def scope(asked):
        if asked is None:
            return " ".join(SCOPES)
        wanted = asked.split()
        if not wanted or any(s not in SCOPES for s in wanted):
            raise Refusal(400, "invalid_scope", f"scopes offered: {' '.join(SCOPES)}")
        return " ".join(wanted)


def basic(authorization):
    """(client_id, secret) of an HTTP Basic header whose parts are form-encoded (§2.3.1)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client("only HTTP Basic client authentication")
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("Basic credentials are not base64 of UTF-8 text") from None
    client_id, sep, secret = text.partition(":")
    if not sep:
        raise invalid_client("Basic credentials without `:`")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


def write_private(path, text):
    """Writes `text` to `path`, readable by its owner only, replacing it whole."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
