#!/usr/bin/env bash
# `make test`: unit tests (cmocka), CLI tests on the fake system, GPU tests (skip without a
# GPU). Ends with one line "total: N passed, N failed, N skipped"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
P=0; F=0; S=0
add() { # parse "...: N passed, N failed, N skipped" from the last such line of $1
    local line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -1)
    P=$((P + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")))
    F=$((F + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
    if grep -q skipped <<<"$line"; then S=$((S + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line"))); fi
}

echo "unit:"
out=$(CMOCKA_MESSAGE_OUTPUT=stdout ./${BUILD:-build}/unit-tests 2>&1); rc=$?
echo "$out" | grep -E '^\[  (FAILED|PASSED)  \]|^\[  ERROR|!=|Failure' | sed 's/^/  /'
up=$(grep -E '^\[  PASSED  \] [0-9]+ test' <<<"$out" | awk '{s+=$4} END {print s+0}')
uf=$(grep -E '^\[  FAILED  \] [0-9]+ test' <<<"$out" | awk '{s+=$4} END {print s+0}')
[ $rc -ne 0 ] && [ "$uf" -eq 0 ] && uf=1 # crashed before its summary
echo "unit: $up passed, $uf failed"
P=$((P + up)); F=$((F + uf))

for t in tests/cli/test_*.sh tests/gpu/run.sh; do
    out=$(bash "$t" 2>&1)
    echo "$out"
    add "$out"
    grep -qE '[0-9]+ passed, [0-9]+ failed' <<<"$out" || { echo "  $t ended without a summary"; F=$((F + 1)); }
done

echo "total: $P passed, $F failed, $S skipped"
[ $F -eq 0 ]
