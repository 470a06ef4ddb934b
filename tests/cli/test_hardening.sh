#!/usr/bin/env bash
# Regression tests for issue 20's audit (inputs that crashed or misled, files that followed
# planted symlinks, signals that were missed), each a reproduction from the issue; the unit
# level ones are in tests/unit/test_hardening.c. No GPU needed.
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

summary hardening
[ $FAILED -eq 0 ]
