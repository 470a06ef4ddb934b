#!/usr/bin/env bash
# CLI tests without a GPU: the fake system's self-test metrics drive the whole pipeline
# (spawn, barrier, samples, statistics, JSON/CSV/text, deadline kill, crash), plus bad input.
set -u
. "$(dirname "$0")/../lib.sh"

echo "cli:"
# ---- list
out=$("$GVB" list); rc=$?
check "list exits 0" [ $rc -eq 0 ]
# the counts come from the catalog's lines (test_catalog.sh ties the list to the docs)
DEF="$(dirname "$0")/../../src/core/catalog.def"
NSELF=$(grep -c '^GVB_METRIC(SELF_' "$DEF")
NWL=$(grep -c '^GVB_METRIC(WL_' "$DEF") # the workload's, hidden like the self-tests
N=$(( $(grep -c '^GVB_METRIC(' "$DEF") - NSELF - NWL ))
check "list prints $N metrics" [ "$(echo "$out" | grep -cE '^[A-Z]+-[0-9]{3} ')" -eq "$N" ]
check "list hides self-tests and workload metrics" bash -c "! echo \"\$1\" | grep -qE 'SELF-|WL-'" _ "$out"
n=$("$GVB" list --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), len({m["id"] for m in d}), sorted(d[0]))')
check "list --format json: $N unique entries with all fields" [ "$n" = "$N $N ['category', 'direction', 'id', 'implemented', 'name', 'requires', 'tenants', 'unit']" ]
check "list --all adds the $NSELF self-tests and the $NWL workload metrics" [ "$("$GVB" list --all --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq $((N + NSELF + NWL)) ]

# ---- the commit the binary was built from, in --version and every results file
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)" = "$ROOT" ]; then
    head=$(git -C "$ROOT" rev-parse --short=12 HEAD)
    check "--version names the commit built ($head)" bash -c "\"\$1\" --version | grep -qE '^gpu-virt-bench [0-9.]+\+g$head(-dirty)?\$'" _ "$GVB"
else
    skip "--version names the commit (not a git checkout)"
fi

# ---- a fake run through every self-test (one replicate: the closed forms below are per process)
"$GVB" run --systems fake --metrics 'SELF-*' --processes 4 --replicates 1 --output "$TMP/a" >"$TMP/a.out" 2>"$TMP/a.err"; rc=$?
check "self-test run exits 4 (two metrics fail on purpose)" [ $rc -eq 4 ]
J=$(ls "$TMP"/a/*/results.json 2>/dev/null | head -1)
check "results.json written" [ -f "$J" ]
check "results.json's tool_version is the binary's" [ "gpu-virt-bench $(json_get "$J" "d['tool_version']")" = "$("$GVB" --version)" ]
check "results.csv and summary.txt written" [ -f "$(dirname "$J")/results.csv" -a -f "$(dirname "$J")/summary.txt" ]
check "no temp files left" [ -z "$(ls "$(dirname "$J")" | grep '\.tmp')" ]
check "SELF-001: 100 real samples" [ "$(result "$J" fake SELF-001 stats.n)" = 100 ]
check "SELF-001: median of 1..100 is 50.5" [ "$(result "$J" fake SELF-001 value)" = 50.5 ]
check "SELF-001: p99 is 99.01" [ "$(result "$J" fake SELF-001 stats.p99)" = 99.01 ]
check "SELF-001: raw samples kept in order" [ "$(result "$J" fake SELF-001 samples.99)" = 100.0 ]
spread=$(result "$J" fake SELF-002 value)
check "SELF-002: 4 tenants released together (spread ${spread} ms < 50; ready 300 ms apart)" python3 -c "import sys; sys.exit(0 if float('$spread') < 50 else 1)"
check "SELF-002: one sample per tenant" [ "$(result "$J" fake SELF-002 stats.n)" = 4 ]
check "SELF-003: crash is FAIL with the signal" bash -c "[ '$(result "$J" fake SELF-003 status)' = FAIL ] && grep -q 'signal 11' <<<'$(result "$J" fake SELF-003 reason)'"
check "SELF-003: a FAIL has no value" [ "$(result "$J" fake SELF-003 value)" = None ]
check "SELF-004: hang killed at its deadline" bash -c "grep -q 'overran its 2.0 s deadline' <<<'$(result "$J" fake SELF-004 reason)'"
check "SELF-005: SKIP with its reason" [ "$(result "$J" fake SELF-005 reason)" = "self-test: skipped on purpose" ]
med=$(result "$J" fake SELF-006 value)
check "SELF-006: timing loop recovers a 200 us busy-wait (got $med)" python3 -c "import sys; sys.exit(0 if 199 <= float('$med') <= 230 else 1)"
spread=$(result "$J" fake SELF-007 value)
check "SELF-007: phase 1 releases tenants together (spread ${spread} ms < 40; arrivals 150 ms apart)" python3 -c "import sys; sys.exit(0 if float('$spread') < 40 else 1)"
check "SELF-007: a tenant that exits does not hold phase 2" [ "$(result "$J" fake SELF-007 extras.t0.phase2_released)" = 1 ]
check "the run went on after the crash and the hang" [ "$(json_get "$J" 'len(d["results"])')" = 7 ]
check "no worker left running" [ -z "$(leftover_workers)" ]

# ---- replicates: each one is a fresh process group; --iterations is the total
"$GVB" run --systems fake --metrics SELF-001 --replicates 3 --iterations 90 --json-only --output "$TMP/rep" >/dev/null 2>&1; rc=$?
JR=$(ls "$TMP"/rep/*/results.json 2>/dev/null | head -1)
check "--replicates 3 --iterations 90: exit 0" [ $rc -eq 0 ]
check "--replicates 3 --iterations 90: replicates [30, 30, 30]" [ "$(result "$JR" fake SELF-001 replicates)" = "[30, 30, 30]" ]
check "--replicates 3: samples are 1..30 three times (three processes)" python3 -c "
import json, sys
r = [r for r in json.load(open('$JR'))['results'] if r['metric'] == 'SELF-001'][0]
sys.exit(0 if r['samples'] == [float(k) for k in range(1, 31)] * 3 else 1)"
check "--replicates 3: recorded in the run config" [ "$(json_get "$JR" 'd["config"]["replicates"]')" = 3 ]
check "--replicates 3: the CI of the median comes from the replicates" python3 -c "
import json, sys
r = [r for r in json.load(open('$JR'))['results'] if r['metric'] == 'SELF-001'][0]
sys.exit(0 if r['extras']['pid'] > 0 and r['stats']['ci95_median'][0] is not None else 1)"
"$GVB" run --systems fake --metrics SELF-001,SELF-003 --processes 2 --json-only --output "$TMP/rep2" >/dev/null 2>&1
JR2=$(ls "$TMP"/rep2/*/results.json 2>/dev/null | head -1)
check "default 3 replicates: SELF-001 replicates [34, 34, 34]" [ "$(result "$JR2" fake SELF-001 replicates)" = "[34, 34, 34]" ]
check "a crash in a replicate FAILs the metric naming the replicate" bash -c "grep -q '^replicate 1: tenant 1 .*signal 11' <<<'$(result "$JR2" fake SELF-003 reason)'"
check "a failed replicate ends the metric (no second replicate)" [ "$(result "$JR2" fake SELF-003 replicates)" = "[10]" ]

# ---- interleaved order: every system set up first, then rounds of replicates
"$GVB" run --systems fake,fake@b,fake@c --metrics SELF-001,SELF-006 --replicates 3 --iterations 30 \
    --json-only --output "$TMP/il" >/dev/null 2>&1
JI=$(ls "$TMP"/il/*/results.json 2>/dev/null | head -1)
check "interleaved: recorded as config.system_order" [ "$(json_get "$JI" 'd["config"]["system_order"]')" = interleaved ]
check "interleaved: round k runs replicate k of every system, in a rotating order, before round k + 1" python3 -c "
import json, sys
d = json.load(open('$JI'))
ok = True
for m in ('SELF-001', 'SELF-006'):
    rs = [r for r in d['results'] if r['metric'] == m]
    starts = {r['system']: r['series']['replicate_start_s']['samples'] for r in rs}
    pos = {r['system']: r['series']['replicate_position']['samples'] for r in rs}
    # every replicate k of every system starts before any replicate k + 1
    for k in range(2):
        ok &= max(v[k] for v in starts.values()) < min(v[k + 1] for v in starts.values())
    # each system takes each position once over the three rounds
    ok &= all(sorted(p) == [0, 1, 2] for p in pos.values())
    # the results of one metric are next to each other (metric by metric)
ids = [r['metric'] for r in d['results']]
ok &= ids == ['SELF-001'] * 3 + ['SELF-006'] * 3
sys.exit(0 if ok else 1)"

# ---- clean run, old flags, json-only, never overwrite
"$GVB" --system fake --metrics SELF-001,SELF-006 --json-only --output "$TMP/b" >/dev/null 2>&1; rc=$?
check "older tool's flags (no subcommand, --system, --json-only) exit 0" [ $rc -eq 0 ]
check "--json-only writes only results.json" [ "$(ls "$TMP"/b/*/ | tr '\n' ' ')" = "results.json " ]
"$GVB" run --systems fake --metrics SELF-001 --output "$TMP/b" >/dev/null 2>&1
"$GVB" run --systems fake --metrics SELF-001 --output "$TMP/b" >/dev/null 2>&1
check "each run gets its own directory" [ "$(ls -d "$TMP"/b/*/ | wc -l)" -eq 3 ]

# ---- progress line on stderr only when stderr is a terminal
if command -v script >/dev/null; then
    script -qec "'$GVB' run --systems fake --metrics SELF-001,SELF-006 --output '$TMP/tty' >/dev/null" /dev/null >"$TMP/tty.out" 2>&1
    check "progress line on a terminal: [i/N] metric system replicate, elapsed and eta" grep -qE '\[6/6\] SELF-006 fake 3/3  elapsed [0-9]+:[0-9]{2}  eta [0-9]+:[0-9]{2}' "$TMP/tty.out"
    # a metric that fails in its first replicate takes its other slots out of the total
    script -qec "'$GVB' run --systems fake --metrics SELF-001,SELF-003,SELF-006 --output '$TMP/tty3' --json-only >/dev/null" /dev/null >"$TMP/tty3.out" 2>&1
    check "progress total drops the slots a failed metric will not run ([4/9] then [5/7])" bash -c "tr '\r' '\n' <'$TMP/tty3.out' | grep -q '\[4/9\] SELF-003 fake 1/3' && tr '\r' '\n' <'$TMP/tty3.out' | grep -q '\[5/7\] SELF-006 fake 1/3'"
    "$GVB" run --systems fake --metrics SELF-001 --output "$TMP/notty" >/dev/null 2>"$TMP/notty.err"
    check "no progress line when stderr is not a terminal" [ ! -s "$TMP/notty.err" ]
else
    skip "progress line (no 'script' command for a pty)"
fi

# ---- report reads results back; --compare labels against a baseline
out=$("$GVB" report "$J"); rc=$?
check "report FILE exits 0 and summarises" bash -c "[ $rc -eq 0 ] && grep -q '4 OK, 1 SKIP, 2 FAIL, 0 INERT' <<<\"\$1\"" _ "$out"
check "report --format csv" bash -c "'$GVB' report --format csv '$J' | head -1 | grep -q '^system,metric,'"
"$GVB" report /etc/hostname >/dev/null 2>"$TMP/r.err"; rc=$?
check "report of a non-results file: exit 2 and one line" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/r.err') -eq 1 ]"
# the claim rule's unit is the replicate: three of each, the runs' replicates not paired
"$GVB" run --systems fake --metrics SELF-001,SELF-006 --replicates 3 --output "$TMP/cb" >/dev/null 2>&1
JB=$(ls "$TMP"/cb/*/results.json 2>/dev/null | head -1)
out=$("$GVB" run --systems fake --metrics SELF-001,SELF-006 --replicates 3 --output "$TMP/c" --compare "$JB" 2>&1); rc=$?
check "--compare: a tight, unchanged timing is SAME" bash -c "[ $rc -eq 0 ] && grep -E 'SELF-006 +fake +fake .* SAME\$' <<<\"\$1\"" _ "$out"
check "--compare: a known sequence, identical in every replicate, is SAME (spread within a process is no evidence)" bash -c "grep -E 'SELF-001 +fake +fake .* SAME\$' <<<\"\$1\"" _ "$out"
check "--compare: the interval is the claim level's, with the detectable change" bash -c "grep -qE '^metric +system +baseline +value +base value +effect +97.5% CI +mde +label' <<<\"\$1\"" _ "$out"
out=$("$GVB" run --systems fake --metrics SELF-001 --replicates 1 --output "$TMP/c2" --compare "$JB" 2>&1)
check "--compare: a one-replicate run is UNSURE, not testable" bash -c "grep -E 'SELF-001 +fake +fake .* UNSURE \(not testable: one process per system' <<<\"\$1\" >/dev/null" _ "$out"
out=$("$GVB" run --systems fake --metrics SELF-001 --replicates 2 --iterations 50 --output "$TMP/c3" --compare "$JR2" 2>&1)
check "--compare: two replicates each, 1..25 twice against 1..50 twice: BETTER (lower is better)" bash -c "grep -E 'SELF-001 +fake +fake .* BETTER\$' <<<\"\$1\" >/dev/null" _ "$out"

# ---- bad input: one line on stderr, exit 2, no result files
expect_usage() { # description, args...
    local what=$1; shift
    rm -rf "$TMP/bad"
    "$GVB" "$@" --output "$TMP/bad" >/dev/null 2>"$TMP/bad.err"; local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && grep -q -- "$what" "$TMP/bad.err" &&
       [ -z "$(ls -A "$TMP/bad" 2>/dev/null)" ]; then
        ok "bad input '$*' -> exit 2: $(cat "$TMP/bad.err")"
    else
        bad "bad input '$*' (rc=$rc, stderr: $(cat "$TMP/bad.err"))"
    fi
}
expect_usage "unknown metric 'XX-001'" run --systems fake --metrics XX-001
expect_usage "unknown system 'nosuch'" run --systems nosuch --metrics SELF-001
# the limit a layer's tenants got is the runner's fact in each result; native@LABEL applies none
"$GVB" run --systems native@b,fake --metrics SELF-001 --memory-limit 1g --replicates 1 --output "$TMP/lb" --json-only >/dev/null 2>&1
JLB=$(ls "$TMP"/lb/*/results.json 2>/dev/null | head -1)
check "limit_bytes recorded by the runner for a layer (fake, 1g)" [ "$(result "$JLB" fake SELF-001 extras.limit_bytes)" = 1073741824 ]
check "no limit_bytes for native@b (the baseline applies none)" [ "$(json_get "$JLB" "[r['extras'].get('limit_bytes', 'absent') for r in d['results'] if r['system'] == 'native@b']")" = "['absent']" ]
expect_usage "malformed size '4x'" run --systems fake --metrics SELF-001 --memory-limit 4x
expect_usage "malformed size '-1g'" run --systems fake --metrics SELF-001 --memory-limit -1g
expect_usage "--iterations must be" run --systems fake --metrics SELF-001 --iterations 0
expect_usage "--iterations must be" run --systems fake --metrics SELF-001 --iterations -3
expect_usage "--replicates must be 1..64" run --systems fake --metrics SELF-001 --replicates 0
expect_usage "--replicates must be 1..64" run --systems fake --metrics SELF-001 --replicates 65
expect_usage "unknown category" run --category bogus
expect_usage "unknown option '--frobnicate'" run --frobnicate
expect_usage "--limits: only 'auto' is known" run --limits half
# a library path that is not there: refused before the GPU probe (else exit 3 without a GPU,
# INERT with one)
expect_usage "--hami-lib: cannot read '/nonexistent/libvgpu.so': No such file" run --systems native,hami --metrics OH-001 --hami-lib /nonexistent/libvgpu.so
expect_usage "--preload fcsp: cannot read '/nonexistent/libfcsp.so'" run --systems native,fcsp --metrics OH-001 --preload fcsp=/nonexistent/libfcsp.so
touch "$TMP/afile"
"$GVB" run --systems fake --metrics SELF-001 --output "$TMP/afile/sub" >/dev/null 2>"$TMP/w.err"; rc=$?
check "unwritable output directory: exit 2, one line naming it" bash -c "[ $rc -eq 2 ] && grep -q \"cannot write to output directory '$TMP/afile/sub'\" '$TMP/w.err'"
"$GVB" frobnicate >/dev/null 2>&1
check "unknown command: exit 2" [ $? -eq 2 ]

# ---- no GPU: exit 3, no result files
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
    skip "no-GPU error path (this machine has a GPU)"
else
    "$GVB" run --systems native --metrics OH-001 --output "$TMP/nogpu" >/dev/null 2>"$TMP/ng.err"; rc=$?
    check "no GPU: exit 3 with one clear line ($(cat "$TMP/ng.err"))" bash -c "[ $rc -eq 3 ] && [ \$(wc -l <'$TMP/ng.err') -eq 1 ] && grep -q 'no usable CUDA GPU' '$TMP/ng.err'"
    check "no GPU: no run directory created" [ -z "$(ls -A "$TMP/nogpu" 2>/dev/null)" ]
fi

# ---- --limits auto: one line saying what each tenant gets (no GPU probed: memory unknown)
out=$("$GVB" run --systems fake --metrics SELF-001 --limits auto --json-only --output "$TMP/lim" 2>&1); rc=$?
JL=$(ls "$TMP"/lim/*/results.json 2>/dev/null | head -1)
check "--limits auto: exit 0, one line with what was derived" bash -c "[ $rc -eq 0 ] && [ \$(grep -c '^limits per tenant (--limits auto): no memory limit (the GPU.s memory is unknown), 50 % compute (auto)\$' <<<\"\$1\") -eq 1 ]" _ "$out"
check "--limits auto: the derived compute limit is in the run config" [ "$(json_get "$JL" 'd["config"]["compute_limit_pct"]')" = 50 ]

# ---- SIGINT: workers killed, partial results kept, exit 130
"$GVB" run --systems fake --metrics SELF-001,SELF-004 --deadline 60 --output "$TMP/int" >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid; rc=$?
check "SIGINT: exit 130" [ $rc -eq 130 ]
J2=$(ls "$TMP"/int/*/results.json 2>/dev/null | head -1)
check "SIGINT: measured results kept" [ "$(result "$J2" fake SELF-001 status)" = OK ]
check "SIGINT: the running metric is FAIL 'interrupted'" [ "$(result "$J2" fake SELF-004 reason)" = interrupted ]
check "SIGINT: no worker left running" [ -z "$(leftover_workers)" ]

summary cli
[ $FAILED -eq 0 ]
