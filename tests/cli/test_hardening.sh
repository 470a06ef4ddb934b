#!/usr/bin/env bash
# Regression tests for issue 20's audit (inputs that crashed or misled, files that followed
# planted symlinks, signals that were missed), each a reproduction from the issue; the unit
# level ones are in tests/unit/test_hardening.c. No GPU needed: `run` uses the fake system.
set -u
. "$(dirname "$0")/../lib.sh"
SEEDS=$(cd "$(dirname "$0")/../fuzz/seeds" && pwd)
GOOD=$SEEDS/replicates.json

# one_line_exit2 DESCRIPTION CMD...: exit 2 and exactly one line on stderr
one_line_exit2() {
    local what=$1; shift
    "$@" >"$TMP/o" 2>"$TMP/e"; local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ]; then
        ok "$what -> exit 2: $(cat "$TMP/e")"
    else
        bad "$what (rc=$rc, $(wc -l <"$TMP/e") lines: $(head -c 300 "$TMP/e"))"
    fi
}
# edit SRC DST PYTHON: DST is SRC (a results file) after the Python statements on `d`
edit() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}

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

# ---- 2. files at predictable names: planted symlinks are not followed
D=$TMP/planted; mkdir -p "$D"
echo precious >"$TMP/victim"
ln -s "$TMP/victim" "$D/report.md.tmp"
"$GVB" report "$GOOD" --output "$D/report.md" >/dev/null 2>&1; rc=$?
check "2. report --output FILE with a symlink at FILE.tmp: written (rc=$rc), the link's target untouched" \
    bash -c "[ $rc -eq 0 ] && grep -q '^# ' '$D/report.md' && [ \"\$(cat '$TMP/victim')\" = precious ]"
check "2. report --output: no temporary file left" [ -z "$(ls "$D" | grep -vx 'report.md' | grep -vx 'report.md.tmp')" ]
# run --output DIR probed DIR/.gvb-write-test-<its pid>: plant that name for the next pids
last=$(cat /proc/sys/kernel/ns_last_pid)
for p in $(seq $((last + 1)) $((last + 300))); do ln -s "$TMP/victim" "$D/.gvb-write-test-$p"; done
"$GVB" run --systems fake --metrics SELF-001 --iterations 4 --replicates 1 --json-only --output "$D" >/dev/null 2>&1; rc=$?
check "2. run --output DIR with symlinks at DIR/.gvb-write-test-<pid>: runs (rc=$rc), target untouched" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(cat '$TMP/victim')\" = precious ]"

# ---- 3. text from a file: no control characters in any format, the code fence holds
esc=$(printf '\033]0;owned\007\033[2J')
edit "$GOOD" "$TMP/esc-in.json" "
e = '$esc'
d['argv'] += ['--env', 'x:A=1\n\`\`\`\n<img src=x onerror=alert(1)>' + e]
d['gpu']['name'] = 'Seed GPU' + e
d['host'] = {'hostname': 'h' + e}
for r in d['results']:
    r['reason'] = 'why' + e + '\u009b31m'
    r['category'] = r['category'] + ',x\ny'
    r['extras']['k' + e] = 'v' + e
d['systems'][1]['name'] = 'hami' + e
d['results'][1]['system'] = d['results'][2]['system'] = d['results'][4]['system'] = 'hami' + e
"
for fmt in txt md html json csv; do
    "$GVB" report "$TMP/esc-in.json" --format $fmt >"$TMP/esc.$fmt" 2>"$TMP/e"; rc=$?
    check "3. control characters in a file: report --format $fmt (rc=$rc) prints none" python3 -c "
import re, sys
b = open('$TMP/esc.$fmt', 'rb').read()
t = b.decode('utf-8')
bad = re.findall(r'[\x00-\x08\x0b-\x1f\x7f-\x9f]', t) + re.findall(r'\\\\u00(?:1[0-9a-f]|0[0-8b-f]|7f|[89][0-9a-f])', t)
sys.exit(0 if $rc == 0 and b and not bad else 1)"
done
check "3. Markdown: the argv's line of backticks stays inside the code fence" python3 -c "
import sys
cmd = open('$TMP/esc.md').read().split('Command:')[1]
fence = cmd.split()[0]  # the opening fence
body = cmd.split(fence)[1]  # up to the closing one
sys.exit(0 if len(fence) > 3 and fence == chr(96) * len(fence) and 'onerror' in body else 1)"
check "3. CSV: a category holding a comma and a newline stays one field" python3 -c "
import csv, sys
rows = list(csv.reader(open('$TMP/esc.csv')))
sys.exit(0 if all(len(r) == len(rows[0]) for r in rows) and rows[1][3] == 'overhead,x?y' else 1)"

# ---- 4. bad command lines: exit 2, one line, nothing created
one_line_exit2 "4. no arguments" "$GVB"
one_line_exit2 "4. --env for a system not selected" "$GVB" run --systems fake --metrics SELF-001 --env hami:CUDA_DEVICE_SM_LIMIT=50 --output "$TMP/bad4"
one_line_exit2 "4. --env with an invalid variable name" "$GVB" run --systems fake --metrics SELF-001 --env fake:1-X=2 --output "$TMP/bad4"
one_line_exit2 "4. --calib ,,, (as --calib \"\")" "$GVB" run --systems calib --metrics OH-001 --calib ,,, --output "$TMP/bad4"
one_line_exit2 "4. validate --aa-metrics XX-999, before any GPU probe" "$GVB" validate --aa-metrics XX-999 --output "$TMP/bad4"
long="SELF-001,$(printf '%*s' 4200 '')XX-999"
one_line_exit2 "4. a --metrics list longer than 4095 characters is read whole" "$GVB" run --systems fake --metrics "$long" --output "$TMP/bad4"
check "4. none of those created the output directory" [ ! -e "$TMP/bad4" ]
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
    skip "4. no GPU: nothing created (this machine has a GPU)"
else
    "$GVB" run --systems native --metrics OH-001 --output "$TMP/nogpu/a/b" >/dev/null 2>&1; rc=$?
    check "4. no GPU (exit $rc): the output directory and its parents are not created" \
        bash -c "[ $rc -eq 3 ] && [ ! -e '$TMP/nogpu' ]"
fi

# ---- 5. the reader: out-of-range numbers, mixed GPU models, unknown output formats
edit "$GOOD" "$TMP/schema.json" "d['schema_version'] = 4294967297"
one_line_exit2 "5. schema_version 4294967297 (was read as 1)" "$GVB" report "$TMP/schema.json"
edit "$GOOD" "$TMP/seed.json" "d['config']['seed'] = -1"
one_line_exit2 "5. config.seed -1" "$GVB" report "$TMP/seed.json"
edit "$GOOD" "$TMP/seed2.json" "d['config']['seed'] = 1e300"
one_line_exit2 "5. config.seed 1e300" "$GVB" report "$TMP/seed2.json"
edit "$GOOD" "$TMP/other-gpu.json" "d['gpu']['name'] = 'Other GPU'"
one_line_exit2 "5. --format csv of files from different GPU models" "$GVB" report --format csv "$GOOD" "$TMP/other-gpu.json"
one_line_exit2 "5. --output x.pdf (an unknown extension)" "$GVB" report "$GOOD" --output "$TMP/x.pdf"
check "5. --output x.pdf wrote nothing" [ -z "$(ls "$TMP" | grep '^x\.pdf')" ]
"$GVB" report "$GOOD" --output "$TMP/x.csv" >/dev/null 2>&1
check "5. --output x.csv writes CSV" bash -c "head -1 '$TMP/x.csv' | grep -q '^system,metric,'"

# ---- 6. signals
# after the last metric, while the files and the report are written (large samples make
# that take seconds): the run is interrupted, exit 130, not 0
"$GVB" run --systems fake,fake@b --metrics SELF-001 --iterations 20000 --verbose \
    --output "$TMP/sig" >/dev/null 2>"$TMP/sig.err" &
pid=$!
for _ in $(seq 600); do grep -q '^\[done\]' "$TMP/sig.err" && break; sleep 0.01; done
# stop it where it is, so the signal surely reaches a live process (the writes can be quick);
# wherever it stopped after [done], the TERM must not be lost: 130 from the run's own check,
# or 143 if it came after that check, where the default action is back
if kill -STOP $pid 2>/dev/null; then
    kill -TERM $pid
    kill -CONT $pid
    wait $pid; rc=$?
    check "6. SIGTERM after the last metric, while files are written: exit 130 (got $rc)" \
        [ $rc -eq 130 -o $rc -eq 143 ]
    check "6. ... and the results are complete" [ "$(result "$(ls "$TMP"/sig/*/results.json | head -1)" fake@b SELF-001 status)" = OK ]
else
    wait $pid
    skip "6. SIGTERM after the last metric: the run ended before the signal could be sent"
fi
# Ctrl-C reaches the whole process group, tenants included: the metric was interrupted
set -m
"$GVB" run --systems fake --metrics SELF-001,SELF-004 --deadline 60 --output "$TMP/pg" >/dev/null 2>&1 &
pid=$!
set +m
for _ in $(seq 200); do pgrep -g $pid -f __worker >/dev/null && [ -n "$(ls "$TMP"/pg/*/results.json 2>/dev/null)" ] && break; sleep 0.05; done
sleep 0.3
kill -INT -- -$pid
wait $pid; rc=$?
J=$(ls "$TMP"/pg/*/results.json 2>/dev/null | head -1)
check "6. SIGINT to the process group: exit 130 (got $rc)" [ $rc -eq 130 ]
check "6. ... the running metric is FAIL 'interrupted', not a crash ($(result "$J" fake SELF-004 reason))" \
    [ "$(result "$J" fake SELF-004 reason)" = interrupted ]
check "6. ... no worker left running" [ -z "$(leftover_workers)" ]

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
