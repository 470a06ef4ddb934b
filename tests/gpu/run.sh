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

# Overhead and isolation on native, --quick: every metric OK (IS-004 SKIPs: native has no
# limiter), real samples, and the answers native must give (docs/metrics/isolation.md).
t0=$(date +%s.%N)
"$GVB" run --systems native --category overhead,isolation --quick --processes 4 --json-only \
    --output "$TMP/oi" >"$DEST/gpu-oi.txt" 2>&1; rc=$?
echo "  overhead+isolation --quick on native: $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
J=$(ls "$TMP"/oi/*/results.json 2>/dev/null | head -1)
[ -n "$J" ] && cp "$J" "$DEST/gpu-oi.json"
check "native overhead,isolation --quick exits 0 (rc $rc)" [ $rc -eq 0 ]
for m in OH-003 OH-004 OH-005 OH-006 OH-007 OH-008 OH-009 OH-010 IS-001 IS-002 IS-003 IS-005 IS-006 IS-007 IS-008 IS-009 IS-010; do
    s=$(result "$J" native $m status 2>/dev/null)
    check "$m OK (got $s: $(result "$J" native $m reason 2>/dev/null))" [ "$s" = OK ]
done
check "IS-004 SKIPs on native with the reason" python3 -c "
import json,sys
r=[r for r in json.load(open('$J'))['results'] if r['metric']=='IS-004'][0]
sys.exit(0 if r['status']=='SKIP' and 'no compute limit' in r['reason'] and r['value'] is None else 1)"
py() { python3 -c "
import json,sys
R={r['metric']:r for r in json.load(open('$J'))['results']}
def x(m,k): return R[m]['extras'][k]
sys.exit(0 if ($1) else 1)"; }
check "OH-004: >= 10 fresh processes, 1..5000 ms each" py "len(R['OH-004']['samples'])>=10 and all(1<=v<=5000 for v in R['OH-004']['samples'])"
check "OH-005: cuMemGetInfo 1..100000 ns per call" py "1<=R['OH-005']['value']<=1e5"
check "OH-009: background CPU 0..100 % of a core" py "0<=R['OH-009']['value']<=100"
check "OH-010: native is 0 by definition, with its run-to-run CI" py "R['OH-010']['value']==0 and 'run_to_run_ci95_lo_pct' in R['OH-010']['extras']"
check "IS-001: native usable/physical in 85..100 %" py "85<=R['IS-001']['value']<=100"
check "IS-003: native reference below the FP32 peak, method validates (accuracy >= 80)" py "x('IS-003','reference_pct_of_fp32_peak')<=100 and R['IS-003']['value']>=80"
check "IS-005: three named checks with evidence, value 0 or 1" py "R['IS-005']['value'] in (0,1) and all('t1.check.'+c in R['IS-005']['extras'] and 't1.evidence.'+c in R['IS-005']['extras'] for c in ('freed_data_not_readable','quota_unaffected_by_neighbour','foreign_pointer_invalid'))"
check "IS-006: victim keeps 1..100 % of its solo throughput" py "1<=R['IS-006']['value']<=100"
check "IS-008: native time-slicing is fair (Jain >= 0.8)" py "0.8<=R['IS-008']['value']<=1"
check "IS-010: native passes, the killed tenant died of SIGKILL, survivors named" py "R['IS-010']['value']==1 and x('IS-010','t2.exit').startswith('signal 9') and 'survivors' in R['IS-010']['extras']"

summary gpu
[ $FAILED -eq 0 ]
