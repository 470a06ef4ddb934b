#!/usr/bin/env bash
# Regression tests for issue 20's audit (inputs that crashed or misled, files that followed
# planted symlinks, signals that were missed), each a reproduction from the issue; the unit
# level ones are in tests/unit/test_hardening.c. No GPU needed: `run` uses the fake system.
set -u
. "$(dirname "$0")/../lib.sh"
SEEDS=$(cd "$(dirname "$0")/../fuzz/seeds" && pwd)

echo "hardening:"
# ---- 1. replicate counts that wrap around 2^64 and "add up" to the sample count
F=$SEEDS/replicates-overflow.json
for fmt in txt md html json csv; do
    "$GVB" report "$F" --format $fmt >/dev/null 2>"$TMP/e"; rc=$?
    check "1. counts that overflow: report --format $fmt exits 0 (rc=$rc)" [ $rc -eq 0 ]
done
"$GVB" run --systems fake --metrics SELF-001 --replicates 1 --iterations 10 --json-only \
    --output "$TMP/cmp" --compare "$F" >/dev/null 2>&1; rc=$?
check "1. counts that overflow: run --compare FILE exits 0 (rc=$rc)" [ $rc -eq 0 ]

# ---- 7. scale: checks first, bootstraps only for what is printed
python3 - "$TMP" <<'PY'
import json, random, sys
random.seed(7)
def result(system, metric):
    s = [random.uniform(1, 2) for _ in range(100)]
    return {"system": system, "metric": metric, "name": metric, "category": "overhead", "unit": "us",
            "direction": "lower", "tenants": 1, "status": "OK", "reason": "", "value": sorted(s)[50],
            "samples": s, "replicates": [50, 50], "extras": {}, "series": {}, "wall_s": 1}
def run(systems, results):
    return {"schema_version": 1, "tool": "gpu-virt-bench", "tool_version": "x", "argv": ["x"],
            "gpu": {"name": "G"}, "config": {"seed": "1"},
            "systems": [{"name": n, "kind": "native" if n == "native" else "x", "config": {},
                         "activation": {"status": "OK"}} for n in systems], "results": results}
n = 3000
json.dump(run(["s%d" % i for i in range(n)], [result("s%d" % i, "OH-001") for i in range(n)]),
          open(sys.argv[1] + "/systems.json", "w"))
json.dump(run(["native"], [result("native", "X-%04d" % i) for i in range(n)]),
          open(sys.argv[1] + "/results.json", "w"))
PY
since() { awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $1 }"; }
t0=$EPOCHREALTIME
"$GVB" report "$TMP/systems.json" >/dev/null 2>"$TMP/e"; rc=$?
t=$(since $t0)
check "7. 3000 systems refused before any bootstrap: exit 2 in $t s (< 5)" \
    bash -c "[ $rc -eq 2 ] && grep -q 'at most 32' '$TMP/e' && awk 'BEGIN { exit !($t < 5) }'"
t0=$EPOCHREALTIME
"$GVB" report "$TMP/results.json" >/dev/null 2>&1; rc=$?
t=$(since $t0)
check "7. 3000 results of one system, no CI printed: report in $t s (< 5)" \
    bash -c "[ $rc -eq 0 ] && awk 'BEGIN { exit !($t < 5) }'"

summary hardening
[ $FAILED -eq 0 ]
