#!/usr/bin/python3
"""Reads an mssconf report.json and decides a peer run.

  check_report.py conformance REPORT [--known-limits FILE]
      Passes when every scenario passed or was skipped, apart from the known limits of the peer
      (which must still fail: a known limit that passes means the list is stale), and every
      proof of a passed scenario has its evidence file beside the report.
  check_report.py misconfig REPORT --requirement REQ [--tolerate REQ ...] [--known-limits FILE]
                  [--baseline REPORT]
      Passes when the misconfiguration is detected by the scenarios of REQ and by them only:
      at least one scenario citing REQ fails, and every failing scenario cites REQ or a
      tolerated requirement. Known limits, and scenarios that already fail on the correctly
      configured peer (--baseline report), are set aside: only the change counts.
"""

import argparse
import json
import os
import sys

BAD = ("fail", "error", "interrupted")


def known_limits(path):
    limits = {}
    if not path:
        return limits
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                sid, _, reason = line.rstrip("\n").partition("\t")
                limits[sid.strip()] = reason.strip()
    return limits


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["scenarios"]


def line(s):
    reason = (s.get("reason") or "").replace("\n", " ")
    return f"  {s['outcome'].upper():<11} {s['id']:<16} [{', '.join(s.get('requirements', []))}] {reason[:160]}"


def conformance(scenarios, limits):
    ok = True
    for s in scenarios:
        if s["outcome"] in BAD and s["id"] not in limits:
            print(line(s))
            ok = False
        elif s["outcome"] == "skip":
            print(line(s))
    for s in scenarios:
        if s["id"] in limits:
            if s["outcome"] == "pass":
                print(f"  STALE       {s['id']:<16} passes although listed as a known limit of the peer")
                ok = False
            else:
                print(f"  LIMIT       {s['id']:<16} {limits[s['id']][:140]}")
    counts = {}
    for s in scenarios:
        counts[s["outcome"]] = counts.get(s["outcome"], 0) + 1
    print("  " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + f" ({len(scenarios)} scenarios)")
    return ok


def evidence(scenarios, report_dir):
    """Every proof of a passed scenario names a file that exists under report_dir, unless its
    step was not needed (a conformant alternative seen earlier; the record says which)."""
    ok = True
    for s in scenarios:
        if s["outcome"] != "pass":
            continue
        for p in s.get("proofs", []):
            if p.get("not_needed"):
                continue
            rel = p.get("file")
            if not rel or not os.path.isfile(os.path.join(report_dir, rel)):
                print(f"  NO PROOF    {s['id']:<16} proof {p.get('id', '?')}: {rel or 'no file recorded'}")
                ok = False
    return ok


def misconfig(scenarios, requirement, tolerated, limits, baseline):
    allowed = {requirement, *tolerated}
    before = {s["id"] for s in baseline if s["outcome"] in BAD}
    for sid in sorted(before - set(limits)):
        print(f"  (set aside: {sid} fails on the correctly configured peer too)")
    failed = [s for s in scenarios if s["outcome"] in BAD and s["id"] not in limits and s["id"] not in before]
    hits = [s for s in failed if requirement in s.get("requirements", [])]
    strays = [s for s in failed if not allowed.intersection(s.get("requirements", []))]
    citing = [s for s in scenarios if requirement in s.get("requirements", [])]
    for s in failed:
        print(line(s))
    still = [s["id"] for s in citing if s["outcome"] == "pass"]
    if still:
        print(f"  (scenarios of {requirement} still passing: {', '.join(still)})")
    if not citing:
        print(f"  no scenario of this run cites {requirement}")
        return False
    if not hits:
        print(f"  NOT DETECTED: no scenario of {requirement} failed")
    for s in strays:
        print(f"  STRAY: {s['id']} failed but cites none of {sorted(allowed)}")
    return bool(hits) and not strays


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["conformance", "misconfig"])
    p.add_argument("report")
    p.add_argument("--known-limits")
    p.add_argument("--requirement")
    p.add_argument("--tolerate", action="append", default=[])
    p.add_argument("--baseline")
    a = p.parse_args()
    scenarios = load(a.report)
    limits = known_limits(a.known_limits)
    if a.mode == "conformance":
        # Both checks run, so every problem is printed.
        ok = conformance(scenarios, limits) & evidence(scenarios, os.path.dirname(os.path.abspath(a.report)))
    else:
        if not a.requirement:
            p.error("misconfig needs --requirement")
        ok = misconfig(scenarios, a.requirement, a.tolerate, limits, load(a.baseline) if a.baseline else [])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
