#!/usr/bin/env bash
# Fuzzes the results reader and every `report` format with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (any UB aborts). Not part of `make test`, except as a short smoke
# run (tests/cli/test_fuzz.sh).
#   tests/fuzz/run.sh [SECONDS] [JOBS]     default 60 s, 1 job
# Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev). Exits 77 when
# it is missing, 0 when no crash was found, 1 otherwise; crashing inputs are left in
# $FUZZ_OUT (default build/fuzz) as crash-*, leak-*, timeout-*. The seed corpus is
# tests/fuzz/seeds/*.json (the report fixtures cut short by make_seeds.py, and hand-made
# cases); what the fuzzer adds stays in $FUZZ_OUT/corpus, never in the repository.
# SECONDS 0 only replays the seeds (the smoke run).
set -u
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
JOBS=${2:-1}
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build/fuzz}
if ! command -v "$CC" >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
     "$CC" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
    echo "fuzz: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
    exit 77
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -DGVB_VERSION=\"fuzz\" -Isrc $SAN"
mkdir -p "$OUT/obj" "$OUT/corpus"
rm -f "$OUT"/obj/*.o "$OUT/libgvb.a"
# the reader, statistics and report writers, instrumented for coverage; an archive, so that
# only what the target reaches is linked (the runner's parts are never pulled in)
export CC CFLAGS OUT
ls src/core/*.c src/stats/*.c src/report/*.c src/calib/calib_account.c tests/fuzz/impl_stubs.c |
    xargs -P "$(nproc)" -I{} sh -c 'src={}; obj="$OUT/obj/$(echo "${src%.c}" | tr / _).o"
        exec $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"' || exit 1
ar rcs "$OUT/libgvb.a" "$OUT"/obj/*.o
$CC $CFLAGS -fsanitize=fuzzer tests/fuzz/fuzz_report.c "$OUT/libgvb.a" -ljansson -lm \
    -o "$OUT/fuzz-report" || exit 1
cp tests/fuzz/seeds/*.json "$OUT/corpus/"
echo "fuzz: $SECONDS_TO_RUN s, $JOBS job(s), corpus $OUT/corpus"
# one process per job; -fork keeps going after a crash is saved, so one run finds several
if [ "$JOBS" -gt 1 ]; then PAR="-fork=$JOBS -ignore_crashes=1"; else PAR=""; fi
if [ "$SECONDS_TO_RUN" -eq 0 ]; then PAR="-runs=0"; fi
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
"$OUT/fuzz-report" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
    -max_len=32768 -dict=tests/fuzz/results.dict -print_final_stats=1 \
    -artifact_prefix="$OUT/" $PAR "$OUT/corpus" 2>&1 | tee "$OUT/last.log" | grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' 
crashes=$(ls "$OUT"/crash-* "$OUT"/leak-* "$OUT"/timeout-* "$OUT"/oom-* 2>/dev/null | wc -l)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/last.log" | awk '{s+=$2} END {print s+0}')
echo "fuzz: $execs executions, $crashes crashing inputs in $OUT"
[ "$crashes" -eq 0 ]
