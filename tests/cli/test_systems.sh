#!/usr/bin/env bash
# Systems without a GPU: activation proofs on CPU (a preload library that is not mapped is
# INERT, exit 5), the MPS daemon's life cycle through a fake control program (start, stop,
# SIGINT, a daemon that does not start), mig and mig-ideal SKIP reasons, external, and the
# monitor process on its own.
set -u
. "$(dirname "$0")/../lib.sh"
FAKE=$(cd "$(dirname "$0")/.." && pwd)/fake-mps-control.sh
export TMPDIR=$TMP # run directories are created here, so leftovers are visible
# exported for the checks that run these helpers in `bash -c`: there an unset $TMP made
# no_rundirs look in / and no_fake_daemon match any fake daemon on the machine (another
# checkout's, a unit test's)
export TMP
no_rundirs() { [ -z "$(ls -d "$TMP"/gvb-hami.* "$TMP"/gvb-mps.* 2>/dev/null)" ]; }
no_fake_daemon() { [ -z "$(cmdline_pids "[f]ake-mps-daemon $TMP/")" ]; }
last_json() { ls -t "$1"/*/results.json 2>/dev/null | head -1; }
act() { json_get "$1" "[s for s in d['systems'] if s['name']=='$2'][0]['activation'].get('$3')"; }
cfg() { json_get "$1" "[s for s in d['systems'] if s['name']=='$2'][0]['config'].get('$3')"; }

echo "systems:"
# ---- a preload layer the loader refuses (a file, not a library): INERT, exit 5, with the
# loader's words (a path that does not exist is a usage error: test_cli.sh)
echo "not a library" >"$TMP/libx.so"
"$GVB" run --systems bad --preload bad="$TMP/libx.so" --metrics SELF-001 --output "$TMP/p" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/p")
check "unloadable preload library: exit 5" [ $rc -eq 5 ]
check "unloadable preload library: metric INERT" [ "$(result "$J" bad SELF-001 status)" = INERT ]
check "unloadable preload library: reason names it and the loader's error" bash -c "grep -q 'libx.so is not mapped.*cannot be preloaded' <<<\"\$1\"" _ "$(result "$J" bad SELF-001 reason)"
check "unloadable preload library: proof records preload.0.mapped = 0" [ "$(act "$J" bad preload.0.mapped)" = 0 ]
"$GVB" run --systems bad --preload bad="$TMP/libx.so" --metrics SELF-001 --allow-inert --output "$TMP/p2" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/p2")
check "--allow-inert: exit 0, measured, activation 'INERT (allowed)'" bash -c "[ $rc -eq 0 ] && [ '$(result "$J" bad SELF-001 status)' = OK ] && [ '$(act "$J" bad status)' = 'INERT (allowed)' ]"
Z=$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
if [ -n "$Z" ]; then
    "$GVB" run --systems zz --preload zz="$Z" --env zz:GVB_TEST=1 --metrics SELF-001 --output "$TMP/z" >/dev/null 2>&1; rc=$?
    J=$(last_json "$TMP/z")
    check "preload of a library that loads: proof OK, library mapped" bash -c "[ $rc -eq 0 ] && [ '$(act "$J" zz status)' = OK ] && [ '$(act "$J" zz preload.0.mapped)' = 1 ]"
    check "preload: --env entries recorded in the config" [ "$(cfg "$J" zz env.0)" = GVB_TEST=1 ]
else
    skip "preload of a real library (no libz.so.1 found)"
fi

# ---- MPS through the fake control program
GVB_MPS_CONTROL=$FAKE "$GVB" run --systems mps --compute-limit 50 --memory-limit 1g --metrics SELF-001,SELF-002 --processes 2 --output "$TMP/m" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/m")
check "mps (fake daemon): exit 0, metrics OK" bash -c "[ $rc -eq 0 ] && [ '$(result "$J" mps SELF-002 status)' = OK ]"
check "mps: tenants carry the private pipe dir, thread % and pinned limit" bash -c "[ '$(act "$J" mps env.CUDA_MPS_PIPE_DIRECTORY)' = '$(cfg "$J" mps pipe_dir)' ] && [ '$(act "$J" mps env.CUDA_MPS_ACTIVE_THREAD_PERCENTAGE)' = 50 ] && [ '$(act "$J" mps env.CUDA_MPS_PINNED_DEVICE_MEM_LIMIT)' = 0=1024M ]"
check "mps: the pipe dir is inside the private run dir" bash -c "case '$(cfg "$J" mps pipe_dir)' in '$(cfg "$J" mps run_dir)'/*) true;; *) false;; esac"
check "mps: teardown says the daemon and server are gone" bash -c "grep -q 'every daemon and server process is gone; run_dir removed' <<<'$(cfg "$J" mps teardown)'"
check "mps: no daemon left, run dir removed" bash -c "$(declare -f cmdline_pids no_fake_daemon no_rundirs); no_fake_daemon && no_rundirs"
check "each tenant's pid recorded (t<i>.pid)" python3 -c "
import json,sys; r=[r for r in json.load(open('$J'))['results'] if r['metric']=='SELF-002'][0]
sys.exit(0 if r['extras']['t0.pid']>0 and r['extras']['t1.pid']>0 else 1)"
GVB_MPS_CONTROL=$FAKE "$GVB" run --systems mps --metrics SELF-001,SELF-004 --deadline 60 --output "$TMP/mi" >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid; rc=$?
check "mps + SIGINT: exit 130, daemon stopped, run dir removed" bash -c "$(declare -f cmdline_pids no_fake_daemon no_rundirs); [ $rc -eq 130 ] && no_fake_daemon && no_rundirs"
GVB_FAKE_MPS_FAIL=1 GVB_MPS_CONTROL=$FAKE "$GVB" run --systems mps --metrics SELF-001 --output "$TMP/mf" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/mf")
check "mps daemon that does not start: SKIP with the log's tail" bash -c "[ $rc -eq 0 ] && [ '$(result "$J" mps SELF-001 status)' = SKIP ] && grep -q 'GVB_FAKE_MPS_FAIL is set' <<<'$(result "$J" mps SELF-001 reason)'"
check "mps failed start: nothing left behind" bash -c "$(declare -f cmdline_pids no_fake_daemon no_rundirs); no_fake_daemon && no_rundirs"
GVB_MPS_CONTROL=/nonexistent/ctl "$GVB" run --systems mps --metrics SELF-001 --output "$TMP/mn" >/dev/null 2>&1
J=$(last_json "$TMP/mn")
check "mps without its control program: SKIP naming it" bash -c "grep -q 'GVB_MPS_CONTROL=/nonexistent/ctl is not an executable' <<<'$(result "$J" mps SELF-001 reason)'"

# ---- mig, mig-ideal, external
"$GVB" run --systems native,mig,mig-ideal --metrics SELF-001 --output "$TMP/g" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/g")
check "mig without MIG instances: SKIP with the reason" bash -c "[ '$(result "$J" mig SELF-001 status)' = SKIP ] && [ -n '$(result "$J" mig SELF-001 reason)' ]"
check "mig-ideal is a model: kind, activation and reason say so" bash -c "[ '$(json_get "$J" "[s['kind'] for s in d['systems'] if s['name']=='mig-ideal'][0]")' = model ] && [ '$(act "$J" mig-ideal status)' = MODEL ] && grep -q '^model: the MIG model does not define this metric' <<<'$(result "$J" mig-ideal SELF-001 reason)'"
check "mig-ideal comes after the measured systems" [ "$(json_get "$J" "[r['system'] for r in d['results']][-1]")" = mig-ideal ]
env -u LD_PRELOAD "$GVB" run --systems external --metrics SELF-001 --output "$TMP/e" >/dev/null 2>&1; rc=$?
J=$(last_json "$TMP/e")
if [ -s /etc/ld.so.preload ]; then
    skip "external with nothing applied (this machine has /etc/ld.so.preload)"
else
    check "external with no layer in the environment: INERT, exit 5" bash -c "[ $rc -eq 5 ] && grep -q 'no layer applied by the environment was found' <<<'$(result "$J" external SELF-001 reason)'"
fi
if [ -n "$Z" ]; then
    LD_PRELOAD=$Z "$GVB" run --systems external --metrics SELF-001 --output "$TMP/e2" >/dev/null 2>&1; rc=$?
    J=$(last_json "$TMP/e2")
    check "external with LD_PRELOAD set by the environment: detected, mapped, OK" bash -c "[ $rc -eq 0 ] && [ '$(cfg "$J" external LD_PRELOAD)' = '$Z' ] && [ '$(act "$J" external preload.0.mapped)' = 1 ]"
fi

# ---- bad system options: exit 2, one line
"$GVB" run --systems mig-ideal --mig-profile 5g.50gb --metrics SELF-001 --output "$TMP/b" >/dev/null 2>"$TMP/b.err"; rc=$?
check "unknown --mig-profile: exit 2 naming it" bash -c "[ $rc -eq 2 ] && grep -q \"unknown --mig-profile '5g.50gb'\" '$TMP/b.err'"
"$GVB" run --systems hami --preload hami=/x.so --metrics SELF-001 --output "$TMP/b" >/dev/null 2>"$TMP/b.err"; rc=$?
check "--preload name that hides a built-in: exit 2" bash -c "[ $rc -eq 2 ] && grep -q 'is a built-in system' '$TMP/b.err'"

# ---- the runner's monitor path (GVB_MONITOR=1: during every metric): series, or why not
GVB_MONITOR=1 "$GVB" run --systems fake --metrics SELF-001 --output "$TMP/mo" >/dev/null 2>&1
J=$(last_json "$TMP/mo")
mon=$(result "$J" fake SELF-001 extras.monitor)
case "$mon" in
unavailable:*) check "runner monitor without NVML: '$mon'" bash -c "grep -q 'NVML' <<<'$mon' && [ '$(json_get "$J" "len([k for k in d['results'][0]['series'] if k.startswith('monitor.')])")' = 0 ]" ;;
*) check "runner monitor: monitor.time_s and monitor.t0.used_bytes series ($mon)" python3 -c "
import json,sys; s=json.load(open('$J'))['results'][0]['series']
sys.exit(0 if len(s['monitor.time_s']['samples']) > 0 and 'monitor.t0.used_bytes' in s else 1)" ;;
esac

# ---- the monitor process alone: NVML samples, or one line saying why not
timeout -s TERM 0.6 "$GVB" __monitor --interval-ms=50 3>"$TMP/mon.txt" >/dev/null 2>&1
if grep -q '^E ' "$TMP/mon.txt"; then
    check "monitor without NVML: says why ($(head -c 80 "$TMP/mon.txt"))" [ "$(grep -c '^M ' "$TMP/mon.txt")" -eq 0 ]
else
    check "monitor samples NVML at >= 10 Hz ($(grep -c '^M ' "$TMP/mon.txt") lines in 0.6 s)" [ "$(grep -c '^M ' "$TMP/mon.txt")" -ge 6 ]
fi
# (only processes of this build: other checkouts may run their tests on the same machine)
ours_left() { for p in $(cmdline_pids '[g]pu-virt-bench __(proof|monitor)'); do
    [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$(readlink -f "$GVB")" ] && echo $p; done; }
check "no helper process left (proof, monitor)" [ -z "$(ours_left)" ]

summary systems
[ $FAILED -eq 0 ]
