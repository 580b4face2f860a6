#!/usr/bin/python3
"""Milter for the peer's submission services: the From: header must be the envelope sender.

Postfix binds the envelope sender to the login (reject_authenticated_sender_login_mismatch) or
to the client certificate (check_ccert_access), but has no rule tying the From: header to
either. This milter closes the gap: at end of message, every From: address must equal MAIL
FROM, else 550 5.7.1. Loopback only; Sendmail milter protocol version 6, no modifications.
"""

import argparse
import os
import socketserver
import struct
import sys
from email.utils import getaddresses

MAX_PACKET = 1 << 20
CONTINUE = b"c"


def read_packet(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None, None
    (size,) = struct.unpack("!I", head)
    if size < 1 or size > MAX_PACKET:
        return None, None
    data = stream.read(size)
    if len(data) < size:
        return None, None
    return data[:1], data[1:]


def packet(cmd: bytes, data: bytes = b"") -> bytes:
    return struct.pack("!I", len(data) + 1) + cmd + data


def envelope_address(args: bytes) -> str:
    first = args.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return first[1:-1] if first.startswith("<") and first.endswith(">") else first


def verdict(sender: str, from_values) -> bytes:
    addresses = [a for _, a in getaddresses(from_values) if a]
    if not addresses:
        return packet(b"y", b"550 5.7.1 Message has no From: address\0")
    stray = [a for a in addresses if a.lower() != sender.lower()]
    if stray or len(from_values) != 1:
        return packet(b"y", b"550 5.7.1 From: header is not the authenticated mailbox\0")
    return packet(CONTINUE)


class Session(socketserver.StreamRequestHandler):
    timeout = 300

    def handle(self):
        sender, froms = "", []
        while True:
            cmd, data = read_packet(self.rfile)
            if cmd is None or cmd == b"Q":
                return
            if cmd == b"O":
                # Version 6, no modification actions, every step sent and answered.
                self.wfile.write(packet(b"O", struct.pack("!III", 6, 0, 0)))
            elif cmd in (b"D", b"A"):  # macros need no answer; abort resets the message
                if cmd == b"A":
                    sender, froms = "", []
            elif cmd == b"M":
                sender, froms = envelope_address(data), []
                self.wfile.write(packet(CONTINUE))
            elif cmd == b"L":
                name, _, rest = data.partition(b"\0")
                if name.decode("ascii", "replace").lower() == "from":
                    froms.append(rest.rstrip(b"\0").decode("utf-8", "replace"))
                self.wfile.write(packet(CONTINUE))
            elif cmd == b"E":
                self.wfile.write(verdict(sender, froms))
                sender, froms = "", []
            else:
                self.wfile.write(packet(CONTINUE))
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid-file")
    a = p.parse_args()
    server = Server(("127.0.0.1", a.port), Session)
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    sys.stderr.write(f"mssconf peer From: milter on 127.0.0.1:{a.port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
