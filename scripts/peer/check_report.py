#!/usr/bin/python3
"""Reads mssconf report.json files and decides the real-server stages.

  check_report.py conformance REPORT
      Passes when every scenario passed or was skipped (a scenario a stack cannot play is
      skipped by its profile, never tolerated here), and every proof of a passed scenario has
      its evidence file beside the report.
  check_report.py matrix --variants FILE --stack NAME=DIR [--stack NAME=DIR ...]
                  [--catalogue ROOT] [--markdown OUT]
      The detection matrix. DIR holds none/report.json (the stack as configured) and
      <variant>/report.json for each variant of FILE (variants.tsv) that was run. A variant is
      detected exactly when at least one scenario of the requirement it breaks turns from pass
      to fail (non conforme), and every other scenario keeps its verdict, except scenarios that
      also cite that requirement, scenarios of the requirements the variant may also break
      (column 3), and scenarios using an endpoint the variant makes unusable (column 4: no
      handshake a client can trust, or no TLS at all), which may turn to error or fail. Scenarios that did not pass on the stack as configured are set aside
      (listed). Prints variant x requirement per stack; exit status 1 if any cell is unexpected.
"""

import argparse
import json
import os
import re
import sys

BAD = ("fail", "error", "interrupted")
PASSING = ("pass", "flaky")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["scenarios"]


def line(s):
    reason = (s.get("reason") or "").replace("\n", " ")
    return f"  {s['outcome'].upper():<11} {s['id']:<16} [{', '.join(s.get('requirements', []))}] {reason[:160]}"


def conformance(scenarios):
    ok = True
    for s in scenarios:
        if s["outcome"] in BAD:
            print(line(s))
            ok = False
        elif s["outcome"] == "skip":
            print(line(s))
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


def read_variants(path):
    """variants.tsv -> list of dicts (name, requirement, also, endpoints, what)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip() or raw.startswith("#"):
                continue
            cols = raw.rstrip("\n").split("\t")
            if len(cols) != 5:
                raise SystemExit(f"{path}:{n}: expected 5 tab-separated columns, got {len(cols)}")
            name, req, also, endpoints, what = cols
            out.append({
                "name": name,
                "requirement": req,
                "also": set() if also == "-" else set(also.split(",")),
                "endpoints": set() if endpoints == "-" else set(endpoints.split(",")),
                "what": what,
            })
    return out


ENDPOINT = re.compile(r"^\s*endpoint:\s*([a-z_]+)\s*$", re.M)


def endpoints_of(scenario, root):
    """Endpoints a scenario's YAML names (its `file`, relative to the catalogue root)."""
    rel = scenario.get("file")
    if not rel:
        return set()
    try:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            return set(ENDPOINT.findall(f.read()))
    except OSError:
        return set()


def judge_variant(variant, base, run, root):
    """Cells of one variant: {requirement: symbol}, the problems, the pass->fail hits."""
    before = {s["id"]: s for s in base}
    target = variant["requirement"]
    cells, problems, hits = {}, [], []
    changed = []
    for s in run:
        b = before.get(s["id"])
        if b is None or b["outcome"] not in PASSING:
            continue  # set aside: did not pass on the stack as configured
        if s["outcome"] in PASSING:
            continue
        changed.append(s)
        reqs = set(s.get("requirements", []))
        if target in reqs:
            if s["outcome"] == "fail":
                hits.append(s)
            continue
        if reqs & variant["also"]:
            for r in reqs:
                cells[r] = "t"
            continue
        if endpoints_of(s, root) & variant["endpoints"]:
            for r in reqs:
                cells.setdefault(r, "e")
            continue
        problems.append(f"{s['id']} [{', '.join(sorted(reqs))}] {b['outcome']} -> {s['outcome']}: {(s.get('reason') or '')[:140]}")
        for r in reqs:
            cells[r] = "!"
    cited = [s for s in run if target in s.get("requirements", []) and before.get(s["id"], {}).get("outcome") in PASSING]
    if hits:
        cells[target] = f"X{len(hits)}/{len(cited)}"
    else:
        cells[target] = "MISSED"
        problems.insert(0, f"not detected: no scenario of {target} turned from pass to fail"
                        + ("" if cited else f" (no scenario of {target} passed on the stack as configured)"))
    return cells, problems, hits


def matrix(variants, stacks, root, markdown):
    ok = True
    md = []
    for stack, d in stacks:
        base_path = os.path.join(d, "none", "report.json")
        if not os.path.isfile(base_path):
            print(f"== {stack}: no baseline report {base_path}")
            ok = False
            continue
        base = load(base_path)
        aside = sorted(s["id"] for s in base if s["outcome"] not in PASSING and s["outcome"] != "skip")
        reqs = sorted({r for s in base for r in s.get("requirements", [])})
        print(f"== {stack} ({len(base)} scenarios; set aside, not passing as configured: {', '.join(aside) or 'none'})")
        rows = []
        for v in variants:
            path = os.path.join(d, v["name"], "report.json")
            skipped = os.path.join(d, v["name"], "skipped")
            if os.path.isfile(skipped):
                with open(skipped, encoding="utf-8") as f:
                    why = f.read().strip()
                print(f"  SKIPPED  {v['name']:<22} {why}")
                rows.append((v, {v["requirement"]: "skip"}, []))
                continue
            if not os.path.isfile(path):
                print(f"  {v['name']:<22} NOT RUN ({path} missing)")
                rows.append((v, None, ["not run"]))
                ok = False
                continue
            cells, problems, hits = judge_variant(v, base, load(path), root)
            rows.append((v, cells, problems))
            verdict = "DETECTED" if not problems else "WRONG"
            print(f"  {verdict:<8} {v['name']:<22} -> {v['requirement']:<12} "
                  f"by {', '.join(s['id'] for s in hits) or 'nothing'}")
            for p in problems:
                print(f"           {p}")
            ok = ok and not problems
        table = render(stack, reqs, rows)
        print(table)
        md.append(table)
    if markdown:
        with open(markdown, "w", encoding="utf-8") as f:
            f.write("\n\n".join(md) + "\n")
    return ok


def short(req):
    return req.replace("OPE/", "")


def render(stack, reqs, rows):
    """A Markdown table: one row per variant, one column per requirement cited."""
    head = f"**{stack}**\n\n| variant | " + " | ".join(short(r) for r in reqs) + " |\n"
    head += "|---|" + "---|" * len(reqs) + "\n"
    body = ""
    for v, cells, _ in rows:
        if cells is None:
            body += f"| {v['name']} | " + " | ".join("?" for _ in reqs) + " |\n"
            continue
        body += f"| {v['name']} | " + " | ".join(cells.get(r, "·") for r in reqs) + " |\n"
    return head + body


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["conformance", "matrix"])
    p.add_argument("report", nargs="?")
    p.add_argument("--variants")
    p.add_argument("--stack", action="append", default=[], help="NAME=DIR")
    p.add_argument("--catalogue", default=".")
    p.add_argument("--markdown")
    a = p.parse_args()
    if a.mode == "conformance":
        if not a.report:
            p.error("conformance needs REPORT")
        scenarios = load(a.report)
        # Both checks run, so every problem is printed.
        ok = conformance(scenarios) & evidence(scenarios, os.path.dirname(os.path.abspath(a.report)))
    else:
        if not a.variants or not a.stack:
            p.error("matrix needs --variants and at least one --stack NAME=DIR")
        stacks = [tuple(s.split("=", 1)) for s in a.stack]
        ok = matrix(read_variants(a.variants), stacks, a.catalogue, a.markdown)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
