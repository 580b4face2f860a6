#!/usr/bin/python3
"""Read-receipt responder of the peer's `mdn_responder` mailbox (RFC 8098).

Postfix pipes it a copy of each message for that mailbox (the mailbox itself still gets the
message). When the message asks for a read receipt (Disposition-Notification-To) addressed to
its own Return-Path, as RFC 8098 §2.1 requires for an automatic answer, it sends back an
automatic "processed" MDN with a null envelope sender through Postfix's sendmail. Reports and
automatic messages get no answer (no loops).

Usage (Postfix pipe, flags=R so Return-Path is present): mdn_responder.py RESPONDER_ADDRESS
      (Exim pipe, return_path_add): mdn_responder.py --smtp HOST:PORT RESPONDER_ADDRESS
      (--smtp: the MDN goes by plain SMTP to that loopback listener instead of sendmail)
"""

import email.policy
import smtplib
import subprocess
import sys
import uuid
from email.parser import BytesParser
from email.utils import formatdate, getaddresses

SENDMAIL = "/usr/sbin/sendmail"


def address(value) -> str:
    found = [a for _, a in getaddresses([str(value)]) if a]
    return found[0] if found else ""


def header_block(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep)
        if end >= 0:
            return raw[:end].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
    return raw


def build(responder: str, to: str, raw: bytes, msg) -> bytes:
    host = responder.rpartition("@")[2]
    boundary = f"=_mdn_{uuid.uuid4().hex}"
    original_id = (msg.get("Message-ID") or "").strip()
    subject = str(msg.get("Subject") or "")
    lines = [
        f"From: <{responder}>",
        f"To: <{to}>",
        f"Subject: =?utf-8?q?Accus=C3=A9_de_lecture_(trait=C3=A9)_:?= {subject}".rstrip(),
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: <mdn.{uuid.uuid4().hex}@{host}>",
    ]
    if original_id:
        lines += [f"In-Reply-To: {original_id}", f"References: {original_id}"]
    lines += [
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "",
        f"The message sent to {responder} was processed automatically by the recipient's system.",
        "This is no guarantee that it was read.",
        "",
        f"--{boundary}",
        "Content-Type: message/disposition-notification",
        "",
        f"Reporting-UA: {host}; mssconf-peer-mdn-responder",
    ]
    if msg.get("Original-Recipient"):
        lines.append(f"Original-Recipient: {str(msg.get('Original-Recipient')).strip()}")
    lines.append(f"Final-Recipient: rfc822; {responder}")
    if original_id:
        lines.append(f"Original-Message-ID: {original_id}")
    lines += [
        "Disposition: automatic-action/MDN-sent-automatically; processed",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
    ]
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    return head + header_block(raw) + f"\r\n--{boundary}--\r\n".encode()


def send_smtp(hostport: str, to: str, mdn: bytes) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=30) as s:
            s.sendmail("", [to], mdn)
        return True
    except (OSError, smtplib.SMTPException, ValueError) as e:
        print(f"SMTP to {hostport} failed: {e}", file=sys.stderr)
        return False


def main() -> int:
    args = sys.argv[1:]
    smtp = None
    if len(args) == 3 and args[0] == "--smtp":
        smtp, args = args[1], args[2:]
    if len(args) != 1:
        print("usage: mdn_responder.py [--smtp HOST:PORT] RESPONDER_ADDRESS", file=sys.stderr)
        return 64
    responder = args[0]
    raw = sys.stdin.buffer.read(32 * 1024 * 1024)
    msg = BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    to = address(msg.get("Disposition-Notification-To") or "")
    return_path = address(msg.get("Return-Path") or "")
    automatic = (msg.get("Auto-Submitted") or "no").strip().lower() != "no"
    report = "multipart/report" in (msg.get("Content-Type") or "").lower()
    if not to or automatic or report or not return_path or to.lower() != return_path.lower():
        return 0
    mdn = build(responder, to, raw, msg)
    # Null envelope sender: an MDN must not bounce back to the responder (RFC 8098 §2.1).
    if smtp:
        return 0 if send_smtp(smtp, to, mdn) else 75
    done = subprocess.run([SENDMAIL, "-i", "-f", "", "--", to], input=mdn, timeout=30)
    if done.returncode != 0:
        print(f"sendmail exited {done.returncode}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: Postfix retries the copy later
    return 0


if __name__ == "__main__":
    sys.exit(main())
