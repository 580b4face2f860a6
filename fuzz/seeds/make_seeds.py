#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/ (fictitious data only).

Run once before the first fuzzing run; the committed corpora are these seeds plus what the
fuzzer found, minimised with `cargo fuzz cmin`. Repository files (scenarios, profiles) are
copied as they are.
"""
import glob, hashlib, os, struct, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = name or "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- SMTP replies, as the mock operator and Postfix send them --------------------------------
SMTP = [
    "220 mx.operateur.mock.mssante.test ESMTP mssconf-mock\r\n",
    "250-mx.operateur.mock.mssante.test greets client.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
    "250-STARTTLS\r\n250-AUTH XOAUTH2 PLAIN OAUTHBEARER\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
    "250-DSN\r\n250 SMTPUTF8\r\n",
    "220 2.0.0 Ready to start TLS\r\n",
    "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n535 5.7.8 Authentication credentials invalid\r\n",
    "334 \r\n235 2.7.0 Authentication successful\r\n",
    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 4XyZ12\r\n",
    "550 5.7.1 <x@hors-liste.test>: Recipient address rejected: domain not in the MSSante whitelist\r\n",
    "221 2.0.0 Bye\r\n",
    "421 4.4.2 mx.op.test Error: timeout exceeded\r\n",
    "250-a\n250-b\n251 c\n",
    "250\r\n354\r\n",
    "hello\r\n650 what\r\n250x\r\n",
    "554 5.7.0 Too many errors\r\n\r\n\x00\xff\xfe\r\n",
]
for s in SMTP:
    put("smtp_reply", s)

# --- IMAP server output, greeting to logout, with literals ------------------------------------
IMAP = [
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS AUTH=XOAUTH2 AUTH=PLAIN] Dovecot ready.\r\n",
    "* CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS AUTH=XOAUTH2\r\na1 OK CAPABILITY completed\r\n",
    "a2 OK Begin TLS negotiation now\r\n",
    "+ eyJzdGF0dXMiOiI0MDEifQ==\r\na3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
    "a3 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n",
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.\r\n"
    "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 12] Predicted next UID\r\n"
    "a4 OK [READ-WRITE] Select completed.\r\n",
    "* SEARCH 4 9 11\r\na5 OK Search completed\r\n",
    "* ESEARCH (TAG \"a5\") UID ALL 4:9\r\n* SEARCH 4 (MODSEQ 7)\r\na5 OK done\r\n",
    "* 1 FETCH (UID 1 BODY[] {62}\r\nFrom: a@op.test\r\nTo: b@op.test\r\nSubject: test\r\n\r\nhello\r\n)\r\na6 OK Fetch completed\r\n",
    "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] \"short\")\r\na6 OK done\r\n",
    "* 2 FETCH (BODY[] ~{5}\r\n\x00\x01\x02\x03\x04)\r\n",
    "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n* LIST () \"/\" {5}\r\nDraft\r\na7 OK List completed\r\n",
    "a8 OK [APPENDUID 38505 3955] Append completed.\r\n",
    "* OK [COPYUID 38505 3 12] Moved\r\n* 1 EXPUNGE\r\na9 OK Move completed\r\n",
    "+ idling\r\n* 4 EXISTS\r\n",
    "* BYE Logging out\r\na10 OK Logout completed.\r\n",
    "* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n",
    "* \x01GARBAGE {\r\n",
    "* 1 FETCH (BODY[] {999999999999}\r\n",
    "a1 BAD [unclosed\r\nbad\r\n",
]
for s in IMAP:
    put("imap_response", s.encode("latin-1"))

# --- TLS first flights: ServerHellos (1.0 to 1.3, split records), alerts, garbage -----------
def record(kind, payload, version=0x0303):
    return bytes([kind]) + struct.pack(">HH", version, len(payload)) + payload

def server_hello(version, suite, extensions=b""):
    body = struct.pack(">H", version) + bytes(range(32)) + bytes([32]) + bytes([7] * 32)
    body += struct.pack(">H", suite) + b"\x00"
    if extensions:
        body += struct.pack(">H", len(extensions)) + extensions
    return bytes([2]) + len(body).to_bytes(3, "big") + body

TLS = [
    record(0x16, server_hello(0x0303, 0xC02F, b"\xff\x01\x00\x01\x00\x00\x0b\x00\x02\x01\x00")),
    record(0x16, server_hello(0x0303, 0x1302, b"\x00\x2b\x00\x02\x03\x04\x00\x33\x00\x24\x00\x1d\x00\x20" + bytes(32))),
    record(0x16, server_hello(0x0301, 0xC014), 0x0301),
    record(0x16, server_hello(0x0302, 0xC013), 0x0302),
    record(0x15, b"\x02\x28"),
    record(0x15, b"\x02\x46", 0x0301),
    record(0x15, b"\x01\x00"),
    record(0x16, server_hello(0x0303, 0xC030)[:20]) + record(0x16, server_hello(0x0303, 0xC030)[20:]),
    record(0x16, server_hello(0x0303, 0xC02F) + b"\x0b\x00\x00\x03\x00\x00\x00"),
    b"220 mx.op.test ESMTP\r\n",
    record(0x17, b"\x00" * 8),
    b"\x16\x03\x03\xff\xff",
]
for s in TLS:
    put("tls_server_hello", s)

# --- DSN and MDN, shaped after RFC 3464 / RFC 8098 and the mock's builders ------------------
DSN = ("From: Mail Delivery System <MAILER-DAEMON@mx.op.test>\r\nTo: <a@op.test>\r\n"
       "Subject: Successful Mail Delivery Report\r\nMessage-ID: <dsn.Q1@mx.op.test>\r\n"
       "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
       "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"=_dsn_Q1\"\r\n\r\n"
       "This is a MIME-encapsulated delivery status notification.\r\n\r\n"
       "--=_dsn_Q1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message was delivered.\r\n"
       "\r\n--=_dsn_Q1\r\nContent-Type: message/delivery-status\r\n\r\n"
       "Reporting-MTA: dns; mx.op.test\r\nOriginal-Envelope-Id: env-42\r\nArrival-Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n"
       "Final-Recipient: rfc822; b@op.test\r\nOriginal-Recipient: rfc822;b@op.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
       "Diagnostic-Code: smtp; 250 2.0.0 delivered to mailbox\r\n\r\n"
       "Final-Recipient: rfc822; c@other.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
       "\r\n--=_dsn_Q1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: x\r\nMessage-ID: <m1@op.test>\r\n"
       "\r\n--=_dsn_Q1--\r\n")
MDN = ("From: b@op.test\r\nTo: a@op.test\r\nSubject: Lu\r\nMIME-Version: 1.0\r\n"
       "Content-Type: multipart/report; report-type=disposition-notification;\r\n boundary=\"b2\"\r\n\r\n"
       "--b2\r\nContent-Type: text/plain\r\n\r\nThe message was displayed.\r\n"
       "--b2\r\nContent-Type: message/disposition-notification\r\n\r\n"
       "Reporting-UA: mua.op.test; mssconf\r\nFinal-Recipient: rfc822; b@op.test\r\n"
       "Original-Message-ID: <m1@op.test>\r\nDisposition: automatic-action/MDN-sent-automatically;\r\n processed\r\n"
       "--b2\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@op.test\r\nSubject: x\r\n\r\nbody\r\n--b2--\r\n")
GDSN = DSN.replace("message/delivery-status", "message/global-delivery-status").replace("=_dsn_Q1", "g")
for s in [DSN, MDN, GDSN, "Subject: x\r\n\r\nhello", "Action: failed\r\nStatus: 5.0.0\r\n  (folded)\r\n",
          "Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\nQWN0aW9uOiBmYWlsZWQ=\r\n--x--\r\n"]:
    put("report_parse", s)

# --- The published whitelist ----------------------------------------------------------------
NS = "https://listeblanche.mssante.fr/schema"
for s in [
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ListeBlanche xmlns="{NS}">\n  <Domaine>\n    <Nom>operateur.mock.mssante.test</Nom>\n  </Domaine>\n'
    f'  <Domaine>\n    <Nom> h\u00f4pital-fictif.mssante.test </Nom>\n  </Domaine>\n  <Domaine>\n    <Nom>x&amp;y</Nom>\n  </Domaine>\n</ListeBlanche>\n',
    f'<lb:Liste xmlns:lb="{NS}"><lb:Domaine><lb:Nom>a.test</lb:Nom></lb:Domaine><lb:Domaine/></lb:Liste>',
    f'{NS} <Domaine><Nom>x',
    "<html></html>",
    f'<L xmlns="{NS}"><Domaine attr="1"><!-- c --><Nom><![CDATA[c.test]]></Nom></Domaine></L>',
]:
    put("whitelist", s)

# --- Scenario and profile files of this repository -----------------------------------------
def copy_all(target, patterns):
    for pat in patterns:
        for path in sorted(glob.glob(os.path.join(ROOT, pat), recursive=True)):
            if os.path.isfile(path) and os.path.getsize(path) < 64 * 1024:
                put(target, open(path, "rb").read())

copy_all("scenario_load", ["scenarios/**/*.yaml", "tests/cases/**/*.yaml", "tests/data/**/*.yaml"])
copy_all("profile_load", ["targets/*.yaml"])
# A profile as the mock writes it (`mssconf-mock` profile.rs), and broken variants.
MOCK_PROFILE = """name: mssconf-mock
operator: MockOperator
service: MockService
version: "0.1.0"
environment: test
claims: [general, per-org, app]
domain: operateur.mock.mssante.test
server_name: localhost
endpoints:
  smtp_starttls: { host: 127.0.0.1, port: 40587, tls: starttls }
  smtp_implicit: { host: 127.0.0.1, port: 40465, tls: implicit }
  imap_starttls: { host: 127.0.0.1, port: 40143, tls: starttls }
  imap_implicit: { host: "::1", port: 40993, tls: implicit }
http:
  token_issuer: http://127.0.0.1:40080/psc/token
  introspection: http://127.0.0.1:40080/psc/introspect
  whitelist: http://127.0.0.1:40080/listeblanchemssante.xml
  autoconfig: http://127.0.0.1:40080/.well-known/autoconfig/mail/config-v1.1.xml
trust_anchors: [pki/ca.pem]
tls:
  cipher_allow_list:
    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
app_auth_form: plain
addresses:
  outside_whitelist: destinataire@hors-liste.example
  unknown_local: inconnu.fictif@operateur.mock.mssante.test
mailboxes:
  per1: { address: per1@operateur.mock.mssante.test, type: PER, token: issuer }
  org1: { address: org1@operateur.mock.mssante.test, type: ORG, token: issuer }
  app1: { address: app1@operateur.mock.mssante.test, type: APP, certificate: { cert: pki/app1.pem, key: pki/app1.key } }
negative:
  expired_client_cert: { cert: pki/expired.pem, key: pki/expired.key }
  foreign_client_cert: { cert: /tmp/foreign.pem, key: /tmp/foreign.key }
limits:
  max_message_size: 1048576
timeouts: { connect: 2000, reply: 5000 }
rate: { messages_per_minute: 600, max_messages_per_run: 1000 }
"""
put("profile_load", MOCK_PROFILE)
put("profile_load", MOCK_PROFILE.replace("token: issuer }", "token: fictif-abc123 }", 1))
put("profile_load", MOCK_PROFILE.replace("smtp_starttls", "smtp_other").replace("messages_per_minute: 600", "messages_per_minute: 0"))
put("profile_load", MOCK_PROFILE.replace("type: APP, certificate: { cert: pki/app1.pem, key: pki/app1.key }", "type: APP"))
put("profile_load", MOCK_PROFILE.replace("per1@", "per1-at-"))
put("profile_load", "name: x\nendpoints: {}\nmailboxes: {}\n")
print("seeds written under", CORPUS, file=sys.stderr)
