#!/usr/bin/env bash
# The calibration layer without a GPU: libgvb-calib.so preloaded into a program that reaches a
# fake libcuda.so.1 the way the CUDA runtime does (dlsym on the driver handle, then
# cuGetProcAddress), so the interposition path, the delays, the cap and the duty cycle are
# checked here; `validate` without a GPU; --calib and KIND@LABEL input errors.
set -u
. "$(dirname "$0")/../lib.sh"
B=$(cd "$(dirname "$GVB")" && pwd)
LIB=$B/libgvb-calib.so
FAKE=$B/tests/calib
HOST=$FAKE/calib-host

echo "calib:"
if [ ! -f "$LIB" ] || [ ! -x "$HOST" ]; then
    bad "build/libgvb-calib.so and the test doubles are built by make test"
    summary calib
    exit 1
fi

# ---- the library as built
syms=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
want="cuGetProcAddress cuGetProcAddress_v2 cuLaunchKernel cuLaunchKernelEx cuLaunchKernelEx_ptsz cuLaunchKernel_ptsz cuMemAllocAsync cuMemAllocAsync_ptsz cuMemAllocFromPoolAsync cuMemAllocFromPoolAsync_ptsz cuMemAllocPitch_v2 cuMemAlloc_v2 cuMemFreeAsync cuMemFreeAsync_ptsz cuMemFree_v2 cuMemGetInfo_v2 dlsym gvb_calib_stats "
check "exports exactly the hooks, dlsym and gvb_calib_stats" [ "$syms" = "$want" ]
check "links neither libcuda nor the CUDA runtime" bash -c "! readelf -d '$LIB' | grep -E 'NEEDED.*(libcuda|libcudart)'"
out=$(LD_PRELOAD=$LIB GVB_CALIB=launch_us=20 python3 -c 'import ctypes, json; print(json.dumps(1))' 2>&1)
check "a program that does not use CUDA runs unchanged under the layer (dlsym passes through)" [ "$out" = 1 ]

run_host() { LD_LIBRARY_PATH=$FAKE LD_PRELOAD=$LIB "$@"; }
val() { awk -v k="$1" '$1 == k {print $2}'; }
within() { python3 -c "import sys; v=float('$1'); sys.exit(0 if $2 <= v <= $3 else 1)"; }

# ---- interposition through the runtime's path
v=$(LD_LIBRARY_PATH=$FAKE "$HOST" launch 2000 | val launch_us)
check "no layer: a fake launch costs < 5 us (got $v)" within "$v" 0 5
v=$(GVB_CALIB=launch_us=200 run_host "$HOST" launch 2000 | val launch_us)
check "launch_us=200 adds 200 us per launch, found through cuGetProcAddress (got $v)" within "$v" 199.9 205
v=$(GVB_CALIB=launch_us=50 run_host "$HOST" launch-v1 500 | val launch_us)
check "the v1 cuGetProcAddress and the per-thread variant are hooked too (got $v)" within "$v" 49.9 55
v=$(GVB_CALIB=alloc_us=300 run_host "$HOST" alloc 300 | val alloc_us)
check "alloc_us=300 adds 300 us per cuMemAlloc (got $v)" within "$v" 299.9 305
v=$(GVB_CALIB_BREAK=half GVB_CALIB=launch_us=200 run_host "$HOST" launch 1000 | val launch_us)
check "GVB_CALIB_BREAK=half applies half the delay (got $v)" within "$v" 99.9 105
v=$(GVB_CALIB_BREAK=bypass GVB_CALIB=launch_us=200 run_host "$HOST" launch 1000 | val launch_us)
check "GVB_CALIB_BREAK=bypass leaves launches alone (got $v)" within "$v" 0 5
out=$(GVB_CALIB=launch_us=abc run_host "$HOST" stats 2>"$TMP/bad.err")
check "a bad GVB_CALIB is reported and applies nothing (config_ok 0)" bash -c "[ '$(val config_ok <<<"$out")' = 0 ] && grep -q 'bad value' '$TMP/bad.err'"
check "without the layer the stats symbol is absent" [ "$("$HOST" stats)" = "stats none" ]

# ---- the memory cap: fake device 80 GiB, its context 500 MiB
out=$(GVB_CALIB=mem=3g run_host "$HOST" fill 64)
check "mem=3g: cuMemGetInfo total = the cap" [ "$(val total_before <<<"$out")" = 3221225472 ]
check "mem=3g: free = cap - context charge (500 MiB)" [ "$(val free_before <<<"$out")" = $((3221225472 - 524288000)) ]
check "mem=3g: 64 MiB chunks fit until the cap, exactly 40" [ "$(val allocated <<<"$out")" = $((40 * 67108864)) ]
check "mem=3g: the refused allocation is CUDA_ERROR_OUT_OF_MEMORY (2)" [ "$(val error <<<"$out")" = 2 ]
check "mem=3g: free = what is left under the cap when full" [ "$(val free_full <<<"$out")" = $((3221225472 - 524288000 - 40 * 67108864)) ]
check "mem=3g: frees give the charge back (cuMemFree answered with an internal pointer, adopted by name)" [ "$(val free_after <<<"$out")" = $((3221225472 - 524288000)) ]
out=$(run_host "$HOST" fill 8192)
check "no cap: the driver's numbers pass through" [ "$(val total_before <<<"$out")" = 85899345920 ]

# ---- the duty cycle: 2 ms fake kernels in a launch+sync loop. Busy is what the layer counts
# (launch call to completion noticed): a host thread descheduled on a loaded CI machine
# notices late, the layer charges that too, and launches x kernel time then falls short of
# the duty (0.33 for 0.50 once) without the layer being wrong. That nominal share must
# still never exceed the duty.
out=$(FAKE_KERNEL_US=2000 GVB_CALIB=duty=50 run_host "$HOST" duty 1)
v=$(val busy_fraction <<<"$out"); n=$(val nominal_fraction <<<"$out")
check "duty=50: busy / wall = 0.50 (got $v)" within "$v" 0.47 0.53
check "duty=50: kernel time / wall not above it (got $n)" within "$n" 0 0.53
out=$(FAKE_KERNEL_US=100 GVB_CALIB=duty=25 run_host "$HOST" duty 1)
v=$(val busy_fraction <<<"$out"); n=$(val nominal_fraction <<<"$out")
check "duty=25 with 100 us kernels: 0.25 (got $v)" within "$v" 0.22 0.28
check "duty=25: kernel time / wall not above it (got $n)" within "$n" 0 0.28
v=$(FAKE_KERNEL_US=2000 LD_LIBRARY_PATH=$FAKE "$HOST" duty 0.5 | val busy_fraction)
check "no layer: the loop keeps the fake GPU busy (got $v)" within "$v" 0.95 1.01

# ---- the command line
"$GVB" validate >"$TMP/v.out" 2>"$TMP/v.err"; rc=$?
if [ -e /dev/nvidiactl ] || [ -e /dev/nvidia0 ]; then
    skip "validate without a GPU (this machine has one)"
else
    check "validate without a GPU: exit 3 and one clear line ($(cat "$TMP/v.err"))" bash -c "[ $rc -eq 3 ] && [ \$(wc -l <'$TMP/v.err') -eq 1 ] && grep -q 'validate needs a CUDA GPU' '$TMP/v.err'"
fi
expect2() { # description, expected message, args...
    local what=$1 msg=$2; shift 2
    "$GVB" "$@" >/dev/null 2>"$TMP/e.err"; local rc=$?
    check "$what -> exit 2: $(cat "$TMP/e.err")" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/e.err') -eq 1 ] && grep -q -- \"\$1\" '$TMP/e.err'" _ "$msg"
}
expect2 "bad --calib value" "bad value 'abc' for launch_us" run --systems calib --calib launch_us=abc
expect2 "unknown --calib key" "unknown key 'foo'" run --systems calib --calib foo=1
expect2 "--calib without the calib system" "add --systems calib" run --systems native --calib duty=50
expect2 "bad system instance" "bad system instance 'native@'" run --systems native@
expect2 "bad validate option" "unknown option '--frob'" validate --frob
N=$("$GVB" list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "list still prints all $N metrics" [ "$("$GVB" list | grep -cE '^[A-Z]+-[0-9]{3} ')" -eq "$N" ]

summary calib
[ $FAILED -eq 0 ]
