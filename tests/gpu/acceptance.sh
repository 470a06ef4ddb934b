#!/usr/bin/env bash
# The issues' acceptance runs on the GPU machine: native, hami and mps with the limits the
# issues name, one run per metric family, each writing results + report.md + report.html.
#   tests/gpu/acceptance.sh [oi|llm|extended|validate|all]...    (after `make`)
# HAMi-core comes from GVB_HAMI_LIB (the project never ships it). Everything lands in $OUT (the
# device tool) or /tmp/gvb-acceptance: summary.txt, and runs.tar.gz with every run directory.
set -u
cd "$(dirname "$0")/../.."
GVB=${GVB:-$PWD/build/gpu-virt-bench}
DEST=${OUT:-/tmp/gvb-acceptance}
WORK=$(mktemp -d /tmp/gvb-acc.XXXXXX)
mkdir -p "$DEST"
if ! { [ -e /dev/nvidiactl ] || [ -e /dev/nvidia0 ]; }; then
    echo "acceptance: skipped: no GPU"
    exit 0
fi
HAMI=${GVB_HAMI_LIB:-/usr/local/vgpu/libvgpu.so}
SUM=$DEST/summary.txt

now() { date +%s.%N; }
since() { python3 -c "print(round($(now) - $1, 1))"; }

run3() { # name, run options...
    local name=$1 t0 rc
    shift
    t0=$(now)
    "$GVB" run --systems native,hami,mps --hami-lib "$HAMI" --output "$WORK/$name" "$@" \
        >"$WORK/$name.txt" 2>&1
    rc=$?
    {
        echo "== $name: gpu-virt-bench run --systems native,hami,mps $* -> exit $rc, wall $(since "$t0") s"
        sed -n '/^system  *metric/,/INERT$/p' "$WORK/$name.txt"
        grep -A30 '^## Executive summary' "$WORK"/"$name"/*/report.md 2>/dev/null | head -40
    } >>"$SUM"
}

for stage in "${@:-all}"; do
    case $stage in
    oi | all) run3 oi --memory-limit 4g --compute-limit 50 --category overhead,isolation ;;&
    llm | all) run3 llm --memory-limit 8g --compute-limit 50 --category llm ;;&
    extended | all)
        run3 extended --memory-limit 4g --compute-limit 50 \
            --category bandwidth,cache,pcie,scheduling,fragmentation,error,nccl ;;&
    validate | all)
        t0=$(now)
        "$GVB" validate --output "$WORK/validate" >"$WORK/validate.txt" 2>&1
        rc=$?
        { echo "== validate -> exit $rc, wall $(since "$t0") s"; cat "$WORK/validate.txt"; } >>"$SUM" ;;
    oi | llm | extended | validate) ;;
    *) echo "acceptance: unknown stage '$stage' (oi, llm, extended, validate, all)" >&2; exit 2 ;;
    esac
done
echo "== MPS processes left: $(pgrep -c -f nvidia-cuda-mps || true)" >>"$SUM"
tar -czf "$DEST/runs.tar.gz" -C "$WORK" . 2>/dev/null
cat "$SUM"
