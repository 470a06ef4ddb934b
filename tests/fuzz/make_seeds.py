#!/usr/bin/env python3
"""Writes tests/fuzz/seeds/fixture-*.json: the synthetic report fixtures with every sample
series cut to a few samples (same keys, systems, statuses, extras), so that one execution of
the fuzz target takes milliseconds, not seconds. Run after the fixtures change."""
import json, os, glob

here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, "..", "fixtures", "synthetic-*.json"))):
    d = json.load(open(path))
    for r in d.get("results", []):
        reps = r.get("replicates") or []
        keep = 4 if len(reps) >= 2 else 8
        if len(reps) >= 2:
            per = [r["samples"][sum(reps[:i]):sum(reps[:i]) + min(keep, reps[i])] for i in range(2)]
            r["samples"], r["replicates"] = per[0] + per[1], [len(per[0]), len(per[1])]
        else:
            r["samples"] = r.get("samples", [])[:keep]
            if reps:
                r["replicates"] = [len(r["samples"])]
        for s in (r.get("series") or {}).values():
            s["samples"] = s.get("samples", [])[:4]
            s.pop("stats", None)
        r.pop("stats", None)
    name = "fixture-" + os.path.basename(path)[len("synthetic-"):]
    with open(os.path.join(here, "seeds", name), "w") as f:
        json.dump(d, f, separators=(",", ":"))
        f.write("\n")
