#!/usr/bin/python3
"""Unit tests of the peer's Python helpers (no root, no daemon needed):
    /usr/bin/python3 -m unittest scripts/peer/test_peer_helpers.py
"""

import importlib.util
import json
import os
import shutil
import socket
import struct
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


psc = load("psc_server")
milter = load("from_milter")
check = load("check_report")
mdn = load("mdn_responder")


class IssuerTest(unittest.TestCase):
    def test_tokens_are_per_mailbox_and_expire(self):
        issuer = psc.Issuer(["Dr.A@op.test", "b@op.test"], accept_expired=False)
        token = issuer.issue("dr.a@op.test", 600)
        self.assertEqual(issuer.introspect(token)["mailbox"], "dr.a@op.test")
        self.assertIsNone(issuer.introspect(issuer.issue("b@op.test", -120)))
        head, body, sig = token.split(".")
        self.assertIsNone(issuer.introspect(f"{head}.{body}.{sig[:-2]}AA"))
        self.assertIsNone(issuer.introspect("not-a-token"))
        self.assertIsNone(psc.Issuer(["dr.a@op.test"], False).introspect(token))  # other key

    def test_accept_expired_variant(self):
        issuer = psc.Issuer(["a@op.test"], accept_expired=True)
        self.assertIsNotNone(issuer.introspect(issuer.issue("a@op.test", -120)))

    def test_whitelist_shape(self):
        xml = psc.whitelist_xml(["a.test", "x&y.test"])
        self.assertIn('xmlns="https://listeblanche.mssante.fr/schema"', xml)
        self.assertIn("<Nom>x&amp;y.test</Nom>", xml)


class MilterTest(unittest.TestCase):
    def setUp(self):
        self.server = milter.Server(("127.0.0.1", 0), milter.Session)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.shutdown)
        self.addCleanup(self.server.server_close)

    def session(self, sender, froms):
        with socket.create_connection(self.server.server_address, timeout=5) as s:
            f = s.makefile("rwb")

            def send(cmd, data=b""):
                f.write(milter.packet(cmd, data))
                f.flush()

            def reply():
                return milter.read_packet(f)

            send(b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF))
            self.assertEqual(reply()[0], b"O")
            send(b"D", b"Mj\0x\0")
            send(b"M", f"<{sender}>\0SIZE=10\0".encode())
            self.assertEqual(reply()[0], b"c")
            for value in froms:
                send(b"L", b"From\0" + value.encode() + b"\0")
                self.assertEqual(reply()[0], b"c")
            send(b"N")
            self.assertEqual(reply()[0], b"c")
            send(b"E")
            cmd, data = reply()
            send(b"Q")
            return cmd, data

    def test_from_must_be_the_envelope_sender(self):
        self.assertEqual(self.session("a@op.test", ["Dr A <A@op.test>"])[0], b"c")
        cmd, data = self.session("a@op.test", ["<b@op.test>"])
        self.assertEqual(cmd, b"y")
        self.assertTrue(data.startswith(b"550 5.7.1"))
        self.assertEqual(self.session("a@op.test", [])[0], b"y")
        self.assertEqual(self.session("a@op.test", ["a@op.test", "a@op.test"])[0], b"y")

    def test_oversized_packet_ends_the_session(self):
        with socket.create_connection(self.server.server_address, timeout=5) as s:
            s.sendall(struct.pack("!I", milter.MAX_PACKET + 1) + b"O")
            self.assertEqual(s.recv(10), b"")


class MdnTest(unittest.TestCase):
    def test_report_cites_the_original(self):
        raw = b"Return-Path: <a@op.test>\r\nMessage-ID: <m1@op.test>\r\nSubject: s\r\n\r\nbody\r\n"
        from email.parser import BytesParser

        msg = BytesParser().parsebytes(raw, headersonly=True)
        out = mdn.build("r@op.test", "a@op.test", raw, msg).decode()
        self.assertIn("report-type=disposition-notification", out)
        self.assertIn("Original-Message-ID: <m1@op.test>", out)
        self.assertIn("Disposition: automatic-action/MDN-sent-automatically; processed", out)
        self.assertIn("Final-Recipient: rfc822; r@op.test", out)
        self.assertNotIn("body", out)


def report(outcomes):
    return {"scenarios": [{"id": i, "requirements": reqs, "outcome": o, "reason": None} for i, reqs, o in outcomes]}


class CheckReportTest(unittest.TestCase):
    def write(self, outcomes):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(report(outcomes), f)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return check.load(f.name)

    def test_conformance_tolerates_known_limits_only(self):
        limits = {"S.3": "why"}
        ok = self.write([("S.1", ["R1"], "pass"), ("S.2", ["R2"], "skip"), ("S.3", ["R3"], "fail")])
        self.assertTrue(check.conformance(ok, limits))
        self.assertFalse(check.conformance(self.write([("S.1", ["R1"], "error")]), limits))
        self.assertFalse(check.conformance(self.write([("S.3", ["R3"], "pass")]), limits))  # stale limit

    def test_evidence_of_passed_scenarios_must_exist(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "proofs"))
        open(os.path.join(d, "proofs", "A.01.log"), "w").close()
        def scenario(outcome, proofs):
            return {"id": "S.1", "outcome": outcome, "proofs": proofs}
        self.assertTrue(check.evidence([scenario("pass", [{"id": "A.01", "file": "proofs/A.01.log"}])], d))
        self.assertFalse(check.evidence([scenario("pass", [{"id": "A.02", "file": "proofs/A.02.png"}])], d))
        self.assertFalse(check.evidence([scenario("pass", [{"id": "A.03"}])], d))
        # A scenario that did not pass may lack some proofs (the steps after the failure).
        self.assertTrue(check.evidence([scenario("fail", [{"id": "A.03"}])], d))

    def test_misconfig_needs_a_hit_and_no_stray(self):
        base = self.write([("S.1", ["R1"], "pass"), ("S.2", ["R2"], "fail"), ("S.9", ["R9"], "pass")])
        hit = self.write([("S.1", ["R1"], "fail"), ("S.2", ["R2"], "fail"), ("S.9", ["R9"], "pass")])
        self.assertTrue(check.misconfig(hit, "R1", [], {}, base))
        stray = self.write([("S.1", ["R1"], "fail"), ("S.9", ["R9"], "fail")])
        self.assertFalse(check.misconfig(stray, "R1", [], {}, base))
        self.assertTrue(check.misconfig(stray, "R1", ["R9"], {}, base))
        missed = self.write([("S.1", ["R1"], "pass")])
        self.assertFalse(check.misconfig(missed, "R1", [], {}, base))


if __name__ == "__main__":
    unittest.main()
