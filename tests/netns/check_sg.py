#!/usr/bin/env python3
"""check_sg.py JSON FIXDIR - the sg scenario's assertions on the agent's
security_groups: groups that lack the passive range explain the measured
silent drop and carry the provider's CLI rule; groups that open it do
not explain it; cloud-<provider>.sh written.  Exit 1 on any failure."""
import json
import os
import sys

CLI = {"aws": "aws ec2 authorize-security-group-ingress",
       "azure": "az network nsg rule create",
       "gcp": "gcloud compute firewall-rules create"}


def main():
    doc = json.load(open(sys.argv[1]))
    fixdir = sys.argv[2]
    bad = []
    groups = doc.get("security_groups") or []
    seen = set()
    for g in groups:
        prov, f = g.get("provider"), os.path.basename(g.get("file", ""))
        mode = "missing" if "missing" in f else "open"
        seen.add((prov, mode))
        pasv = [p for p in g.get("paths", []) if p.get("name") == "passive"]
        if not pasv:
            bad.append("%s %s: no passive path" % (prov, f))
            continue
        p = pasv[0]
        fixes = " ".join(g.get("fix") or [])
        if mode == "missing":
            if p.get("allowed") is not False or p.get("explains") is not True:
                bad.append("%s: passive %r, want denied and explained" %
                           (f, p))
            if CLI[prov] not in fixes or "30000" not in fixes:
                bad.append("%s: fix lacks '%s ... 30000': %r" %
                           (f, CLI[prov], fixes))
        else:
            if p.get("allowed") is not True or p.get("explains") is not False:
                bad.append("%s: passive %r, want allowed, not explained" %
                           (f, p))
        print("ok:   %s %s: passive allowed=%s explains=%s rule=%s" %
              (prov, f, p.get("allowed"), p.get("explains"), p.get("rule")))
    for prov in CLI:
        for mode in ("missing", "open"):
            if (prov, mode) not in seen:
                bad.append("no group evaluated for %s-%s" % (prov, mode))
        script = os.path.join(fixdir, "cloud-%s.sh" % prov)
        if not os.path.exists(script) or CLI[prov] not in open(script).read():
            bad.append("%s missing or without %s" % (script, CLI[prov]))
    ev = [e for c in doc.get("causes", []) if c.get("cause") ==
          "path-silent-drop" for e in c.get("evidence") or []]
    if not any("explains the measured path-silent-drop" in e for e in ev):
        bad.append("path-silent-drop has no group evidence: %r" % ev)
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
