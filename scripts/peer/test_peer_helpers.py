#!/usr/bin/python3
"""Unit tests of the peer's Python helpers (no root, no daemon needed):
    /usr/bin/python3 -m unittest scripts/peer/test_peer_helpers.py
"""

import base64
import importlib.util
import json
import os
import shutil
import tempfile
import sys
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # psc_server imports psc_grants, its neighbour


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


psc = load("psc_server")
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

    def test_revoked_tokens_are_inactive(self):
        issuer = psc.Issuer(["a@op.test", "b@op.test"], accept_expired=False)
        revoked, kept = issuer.issue("a@op.test", 600), issuer.issue("a@op.test", 600)
        self.assertTrue(issuer.revoke(revoked))
        self.assertIsNone(issuer.introspect(revoked))
        self.assertEqual(issuer.introspect(kept)["mailbox"], "a@op.test")
        self.assertFalse(issuer.revoke("not-a-token"))
        lax = psc.Issuer(["a@op.test"], accept_expired=False, accept_revoked=True)
        token = lax.issue("a@op.test", 600)
        lax.revoke(token)
        self.assertIsNotNone(lax.introspect(token))

    def test_revoked_token_file_is_private_and_inactive(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        issuer = psc.Issuer(["a@op.test"], accept_expired=False)
        path = os.path.join(d, "revoked-token")
        psc.write_revoked_token(issuer, "a@op.test", path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            token = f.read().strip()
        self.assertIsNone(issuer.introspect(token))
        self.assertIsNotNone(issuer.verify(token))  # signed by us, unexpired: refused as revoked

    def test_crl_is_served_in_der(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        pem = os.path.join(d, "crl.pem")
        der = bytes(range(256)) * 3
        body = base64.encodebytes(der).decode("ascii")
        with open(pem, "w") as f:
            f.write(f"junk before\n-----BEGIN X509 CRL-----\n{body}-----END X509 CRL-----\n")
        self.assertEqual(psc.crl_der(pem), der)
        with open(pem, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        with self.assertRaises(ValueError):
            psc.crl_der(pem)

    def test_crl_endpoint_serves_the_file_read_at_each_request(self):
        import argparse
        import threading
        import urllib.error
        import urllib.request
        from http.server import ThreadingHTTPServer

        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        pem = os.path.join(d, "crl.pem")

        def write(der):
            with open(pem, "w") as f:
                f.write(f"-----BEGIN X509 CRL-----\n{base64.encodebytes(der).decode()}-----END X509 CRL-----\n")

        def get(server):
            url = f"http://127.0.0.1:{server.server_address[1]}/crl/root.crl"
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.headers["Content-Type"], r.read()

        def serve(crl):
            server = ThreadingHTTPServer(("127.0.0.1", 0), psc.Handler)
            server.cfg = argparse.Namespace(crl=crl)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.addCleanup(server.server_close)
            self.addCleanup(server.shutdown)
            return server

        server = serve(pem)
        write(b"first")
        self.assertEqual(get(server), ("application/pkix-crl", b"first"))
        write(b"second")  # a new PKI is served without a restart
        self.assertEqual(get(server)[1], b"second")
        with self.assertRaises(urllib.error.HTTPError) as e:
            get(serve(None))
        self.assertEqual(e.exception.code, 404)

    def test_whitelist_shape(self):
        xml = psc.whitelist_xml(["a.test", "x&y.test"])
        self.assertIn('xmlns="https://listeblanche.mssante.fr/schema"', xml)
        self.assertIn("<Nom>x&amp;y.test</Nom>", xml)


class QuietHandler(psc.Handler):
    def log_message(self, fmt, *args):
        pass


class GrantTest(unittest.TestCase):
    """The OAuth 2.0 token endpoint (RFC 6749 §4.4, §6) on a real socket."""

    ORG = "secretariat.fictif@op.test"
    PER = "dr.a@op.test"

    def setUp(self):
        import argparse
        from http.server import ThreadingHTTPServer

        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.issuer = psc.Issuer([self.PER, self.ORG], accept_expired=False)
        grants = psc.psc_grants.Grants(self.issuer, 300)
        grants.write_files(self.dir)
        server = ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
        server.cfg = argparse.Namespace(issuer=self.issuer, grants=grants)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.url = f"http://127.0.0.1:{server.server_address[1]}/psc/oauth2/token"

    def secret(self, mailbox, kind):
        path = os.path.join(self.dir, f"{mailbox}.{kind}")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)
        with open(path) as f:
            return f.read().strip()

    def post(self, fields, basic=None, ctype="application/x-www-form-urlencoded", body=None):
        """(status, JSON answer, headers). `basic`: (id, secret), form-encoded as §2.3.1 says."""
        data = body if body is not None else urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(self.url, data=data, method="POST", headers={"Content-Type": ctype})
        if basic:
            pair = ":".join(urllib.parse.quote_plus(p) for p in basic)
            req.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read()), r.headers
        except urllib.error.HTTPError as e:
            with e:
                return e.code, json.loads(e.read()), e.headers

    def test_refresh_token_grant_issues_a_token_introspection_accepts(self):
        rt, cs = self.secret(self.ORG, "refresh-token"), self.secret(self.ORG, "client-secret")
        status, body, headers = self.post({"grant_type": "refresh_token", "refresh_token": rt}, basic=(self.ORG, cs))
        self.assertEqual(status, 200, body)
        self.assertEqual((body["token_type"], body["expires_in"]), ("Bearer", 300))
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertNotIn("refresh_token", body)  # not rotated: the profile's file stays good
        self.assertEqual(self.issuer.introspect(body["access_token"])["mailbox"], self.ORG)
        # Client authentication in the body (§2.3.1) works too.
        status, body, _ = self.post({"grant_type": "refresh_token", "refresh_token": rt, "client_id": self.ORG, "client_secret": cs})
        self.assertEqual(status, 200, body)

    def test_client_credentials_grant(self):
        cs = self.secret(self.PER, "client-secret")
        status, body, _ = self.post({"grant_type": "client_credentials", "scope": "openid mail"}, basic=(self.PER, cs))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["scope"], "openid mail")
        self.assertEqual(self.issuer.introspect(body["access_token"])["mailbox"], self.PER)

    def test_bad_refresh_token_is_invalid_grant(self):
        cs = self.secret(self.ORG, "client-secret")
        status, body, _ = self.post({"grant_type": "refresh_token", "refresh_token": "not-ours"}, basic=(self.ORG, cs))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        # Another client's refresh token is refused too (§6: bound to its client).
        other = self.secret(self.PER, "refresh-token")
        status, body, _ = self.post({"grant_type": "refresh_token", "refresh_token": other}, basic=(self.ORG, cs))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_wrong_or_missing_client_is_invalid_client(self):
        rt, cs = self.secret(self.ORG, "refresh-token"), self.secret(self.ORG, "client-secret")
        grant = {"grant_type": "refresh_token", "refresh_token": rt}
        for basic in [(self.ORG, "wrong"), ("nobody@op.test", cs), (self.PER, cs)]:
            status, body, headers = self.post(grant, basic=basic)
            # §5.2: a client that tried HTTP Basic gets 401 with the scheme to use.
            self.assertEqual((status, body["error"]), (401, "invalid_client"), basic[0])
            self.assertTrue(headers["WWW-Authenticate"].startswith("Basic "))
        status, body, _ = self.post({"grant_type": "client_credentials", "client_id": self.ORG})  # no secret
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, body, _ = self.post({"grant_type": "client_credentials", "client_secret": cs}, basic=(self.ORG, cs))
        self.assertEqual((status, body["error"]), (400, "invalid_request"))  # two methods at once

    def test_malformed_requests(self):
        cs = self.secret(self.ORG, "client-secret")
        status, body, _ = self.post({"grant_type": "password"}, basic=(self.ORG, cs))
        self.assertEqual((status, body["error"]), (400, "unsupported_grant_type"))
        status, body, _ = self.post({}, basic=(self.ORG, cs), ctype="application/json", body=b'{"grant_type":"client_credentials"}')
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, body, _ = self.post({}, basic=(self.ORG, cs), body=b"grant_type=client_credentials&grant_type=refresh_token")
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, body, _ = self.post({"grant_type": "client_credentials", "scope": "admin"}, basic=(self.ORG, cs))
        self.assertEqual((status, body["error"]), (400, "invalid_scope"))


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


def report(outcomes, files=None):
    return {"scenarios": [
        {"id": i, "requirements": reqs, "outcome": o, "reason": None, "file": (files or {}).get(i)}
        for i, reqs, o in outcomes
    ]}


class CheckReportTest(unittest.TestCase):
    def write(self, outcomes, files=None):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(report(outcomes, files), f)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return check.load(f.name)

    def test_conformance_tolerates_no_failure(self):
        self.assertTrue(check.conformance(self.write([("S.1", ["R1"], "pass"), ("S.2", ["R2"], "skip")])))
        self.assertFalse(check.conformance(self.write([("S.1", ["R1"], "error")])))
        self.assertFalse(check.conformance(self.write([("S.3", ["R3"], "fail")])))

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

    def variant(self, req, also="-", endpoints="-"):
        return {"name": "v", "requirement": req,
                "also": set() if also == "-" else {also},
                "endpoints": set() if endpoints == "-" else {endpoints}, "what": ""}

    def test_variant_needs_a_pass_to_fail_and_no_stray(self):
        base = self.write([("S.1", ["R1"], "pass"), ("S.2", ["R2"], "fail"), ("S.9", ["R9"], "pass")])
        hit = self.write([("S.1", ["R1"], "fail"), ("S.2", ["R2"], "pass"), ("S.9", ["R9"], "pass")])
        cells, problems, _ = check.judge_variant(self.variant("R1"), base, hit, ".")
        self.assertEqual((cells["R1"], problems), ("X1/1", []))  # S.2 set aside: failed before
        stray = self.write([("S.1", ["R1"], "fail"), ("S.9", ["R9"], "fail")])
        cells, problems, _ = check.judge_variant(self.variant("R1"), base, stray, ".")
        self.assertEqual(cells["R9"], "!")
        self.assertEqual(len(problems), 1)
        cells, problems, _ = check.judge_variant(self.variant("R1", also="R9"), base, stray, ".")
        self.assertEqual((cells["R9"], problems), ("t", []))
        missed = self.write([("S.1", ["R1"], "pass"), ("S.9", ["R9"], "pass")])
        cells, problems, _ = check.judge_variant(self.variant("R1"), base, missed, ".")
        self.assertEqual(cells["R1"], "MISSED")
        # An error (not a pass -> error on an endpoint the variant does not break) is a problem.
        errored = self.write([("S.1", ["R1"], "error"), ("S.9", ["R9"], "pass")])
        self.assertTrue(check.judge_variant(self.variant("R1"), base, errored, ".")[1])

    def test_changes_allowed_only_on_an_endpoint_the_variant_breaks(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        with open(os.path.join(d, "s9.yaml"), "w") as f:
            f.write("steps:\n  - smtp:\n      endpoint: smtp_implicit\n")
        files = {"S.9": "s9.yaml"}
        base = self.write([("S.1", ["R1"], "pass"), ("S.9", ["R9"], "pass")], files)
        run = self.write([("S.1", ["R1"], "fail"), ("S.9", ["R9"], "error")], files)
        ok = self.variant("R1", endpoints="smtp_implicit")
        self.assertEqual(check.judge_variant(ok, base, run, d)[1], [])
        other = self.variant("R1", endpoints="imap_implicit")
        self.assertTrue(check.judge_variant(other, base, run, d)[1])
        failed = self.write([("S.1", ["R1"], "fail"), ("S.9", ["R9"], "fail")], files)
        cells, problems, _ = check.judge_variant(ok, base, failed, d)
        self.assertEqual((cells["R9"], problems), ("e", []))

    def test_variants_file_is_read_strictly(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        good = os.path.join(d, "v.tsv")
        with open(good, "w") as f:
            f.write("# comment\nv1\tR1\tR2,R3\tsmtp_implicit\twhat\n")
        (v,) = check.read_variants(good)
        self.assertEqual((v["also"], v["endpoints"]), ({"R2", "R3"}, {"smtp_implicit"}))
        bad = os.path.join(d, "bad.tsv")
        with open(bad, "w") as f:
            f.write("v1\tR1\n")
        with self.assertRaises(SystemExit):
            check.read_variants(bad)

    def test_the_project_variants_file_parses(self):
        names = [v["name"] for v in check.read_variants(os.path.join(HERE, "variants.tsv"))]
        self.assertGreaterEqual(len(names), 15)
        self.assertEqual(len(names), len(set(names)))


if __name__ == "__main__":
    unittest.main()
