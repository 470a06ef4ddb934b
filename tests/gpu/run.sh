#!/usr/bin/env bash
# GPU tests: real measurements on the machine's GPU. Without a GPU they skip cleanly
# (exit 0, "skipped: no GPU"). On the GPU machine: `bash tests/gpu/run.sh` after `make`.
# Logs and result files go to $OUT when it is set (the device tool), else a temp dir.
set -u
. "$(dirname "$0")/../lib.sh"
DEST=${OUT:-$TMP}

echo "gpu:"
if ! { [ -e /dev/nvidiactl ] || [ -e /dev/nvidia0 ]; }; then
    skip "skipped: no GPU"
    summary gpu
    exit 0
fi

# OH-001 / OH-002 on native: real samples, plausible values (systems.md: H100 launch+sync
# ~10 us, enqueue ~4 us, cudaMalloc 64 MiB ~80 us).
"$GVB" run --systems native --metrics OH-001,OH-002 --output "$TMP/native" >"$DEST/gpu-native.txt" 2>&1; rc=$?
J=$(ls "$TMP"/native/*/results.json 2>/dev/null | head -1)
[ -n "$J" ] && cp "$J" "$DEST/gpu-native.json"
check "native OH-001,OH-002 exits 0" [ $rc -eq 0 ]
check "GPU identified (name, uuid, SMs)" python3 -c "import json,sys; g=json.load(open('$J'))['gpu']; sys.exit(0 if g['name'] and g['uuid'].startswith('GPU-') and g['sm_count']>0 else 1)"
for m in OH-001 OH-002; do
    check "$m OK" [ "$(result "$J" native $m status)" = OK ]
    check "$m >= 100 real samples, not one value repeated" python3 -c "
import json,sys
r=[r for r in json.load(open('$J'))['results'] if r['metric']=='$m'][0]
s=r['samples']; sys.exit(0 if len(s)>=100 and len(set(s))>len(s)//2 else 1)"
done
v=$(result "$J" native OH-001 value)
check "OH-001 launch+sync median plausible: 2..200 us (got $v)" python3 -c "import sys; sys.exit(0 if 2<=$v<=200 else 1)"
e=$(result "$J" native OH-001 series.enqueue_us.stats.median)
check "OH-001 enqueue-only ($e us) below launch+sync ($v us)" python3 -c "import sys; sys.exit(0 if 0<$e<$v else 1)"
a=$(result "$J" native OH-002 value)
check "OH-002 cudaMalloc 64 MiB median plausible: 1..5000 us (got $a)" python3 -c "import sys; sys.exit(0 if 1<=$a<=5000 else 1)"
for s in alloc_4KiB_us alloc_2MiB_us alloc_1GiB_us; do
    check "OH-002 extra $s measured" python3 -c "
import json,sys
r=[r for r in json.load(open('$J'))['results'] if r['metric']=='OH-002'][0]
sys.exit(0 if len(r['series']['$s']['samples'])>=100 else 1)"
done

# ---- bandwidth, cache, pcie, scheduling on native (issue 9): every metric OK, and the
# numbers physically plausible (docs/metrics/{bandwidth,cache,pcie,scheduling}.md).
t0=$(date +%s.%N)
"$GVB" run --systems native --category bandwidth,cache,pcie,scheduling --output "$TMP/ext" >"$DEST/gpu-extended.txt" 2>&1; rc=$?
wall=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
JX=$(ls "$TMP"/ext/*/results.json 2>/dev/null | head -1)
[ -n "$JX" ] && cp "$JX" "$DEST/gpu-extended.json"
check "native bandwidth,cache,pcie,scheduling exits 0 (${wall} s)" [ $rc -eq 0 ]
for m in BW-001 BW-002 BW-003 BW-004 CACHE-001 CACHE-002 CACHE-003 CACHE-004 \
         PCIE-001 PCIE-002 PCIE-003 PCIE-004 SCHED-001 SCHED-002 SCHED-003 SCHED-004; do
    check "$m OK ($(result "$JX" native $m reason 2>/dev/null))" [ "$(result "$JX" native $m status 2>/dev/null)" = OK ]
done
between() { python3 -c "import sys; v=float('$1'); sys.exit(0 if $2 <= v <= $3 else 1)" 2>/dev/null; }
v=$(result "$JX" native BW-001 extras.t0.solo_pct_of_d2d 2>/dev/null)
check "BW copy kernel alone reaches >= 90 % of the D2D memcpy ceiling (got $v %)" between "$v" 90 105
v=$(result "$JX" native BW-001 extras.t0.d2d_ceiling_gbs 2>/dev/null)
check "D2D ceiling plausible: 100..10000 GB/s (got $v)" between "$v" 100 10000
v=$(result "$JX" native BW-002 value 2>/dev/null)
check "BW-002 Jain index in (0, 1] (got $v)" between "$v" 0.01 1.0000001
v=$(result "$JX" native BW-003 extras.max_aggregate_pct_of_t0_d2d 2>/dev/null)
check "BW-003 best aggregate <= 105 % of the D2D ceiling on native (got $v %)" between "$v" 10 105
for m in PCIE-001 PCIE-002; do
    v=$(result "$JX" native $m extras.pct_of_link 2>/dev/null)
    check "$m within the PCIe link rate: 10..100 % (got $v %)" between "$v" 10 100
done
v=$(result "$JX" native PCIE-004 value 2>/dev/null)
check "PCIE-004 pinned/pageable ratio plausible: 0.5..50 (got $v)" between "$v" 0.5 50
v=$(result "$JX" native CACHE-001 value 2>/dev/null)
check "CACHE-001 hit rate in [0, 100] % (got $v)" between "$v" 0 100
check "CACHE-001 says which method" python3 -c "
import json,sys
r=[r for r in json.load(open('$JX'))['results'] if r['metric']=='CACHE-001'][0]
sys.exit(0 if 'latency proxy' in r['extras'].get('t0.method','') else 1)"
v=$(result "$JX" native CACHE-001 extras.t0.hit_solo_pct 2>/dev/null)
check "CACHE victim set is L2-resident alone: proxy hit rate >= 80 % (got $v)" between "$v" 80 100
v=$(result "$JX" native SCHED-003 value 2>/dev/null)
check "SCHED-003 efficiency <= 105 % (got $v)" between "$v" 1 105
v=$(result "$JX" native SCHED-001 value 2>/dev/null)
check "SCHED-001 hand-over gap from the global timer: 0..100000 us (got $v)" between "$v" 0 100000
v=$(result "$JX" native SCHED-004 value 2>/dev/null)
check "SCHED-004 probe latency: 0..1000 ms (got $v)" between "$v" 0 1000

summary gpu
[ $FAILED -eq 0 ]
