#!/usr/bin/env bash
# `workload -- COMMAND` on the fake system: a program's figures (--metric-regex) and wall time
# per tenant, its failures (exit status, stderr, deadline, no figure) as FAIL while the other
# systems go on, the report and usage errors before any work; `--builtin llm-serve`'s command.
# docs/workload.md.
set -u
. "$(dirname "$0")/../lib.sh"
last_json() { ls -t "$1"/*/results.json 2>/dev/null | head -1; }
field() { json_get "$1" "[r for r in d['results'] if r['system']=='$2'][0]$3"; }

echo "workload:"
export -f cmdline_pids # used inside bash -c below
# ---- figures from two tenants, three replicates, two systems interleaved
"$GVB" workload --systems fake,fake@b --tenants 2 --metric-regex 'tok/s: ([0-9.]+)' \
    --output "$TMP/f" -- sh -c 'echo "warming up"; echo "tok/s: 12.5"; echo "tok/s: 13 (steady)"' \
    >"$TMP/f.out" 2>&1; rc=$?
J=$(last_json "$TMP/f")
check "figures: exit 0" [ $rc -eq 0 ]
check "figures: WL-002 (two tenants) and WL-005 (alone), higher is better, OK on both systems" \
    [ "$(json_get "$J" "sorted((r['metric'], r['direction'], r['status'], r['tenants']) for r in d['results'])")" = "[('WL-002', 'higher', 'OK', 2), ('WL-002', 'higher', 'OK', 2), ('WL-005', 'higher', 'OK', 1), ('WL-005', 'higher', 'OK', 1)]" ]
check "figures: the same figure alone and together is no slowdown" \
    [ "$(json_get "$J" "[r for r in d['results'] if r['metric']=='WL-002'][0]['extras']['slowdown_vs_alone_pct'] == 0")" = True ]
check "figures: every matching line of every tenant in every replicate is a sample (2 x 2 x 3)" \
    [ "$(json_get "$J" "len([r for r in d['results'] if r['system']=='fake' and r['metric']=='WL-002'][0]['samples'])")" = 12 ]
wl2() { json_get "$J" "[r for r in d['results'] if r['system']=='$1' and r['metric']=='WL-002'][0]$2"; }
check "figures: the value is their median, 12.75" [ "$(wl2 fake "['value']")" = 12.75 ]
check "figures: equal tenants are fair (Jain 1.0)" [ "$(wl2 fake "['extras']['fairness_jain']")" = 1 ]
check "figures: each tenant's wall time and exit are kept" [ "$(wl2 fake@b "['extras']['t1.exit']")" = "exit 0" ]
# ---- units of work (--metric-units): summed over the output's matches, every run; one that
# printed none says so; no energy per unit without a GPU's energy counter
"$GVB" workload --systems fake --tenants 2 --replicates 1 --metric-units 'made ([0-9]+) tokens' \
    --output "$TMP/u" -- sh -c 'echo "made 40 tokens"; echo "made 2 tokens"' >"$TMP/u.out" 2>&1; rc=$?
JU=$(last_json "$TMP/u")
check "units: exit 0, each tenant's units are the sum of its matches (42)" \
    [ "$rc $(json_get "$JU" "[r for r in d['results'] if r['metric']=='WL-001'][0]['extras']['t1.units']")" = "0 42" ]
check "units: the regex is recorded; no energy per unit without an energy counter" \
    [ "$(json_get "$JU" "(d['config']['workload_units_regex'], 'energy_per_unit_j' in d['results'][0]['extras'])")" = "('made ([0-9]+) tokens', False)" ]
"$GVB" workload --systems fake --replicates 1 --metric-units 'made ([0-9]+) tokens' \
    --output "$TMP/u2" -- sh -c 'echo nothing' >/dev/null 2>&1
check "units: a program that printed none is named (units_missing), not counted as 0" \
    [ "$(json_get "$(last_json "$TMP/u2")" "(d['results'][0]['status'], 'units' in d['results'][0]['extras'], '--metric-units' in d['results'][0]['extras']['units_missing'])")" = "('OK', False, True)" ]
# ---- --metric-name: the unit the figure is shown in, in results.json and the report
"$GVB" workload --systems fake --replicates 2 --metric-regex 'ttft ([0-9.]+)' --metric-better lower \
    --metric-name ms --output "$TMP/n" -- sh -c 'echo "ttft 41.5"' >/dev/null 2>&1; rc=$?
JN=$(last_json "$TMP/n")
check "--metric-name ms: exit 0, WL-003's unit is ms (the wall time keeps s)" \
    [ "$rc $(json_get "$JN" "[r['unit'] for r in d['results'] if r['metric']=='WL-003']")" = "0 ['ms']" ]
"$GVB" report "$JN" --format md --output "$TMP/n.md" >/dev/null 2>&1
check "--metric-name ms: the report shows the figure in ms" \
    grep -qF 'WL-003 Workload Figure (ms, lower is better)' "$TMP/n.md"
check "figures: the spec and the regex are recorded" \
    bash -c "[ -f '$(dirname "$J")/workload.spec' ] && [ \"\$(python3 -c \"import json,sys; print(json.load(open(sys.argv[1]))['config']['workload_regex'])\" '$J')\" = 'tok/s: ([0-9.]+)' ]"
check "figures: the comparison report is written" grep -q "WL-002" "$(dirname "$J")/report.md"
check "figures: the report names the program and the tenants, not iterations" \
    bash -c "grep -qF \"Workload: sh -c 'echo \\\"warming up\\\"; \" '$(dirname "$J")/report.md' && grep -q '2 tenants started together' '$(dirname "$J")/report.md' && ! grep -q '^- Iterations' '$(dirname "$J")/report.md'"
check "figures: report on the file works" "$GVB" report "$J" --format txt --output "$TMP/f.txt"

# ---- lower is better
"$GVB" workload --systems fake --metric-regex 'ttft_ms=([0-9]+)' --metric-better lower --replicates 2 \
    --json-only --output "$TMP/l" -- sh -c 'echo ttft_ms=40; echo ttft_ms=60' >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/l")
check "--metric-better lower: WL-003, lower is better, value 50" \
    bash -c "[ $rc -eq 0 ] && [ '$(field "$J" fake "['metric']")' = WL-003 ] && [ '$(field "$J" fake "['direction']")' = lower ] && [ '$(field "$J" fake "['value']")' = 50.0 ]"

# ---- no regex: the wall time of the program
"$GVB" workload --systems fake --replicates 2 --json-only --output "$TMP/w" -- sleep 0.2 >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/w")
v=$(field "$J" fake "['value']")
check "wall time: WL-001 measures a 0.2 s program at 0.2-1.0 s (got $v)" \
    bash -c "[ $rc -eq 0 ] && [ '$(field "$J" fake "['metric']")' = WL-001 ] && python3 -c 'import sys; v=float(sys.argv[1]); sys.exit(0 if 0.2 <= v <= 1.0 else 1)' '$v'"
check "wall time: one tenant, so no alone run and no slowdown" \
    [ "$(json_get "$J" "(len(d['results']), 'slowdown_vs_alone_pct' in d['results'][0]['extras'])")" = "(1, False)" ]

# ---- co-location: two tenants that take turns on a lock run 0.2 and 0.4 s where one alone
# runs 0.2 s: the median is 50 % slower together, and Jain's index over 1/0.2 and 1/0.4 is 0.9
if command -v flock >/dev/null; then
    "$GVB" workload --systems fake --tenants 2 --replicates 2 --json-only --output "$TMP/c" \
        -- flock "$TMP/lock" sleep 0.2 >/dev/null 2>&1; rc=$?
    J=$(last_json "$TMP/c")
    s=$(json_get "$J" "[r for r in d['results'] if r['metric']=='WL-001'][0]['extras']['slowdown_vs_alone_pct']")
    f=$(json_get "$J" "[r for r in d['results'] if r['metric']=='WL-001'][0]['extras']['fairness_jain']")
    check "co-location: slowdown against alone 35-65 % (got $s), fairness 0.85-0.95 (got $f)" \
        python3 -c 'import sys; s, f = map(float, sys.argv[1:]); sys.exit(0 if 35 <= s <= 65 and 0.85 <= f <= 0.95 else 1)' "$s" "$f"
    "$GVB" report "$J" --format md --output "$TMP/c.md" >/dev/null 2>&1
    row=$(grep -E '^\| fake \| 2 \|' "$TMP/c.md")
    check "co-location: the report's workload section has the row (tenants, alone, slowdown, fairness, no trend, energy, memory or SM use without a GPU, exits)" \
        bash -c "grep -q '^## Your workload under each system' '$TMP/c.md' && grep -qE '\| \+[3-6][0-9]\.[0-9] % \| 0\.(8[5-9]|9[0-5]?)[0-9]* \| - \| - \| - \| - \| exit 0, exit 0 \|\$' <<<\"\$1\"" _ "$row"
else
    skip "co-location slowdown (no flock)"
fi

# ---- a soak: --duration restarts the program until the time is up; a figure that falls by 5
# every run (a counter file) has a negative trend, and the report shows it
"$GVB" workload --systems fake --duration 1.5 --replicates 1 --metric-regex 'v: ([0-9-]+)' \
    --json-only --output "$TMP/soak" -- sh -c 'n=$(cat "$0" 2>/dev/null || echo 0); n=$((n+1)); echo $n >"$0"; sleep 0.1; echo "v: $((200 - 5*n))"' "$TMP/counter" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/soak")
runs=$(field "$J" fake "['extras']['runs']" 2>/dev/null)
tr=$(field "$J" fake "['extras']['trend_pct_per_min']" 2>/dev/null)
check "soak: restarted until --duration (got $runs runs of ~0.1 s in 1.5 s), a falling trend (got $tr %/min)" \
    python3 -c 'import sys; r, t = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if 8 <= r <= 16 and t < -1000 else 1)' "$runs" "$tr"
check "soak: every run's end and figure are series" \
    [ "$(json_get "$J" "len(d['results'][0]['series']['run_end_s']['samples']) == len(d['results'][0]['series']['run_figure']['samples']) == int(d['results'][0]['extras']['runs'])")" = True ]
"$GVB" report "$J" --format md --output "$TMP/soak.md" >/dev/null 2>&1
check "soak: the report's workload section shows the trend" grep -qE '^\| fake \| 1 \|.*\| -[0-9.e+]+ %/min \([0-9]+ runs\) \| - \|' "$TMP/soak.md"
# a soak whose next run could not end before the deadline stops, and is no FAIL
"$GVB" workload --systems fake --duration 3 --deadline 3.5 --replicates 1 --json-only --output "$TMP/soak2" \
    -- sleep 1 >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/soak2")
check "soak: stops before a run that would overrun the deadline (OK, 2 runs, and says why)" \
    bash -c "[ $rc -eq 0 ] && [ '$(field "$J" fake "['extras']['runs']")' = 2 ] && grep -q 'would not end before the deadline' <<<\"\$1\"" _ "$(field "$J" fake "['extras']['soak_ended']")"
# two tenants: the run count of the report is the tenants' median
"$GVB" workload --systems fake,fake@b --tenants 2 --duration 0.6 --replicates 1 --metric-regex 'v: ([0-9]+)' \
    --output "$TMP/soak3" -- sh -c 'sleep 0.1; echo "v: 7"' >/dev/null 2>&1
check "soak with two tenants: the report gives the runs, no nan" \
    bash -c "grep -E '^\| fake \| 2 \|' $(dirname "$(last_json "$TMP/soak3")")/report.md | grep -qE '%/min \([0-9]+ runs\)' && ! grep -q 'nan runs' $(dirname "$(last_json "$TMP/soak3")")/report.md"

# ---- failures: the failing system FAILs with the exit and the stderr; the other goes on
"$GVB" workload --systems fake,fake@b --env 'fake@b:GVB_WL_FAIL=1' --json-only --output "$TMP/x" \
    -- sh -c '[ -z "$GVB_WL_FAIL" ] || { echo "out of memory here" >&2; exit 5; }; echo ok' >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/x")
check "a failing tenant: exit 4" [ $rc -eq 4 ]
check "a failing tenant: that system FAILs with the exit status and its stderr" \
    bash -c "grep -q 'ended with exit 5.*stderr ends: out of memory here' <<<\"\$1\"" _ "$(field "$J" fake@b "['reason']")"
check "a failing tenant: the other system is measured" [ "$(field "$J" fake "['status']")" = OK ]
"$GVB" report "$J" --format md --output "$TMP/x.md" >/dev/null 2>&1
check "a failing tenant: the report's workload section says FAIL and why" \
    grep -qE '^\| fake@b \| 1 \| FAIL \|.*ended with exit 5' "$TMP/x.md"
"$GVB" workload --systems fake --metric-regex 'tok/s: ([0-9.]+)' --json-only --output "$TMP/n" \
    -- sh -c 'echo "no figure today"' >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/n")
check "a regex that matches nothing: FAIL naming the regex and the output's end" \
    bash -c "[ $rc -eq 4 ] && grep -q 'matched no number.*no figure today' <<<\"\$1\"" _ "$(field "$J" fake "['reason']")"
"$GVB" workload --systems fake --deadline 1 --json-only --output "$TMP/d" -- sleep 7771 >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/d")
sleep 0.5
check "past --deadline: FAIL, and the program is gone with its tenant" \
    bash -c "[ $rc -eq 4 ] && grep -q 'deadline' <<<\"\$1\" && [ -z \"\$(cmdline_pids '[s]leep 7771')\" ]" _ "$(field "$J" fake "['reason']")"
# a shell that ignores SIGTERM and waits for its child: both go, with the program's group
"$GVB" workload --systems fake --deadline 2 --json-only --output "$TMP/d2" \
    -- sh -c 'trap "" TERM; sleep 7773; echo done' >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/d2")
sleep 0.5
check "past --deadline: a program that ignores SIGTERM and its child are killed (group)" \
    bash -c "[ $rc -eq 4 ] && grep -q 'killed with its process group' <<<\"\$1\" && [ -z \"\$(cmdline_pids '[s]leep 7773')\" ]" _ "$(field "$J" fake "['reason']")"
# what a program leaves running in its group when it ends is killed
"$GVB" workload --systems fake --json-only --output "$TMP/bg" -- sh -c 'sleep 7774 & echo started' >/dev/null 2>&1; rc=$?
sleep 0.5
check "a program's leftover child is killed when it ends" \
    bash -c "[ $rc -eq 0 ] && [ -z \"\$(cmdline_pids '[s]leep 7774')\" ]"
# the tenant's protocol fds (3: to the runner, 4..: its barriers) do not reach the program:
# the lowest free fd, ls's directory, is 3 and no other fd from 3 to 11 is open
"$GVB" workload --systems fake --replicates 1 --json-only --output "$TMP/fd" \
    -- sh -c "exec ls /proc/self/fd > '$TMP/fds.txt'" >/dev/null 2>&1; rc=$?
check "the program gets none of its tenant's protocol fds" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(awk '\$1 >= 3 && \$1 <= 11' '$TMP/fds.txt' | tr '\n' ' ')\" = '3 ' ]"
# a file that cannot be executed (no #!): the reason says why, not only "exit 127"
printf 'echo hi\n' >"$TMP/noshebang"; chmod +x "$TMP/noshebang"
"$GVB" workload --systems fake --json-only --output "$TMP/ne" -- "$TMP/noshebang" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/ne")
check "a program that cannot be executed: FAIL with exec's reason" \
    bash -c "[ $rc -eq 4 ] && grep -q 'cannot exec.*Exec format error' <<<\"\$1\"" _ "$(field "$J" fake "['reason']")"
# the command line is recorded as typed
"$GVB" workload --systems fake --json-only --output "$TMP/t" -- true >/dev/null 2>&1
check "results.json keeps the command line as typed" \
    [ "$(json_get "$(last_json "$TMP/t")" "d['argv'][-1]")" = true ]

# ---- the built-in LLM serving workload: the command is this binary's own `serve` with run's
# seed and the per-tenant memory, the figure tokens/s (higher is better). Without a GPU, serve
# exits 3 and the result FAILs saying so; on a GPU it serves and the figure is read.
"$GVB" workload --builtin llm-serve --systems fake --tenants 2 --replicates 1 --seed 5 \
    --memory-limit 1g --json-only --output "$TMP/b" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/b")
spec=$(tr '\0' '\n' <"$(dirname "$J")/workload.spec" 2>/dev/null | tail -n +2 | tr '\n' ' ')
check "--builtin llm-serve: the spec runs this binary's serve with the seed and 1 GiB a tenant, its output tokens the units (got: $spec)" \
    [ "$spec" = "tokens/s: ([0-9.]+) requests, ([0-9]+) output tokens 0 $(readlink -f "$GVB") serve --seed 5 --memory 1024 " ]
check "--builtin llm-serve: WL-002 and WL-005 (tokens/s, higher is better, alone too)" \
    [ "$(json_get "$J" "sorted((r['metric'], r['direction'], r['unit']) for r in d['results'])")" = "[('WL-002', 'higher', 'tokens/s'), ('WL-005', 'higher', 'tokens/s')]" ]
check "--builtin llm-serve: results.json names the built-in workload" \
    [ "$(json_get "$J" "d['config']['workload_builtin']")" = "llm-serve (gpu-virt-bench serve --seed 5 --memory 1024)" ]
"$GVB" report "$J" --format md --output "$TMP/b.md" >/dev/null 2>&1
check "--builtin llm-serve: the report names it" \
    grep -qF 'Workload: built-in llm-serve (gpu-virt-bench serve --seed 5 --memory 1024); 2 tenants' "$TMP/b.md"
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
    check "--builtin llm-serve on a GPU: exit 0, a tokens/s figure above 0" \
        bash -c "[ $rc -eq 0 ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' '$(field "$J" fake "['value']")'"
else
    check "--builtin llm-serve without a GPU: FAIL with serve's exit 3 and its line" \
        bash -c "[ $rc -eq 4 ] && grep -q 'ended with exit 3.*serve: no usable CUDA GPU' <<<\"\$1\"" _ "$(field "$J" fake "['reason']")"
fi

# ---- usage errors, before any work (exit 2, one line)
usage_err() { "$GVB" "$@" >/dev/null 2>"$TMP/u.err"; [ $? -eq 2 ] && [ "$(wc -l <"$TMP/u.err")" -eq 1 ]; }
check "no -- COMMAND: exit 2" usage_err workload --systems fake
check "-- without a command: exit 2" usage_err workload --systems fake --
check "a program not on PATH: exit 2 naming it" bash -c "! '$GVB' workload --systems fake -- no-such-prog-xyz 2>&1 >/dev/null | grep -vq no-such-prog-xyz"
check "a program not on PATH: exit 2" usage_err workload --systems fake -- no-such-prog-xyz
check "a bad regex: exit 2" usage_err workload --systems fake --metric-regex '(' -- true
check "two capture groups: exit 2" usage_err workload --systems fake --metric-regex '(a)(b)' -- true
check "--metric-better without a regex: exit 2" usage_err workload --systems fake --metric-better lower -- true
check "--metric-better other than higher/lower: exit 2" usage_err workload --systems fake --metric-regex 'x([0-9]+)' --metric-better up -- true
check "--tenants 0: exit 2" usage_err workload --systems fake --tenants 0 -- true
check "--tenants without a value: exit 2" usage_err workload --systems fake --tenants -- true
check "--metrics with a workload: exit 2" usage_err workload --systems fake --metrics SELF-001 -- true
check "--builtin and -- COMMAND: exit 2" usage_err workload --systems fake --builtin llm-serve -- true
check "--metric-name without --metric-regex: exit 2" \
    usage_err workload --systems fake --metric-name tokens/s -- true
check "--metric-name with a space: exit 2" \
    usage_err workload --systems fake --metric-regex 'x ([0-9]+)' --metric-name 'tok s' -- true
check "--metric-name with a byte above ASCII (JSON takes no invalid UTF-8): exit 2" \
    usage_err workload --systems fake --metric-regex 'x ([0-9]+)' --metric-name $'\xb5s' -- true
check "--metric-name of 16 characters (a unit holds 15): exit 2" \
    usage_err workload --systems fake --metric-regex 'x ([0-9]+)' --metric-name abcdefghijklmnop -- true
"$GVB" workload --systems fake --builtin llm-chat >/dev/null 2>"$TMP/bu.err"; rc=$?
check "an unknown --builtin: exit 2, one line naming the known ones" \
    bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/bu.err') -eq 1 ] && grep -q \"unknown built-in workload 'llm-chat' (known: llm-serve)\" '$TMP/bu.err'"
check "a run option's error is still an error: exit 2" usage_err workload --systems fake --replicates 0 -- true
check "--processes: exit 2 (use --tenants)" usage_err workload --systems fake --processes 4 -- true
check "--iterations=5: exit 2" usage_err workload --systems fake --iterations=5 -- true
check "--duration not above --deadline: exit 2" usage_err workload --systems fake --duration 10 --deadline 5 -- true
check "--duration 0: exit 2" usage_err workload --systems fake --duration 0 -- true
check "an empty --metric-regex: exit 2" usage_err workload --systems fake --metric-regex= -- true
check "run cannot select the workload metrics" usage_err run --systems fake --metrics 'WL-*'
check "run cannot select the workload category" usage_err run --systems fake --category workload
check "no workers left behind" [ -z "$(leftover_workers)" ]
summary workload
