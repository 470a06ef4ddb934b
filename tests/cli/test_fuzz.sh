#!/usr/bin/env bash
# Smoke run of the results-reader fuzz target (tests/fuzz/run.sh): builds it with ASan and
# UBSan and replays the seed corpus (the overflow reproduction of issue 20 among them), no
# random inputs, so it cannot flake. Skips where clang with libFuzzer is missing.
set -u
. "$(dirname "$0")/../lib.sh"
echo "fuzz:"
FUZZ_OUT=$TMP/fuzz "$(dirname "$0")/../fuzz/run.sh" 0 >"$TMP/fuzz.log" 2>&1; rc=$?
if [ $rc -eq 77 ]; then
    skip "fuzz seeds under ASan + UBSan ($(head -1 "$TMP/fuzz.log"))"
else
    check "fuzz seeds replay under ASan + UBSan without a finding ($(tail -1 "$TMP/fuzz.log"))" [ $rc -eq 0 ]
fi
summary fuzz
[ $FAILED -eq 0 ]
