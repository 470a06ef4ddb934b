/* Isolation metrics of compute (IS-003, IS-004, IS-006..IS-009): does the layer keep a
 * tenant's compute limit and its neighbours out? Methods in docs/metrics/isolation.md. Tenant 0
 * is the victim (or observer), the others are aggressors unless a metric says otherwise.
 * Compute work is the fixed-arithmetic work kernel (src/kernels/isolation.cu), timed by CUDA
 * events on the GPU, never a clock-spinning kernel. Memory and fault isolation (IS-001, IS-002,
 * IS-005, IS-010): isolation_memory.c. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "metrics/metric_util.h"
#include "metrics/work_loop.h"
#include "stats/formulas.h"
#include "stats/stats.h"

/* ---- kernel shapes (IS-003) ------------------------------------------------------------ */

/* Grids on the whole GPU (the reference's SM count, the work kernel's blocks per SM): below
 * one wave (one block per SM), one wave, eight waves. */
typedef enum { GRID_SUB, GRID_WAVE, GRID_8WAVES } grid_kind;

typedef struct kshape {
    const char *name;
    int iters;      /* block duration: BIG_ITERS (256) take about 10 us a block on an H100 */
    grid_kind grid;
} kshape;

/* The shapes beside the primary loop's BIG kernel (10 us blocks, 62 waves), split over the
 * replicates (gvb_replicate_owns): at 3 replicates two a process group. Names give the block
 * duration measured on the H200 (2026-12-03, native) and the grid; the reference records
 * each shape's kernel time on this GPU. A block alone on its SM runs about 7x faster than
 * with 8 co-resident, so the sub-wave shapes have their own iteration counts. No 10 us
 * sub-wave shape: a 1.4 us kernel is launch-bound (native measured 108-131 % of its own
 * reference), a measure of launch rate, not of a compute share. A limiter that charges per
 * launch by grid size (HAMi) gives few long blocks more than many short ones; a spatial one
 * (MPS) costs a grid below one wave nothing while its SMs suffice. */
static const kshape shapes[] = {
    {"140us_sub", 25600, GRID_SUB},     {"1ms_wave", 25600, GRID_WAVE},
    {"1ms_8waves", 25600, GRID_8WAVES}, {"100us_wave", 2560, GRID_WAVE},
    {"100us_8waves", 2560, GRID_8WAVES}, {"1ms_sub", 179200, GRID_SUB},
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))
#define BIG_SHAPE_NAME "10us_62waves"

static int shape_blocks(const kshape *sh, int sm, int bps)
{
    long b = sh->grid == GRID_SUB ? sm : sh->grid == GRID_WAVE ? (long)sm * bps : 8L * sm * bps;
    return b < 1 ? 1 : b > BIG_BLOCKS ? BIG_BLOCKS : (int)b; /* the sink holds BIG_BLOCKS */
}

/* Seconds per kernel of a loop of dur seconds (depth as work_run's), timed on the host up to
 * the last kernel's end: no events to record per kernel. */
static cudaError_t shape_rate(work *k, int depth, double dur, double *per_s, size_t *n)
{
    double t0 = gvb_now();
    cudaError_t e = work_run(k, depth, dur, NULL, 0);
    double el = gvb_now() - t0;
    *n = k->launched;
    *per_s = !e && k->launched ? el / (double)k->launched : NAN;
    return e;
}

/* ---- the unconstrained reference (IS-003, IS-004) ---------------------------------------- */

typedef struct shape_ref {
    int measured, blocks;
    double unsync_s, sync_s; /* per kernel, unconstrained */
} shape_ref;

typedef struct reference {
    double kernel_s; /* one BIG kernel on the whole GPU, no layer */
    int sm, cc_major, cc_minor;
    double clock_khz;
    long kernels;
    shape_ref shape[sizeof shapes / sizeof shapes[0]];
} reference;

/* The unconstrained loops of one shape, timed as the tenant's are. */
#define SHAPE_REF_S 0.15

/* The hidden subcommand: `__isref BLOCKS ITERS SECONDS [SHAPE...]`, run with the layer
 * variables removed. Prints "ISREF kernel_s sm cc_major cc_minor clock_khz kernels", then
 * for each SHAPE (an index into shapes) "ISSHAPE index blocks unsync_s sync_s". */
int gvb_isref_main(int argc, char **argv, double t_main)
{
    if (argc < 4) {
        fprintf(stderr, "usage: __isref BLOCKS ITERS SECONDS [SHAPE...]\n");
        return 2;
    }
    for (int a = 4; a < argc; a++)
        if (atoi(argv[a]) < 0 || atoi(argv[a]) >= N_SHAPES) {
            fprintf(stderr, "__isref: no kernel shape %s\n", argv[a]);
            return 2;
        }
    int blocks = atoi(argv[1]), iters = atoi(argv[2]);
    double dur = atof(argv[3]);
    work k;
    int sm = 0, maj = 0, min = 0, clk = 0;
    cudaError_t e = work_init(&k, blocks, iters);
    if (!e)
        e = cudaDeviceGetAttribute(&sm, cudaDevAttrMultiProcessorCount, 0);
    if (!e)
        e = cudaDeviceGetAttribute(&maj, cudaDevAttrComputeCapabilityMajor, 0);
    if (!e)
        e = cudaDeviceGetAttribute(&min, cudaDevAttrComputeCapabilityMinor, 0);
    if (!e)
        e = cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, 0);
    if (!e) /* warm-up: clocks up, module loaded */
        e = work_run(&k, IN_FLIGHT, dur / 4, NULL, 0);
    if (!e)
        e = work_run(&k, IN_FLIGHT, dur, NULL, 1);
    if (!e)
        e = work_collect(&k);
    if (e || k.n < 2) {
        printf("ISFAIL %s\n", e ? cudaGetErrorString(e) : "no kernels completed");
        return 1;
    }
    /* back-to-back kernels: the span from the first start to the last end, per kernel */
    double per = (k.end[k.n - 1] - k.start[0]) / (double)k.n;
    printf("ISREF %.9e %d %d %d %d %zu\n", per, sm, maj, min, clk, k.n);
    int bps = 0;
    if (argc > 4) /* shapes asked for */
        e = (cudaError_t)gvb_work_blocks_per_sm(&bps);
    for (int a = 4; a < argc && !e; a++) {
        const kshape *sh = &shapes[atoi(argv[a])];
        double u = NAN, s = NAN;
        size_t n;
        k.blocks = shape_blocks(sh, sm, bps);
        k.iters = sh->iters;
        e = shape_rate(&k, IN_FLIGHT, SHAPE_REF_S / 3, &u, &n); /* warm-up */
        if (!e)
            e = shape_rate(&k, IN_FLIGHT, SHAPE_REF_S, &u, &n);
        if (!e)
            e = shape_rate(&k, 0, SHAPE_REF_S, &s, &n);
        if (!e)
            printf("ISSHAPE %d %d %.9e %.9e\n", atoi(argv[a]), k.blocks, u, s);
    }
    if (e)
        printf("ISFAIL %s\n", cudaGetErrorString(e));
    work_free(&k);
    return e ? 1 : 0;
}

/* The reference's timed loop, per process group (its warm-up is a quarter of it): ~500 BIG
 * kernels, whose mean is what it measures. It stays in every group: it is the whole GPU's
 * speed at the time of that group's loops (clocks, temperature), measured beside them, and
 * native's IS-003 validates the method only against a reference of its own group. */
#define REFERENCE_S 0.3

/* The reference of the BIG kernel, and of the shapes this process group measures when
 * with_shapes. */
static int measure_reference(gvb_worker *w, double dur, int with_shapes, reference *ref)
{
    char b[16], it[16], d[32], idx[N_SHAPES][8], out[2048], why[512];
    snprintf(b, sizeof b, "%d", BIG_BLOCKS);
    snprintf(it, sizeof it, "%d", BIG_ITERS);
    snprintf(d, sizeof d, "%.3f", dur);
    char *args[4 + N_SHAPES + 1] = {(char *)w->metric->child, b, it, d}; /* __isref */
    int na = 4;
    memset(ref, 0, sizeof *ref);
    for (int i = 0; with_shapes && i < N_SHAPES; i++)
        if (gvb_replicate_owns(w, i)) {
            snprintf(idx[i], sizeof idx[i], "%d", i);
            args[na++] = idx[i];
        }
    args[na] = NULL;
    double t_spawn;
    if (gvb_child_run(args, 1, 120, out, sizeof out, &t_spawn, why, sizeof why) != 0)
        return gvb_report_status(w, GVB_FAIL, "unconstrained reference: %s", why);
    const char *line = strstr(out, "ISREF ");
    if (!line || sscanf(line, "ISREF %lf %d %d %d %lf %ld", &ref->kernel_s, &ref->sm,
                        &ref->cc_major, &ref->cc_minor, &ref->clock_khz, &ref->kernels) != 6)
        return gvb_report_status(w, GVB_FAIL, "unconstrained reference printed: %.200s", out);
    for (const char *p = strstr(out, "ISSHAPE "); p; p = strstr(p + 1, "ISSHAPE ")) {
        int i, blocks;
        double u, s;
        if (sscanf(p, "ISSHAPE %d %d %lf %lf", &i, &blocks, &u, &s) != 4 || i < 0 ||
            i >= N_SHAPES || blocks < 1 || blocks > BIG_BLOCKS || !(u > 0) || !(s > 0))
            return gvb_report_status(w, GVB_FAIL, "unconstrained reference printed: %.200s", p);
        ref->shape[i] = (shape_ref){.measured = 1, .blocks = blocks, .unsync_s = u, .sync_s = s};
    }
    for (int a = 4; a < na; a++)
        if (!ref->shape[atoi(args[a])].measured)
            return gvb_report_status(w, GVB_FAIL, "unconstrained reference of shape %s missing: "
                                     "%.200s", shapes[atoi(args[a])].name, out);
    double tflops = kernel_tflop(BIG_BLOCKS, BIG_ITERS) / ref->kernel_s;
    double peak = gvb_fp32_peak_tflops(ref->sm, ref->cc_major, ref->cc_minor, ref->clock_khz);
    gvb_emit_extra(w, "reference_kernel_ms", ref->kernel_s * 1e3);
    gvb_emit_extra(w, "reference_sm_count", ref->sm);
    gvb_emit_extra(w, "reference_tflops", tflops);
    if (isfinite(peak)) {
        gvb_emit_extra(w, "reference_pct_of_fp32_peak", 100 * tflops / peak);
        if (tflops > peak * 1.02) /* a throughput above peak is a bug, not a result */
            return gvb_report_status(w, GVB_FAIL,
                                     "reference %.1f TFLOP/s exceeds the FP32 peak %.1f: timing is wrong",
                                     tflops, peak);
    }
    return 0;
}

/* ---- IS-003 SM Utilization Accuracy ---------------------------------------------------------- */

/* The compute share this system was asked to give a tenant, or 0 after reporting SKIP.
 * Native applies no limit: its target is the whole GPU when allow_native. */
static double compute_target(gvb_worker *w, int allow_native)
{
    if (gvb_is_native(w)) {
        if (allow_native)
            return 100.0;
        gvb_report_status(w, GVB_SKIP,
                          "native applies no compute limit: there is no limiter to time");
        return 0;
    }
    if (w->compute_limit <= 0) {
        gvb_report_status(w, GVB_SKIP, "no compute limit configured (--compute-limit)");
        return 0;
    }
    return w->compute_limit;
}

static int emit_context_facts(gvb_worker *w, work *k)
{
    int sm = 0, bps = 0;
    GVB_CUDA_TRY(w, cudaDeviceGetAttribute(&sm, cudaDevAttrMultiProcessorCount, 0));
    GVB_CUDA_TRY(w, (cudaError_t)gvb_work_blocks_per_sm(&bps));
    gvb_emit_extra(w, "sm_count_seen", sm);
    gvb_emit_extra(w, "blocks", k->blocks);
    if (sm > 0 && bps > 0)
        gvb_emit_extra(w, "waves_on_seen_sms", ceil((double)k->blocks / ((double)sm * bps)));
    return 0;
}

/* IS-003 and IS-004 up to the start barrier: the target (or SKIP), the unconstrained
 * reference (before this tenant has a context), then the tenant's context with the BIG
 * kernel's module loaded but nothing launched. Returns 0, or 1 after reporting. */
static int limited_setup(gvb_worker *w, int allow_native, int with_shapes, double *target,
                         reference *ref, work *k)
{
    if ((*target = compute_target(w, allow_native)) <= 0)
        return 1;
    if (measure_reference(w, w->quick ? 0.15 : REFERENCE_S, with_shapes, ref) != 0)
        return 1;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, work_init(k, BIG_BLOCKS, BIG_ITERS));
    if (emit_context_facts(w, k) != 0)
        return 1;
    gvb_barrier(w);
    return 0;
}

#define SHARE_WIN_S 0.1

/* This group's shapes after the primary loops (the limiter is past its start): per shape an
 * unsynchronized loop in two halves and a launch+sync loop, each share against that shape's
 * unconstrained loop of the same kind. A layer's unsynchronized loop is 2 s, several of
 * HAMi's ~120 ms refills and long enough to see a stall; native, which has no limiter to
 * wait for, validates the method with 0.5 s. Series per shape (one value per replicate
 * that measured it): shape.NAME.share_pct (the primary's kind of share; the report's range),
 * .second_half_pct, .sync_share_pct, .kernel_ms (unconstrained). */
static int measure_shapes(gvb_worker *w, work *k, const reference *ref)
{
    int base = gvb_is_native(w);
    double du = w->quick ? 0.4 : base ? 0.5 : 2.0, ds = w->quick ? 0.2 : base ? 0.25 : 0.5;
    for (int i = 0; i < N_SHAPES; i++) {
        const shape_ref *sr = &ref->shape[i];
        if (!sr->measured)
            continue;
        k->blocks = sr->blocks;
        k->iters = shapes[i].iters;
        double a, b, sy;
        size_t na, nb, ns;
        GVB_CUDA_TRY(w, shape_rate(k, IN_FLIGHT, du / 2, &a, &na));
        GVB_CUDA_TRY(w, shape_rate(k, IN_FLIGHT, du / 2, &b, &nb));
        GVB_CUDA_TRY(w, shape_rate(k, 0, ds, &sy, &ns));
        if (!na || !nb || !ns)
            return gvb_report_status(w, GVB_FAIL, "no kernel of shape %s completed",
                                     shapes[i].name);
        double per = (a * (double)na + b * (double)nb) / (double)(na + nb);
        char key[64];
        const char *nm = shapes[i].name;
        snprintf(key, sizeof key, "shape.%s.share_pct", nm);
        gvb_emit_series(w, key, 100 * sr->unsync_s / per);
        snprintf(key, sizeof key, "shape.%s.second_half_pct", nm);
        gvb_emit_series(w, key, 100 * sr->unsync_s / b);
        snprintf(key, sizeof key, "shape.%s.sync_share_pct", nm);
        gvb_emit_series(w, key, 100 * sr->sync_s / sy);
        snprintf(key, sizeof key, "shape.%s.kernel_ms", nm);
        gvb_emit_series(w, key, sr->unsync_s * 1e3);
        snprintf(key, sizeof key, "shape.%s.blocks", nm);
        gvb_emit_extra(w, key, sr->blocks);
    }
    return 0;
}

static int is_003(gvb_worker *w)
{
    double t_start = gvb_now(); /* ~ the runner's start of this metric: the monitor's t = 0 */
    double target;
    reference ref;
    work k;
    if (limited_setup(w, 1, 1, &target, &ref, &k) != 0)
        return 1;
    /* The unsynchronized loop (the primary) runs 3 s in every process group: a limiter that
     * reacts over a second (HAMi) is otherwise caught mid-reaction, as --quick's shorter
     * loops are, and the value would measure the reaction (IS-004's job), not the share. On
     * the H200 (2026-12-03) 1.5 s loops gave HAMi 23-27 % for a 50 % limit, with 45 % in the
     * loops' second halves. The launch+sync loop only feeds extras: 3 s per metric split over
     * the replicates, at least 0.5 s a group. */
    double dur[2] = {w->quick ? 0.6 : 3.0,
                     w->quick ? 0.3 : gvb_replicate_window_s(w, 3.0, 0.5)}, share[2];
    static const char *const mode[] = {"unsync", "sync"};
    for (int m = 0; m < 2; m++) {
        char key[64];
        snprintf(key, sizeof key, "%s_start_s", mode[m]);
        gvb_emit_extra(w, key, gvb_now() - t_start);
        GVB_CUDA_TRY(w, work_run(&k, m == 0 ? IN_FLIGHT : 0, dur[m], NULL, 1));
        snprintf(key, sizeof key, "%s_end_s", mode[m]);
        gvb_emit_extra(w, key, gvb_now() - t_start);
        GVB_CUDA_TRY(w, work_collect(&k));
        share[m] = work_share(&k, ref.kernel_s);
        size_t nw;
        double *sh = work_windows(&k, ref.kernel_s, SHARE_WIN_S, &nw);
        snprintf(key, sizeof key, "share_100ms_%s_pct", mode[m]);
        double late = 0; /* mean share over the loop's second half: past a limiter's start */
        for (size_t i = nw / 2; sh && i < nw; i++)
            late += sh[i] / (double)(nw - nw / 2);
        snprintf(key, sizeof key, "achieved_%s_second_half_pct", mode[m]);
        if (sh && nw >= 2)
            gvb_emit_extra(w, key, late);
        snprintf(key, sizeof key, "share_100ms_%s_pct", mode[m]);
        for (size_t i = 0; sh && i < nw; i++) {
            gvb_emit_series(w, key, sh[i]);
            if (m == 0) /* samples: the accuracy of each 100 ms window of the saturating loop */
                gvb_emit_sample(w, gvb_share_accuracy(sh[i], target));
        }
        free(sh);
        snprintf(key, sizeof key, "kernels_%s", mode[m]);
        gvb_emit_extra(w, key, (double)k.n);
    }
    gvb_emit_extra(w, "shapes_start_s", gvb_now() - t_start);
    if (measure_shapes(w, &k, &ref) != 0)
        return 1;
    work_free(&k);
    if (!isfinite(share[0]) || !isfinite(share[1]))
        return gvb_report_status(w, GVB_FAIL, "no kernel completed in a loop");
    gvb_emit_extra(w, "target_pct", target);
    gvb_emit_extra(w, "achieved_unsync_pct", share[0]); /* this replicate's */
    gvb_emit_series(w, "achieved_unsync_pct", share[0]); /* every replicate's, for the report */
    gvb_emit_series(w, "shape." BIG_SHAPE_NAME ".share_pct", share[0]);
    gvb_emit_text(w, "kernel", "the primary: %d blocks of ~10 us (%s), a saturating "
                  "unsynchronized loop; shape.* series: the other kernel shapes",
                  BIG_BLOCKS, BIG_SHAPE_NAME);
    gvb_emit_extra(w, "achieved_sync_pct", share[1]);
    gvb_emit_extra(w, "accuracy_sync_pct", gvb_share_accuracy(share[1], target));
    if (gvb_is_native(w))
        gvb_emit_text(w, "target", "native applies no limit: the target is the whole GPU, so "
                                   "this validates the method (expect ~100)");
    gvb_emit_value(w, gvb_share_accuracy(share[0], target));
    return 0;
}

/* Mean of a monitor series over a loop's interval [t0, t1] (seconds from the tenant's start,
 * which trails the runner's start, the monitor's t = 0, by the exec time), trimmed by 0.1 s
 * at each end for that offset and NVML's averaging; else over the samples where it is
 * non-zero, up to the start of the kernel shapes' loops. */
static double monitor_mean(const gvb_result *r, const gvb_series *v, double t0, double t1,
                           int *aligned)
{
    const gvb_series *time = gvb_series_lookup(r, "monitor.time_s");
    double sum = 0;
    size_t n = 0;
    *aligned = 0;
    if (time && isfinite(t0) && isfinite(t1)) {
        for (size_t i = 0; i < v->n && i < time->n; i++) {
            if (time->v[i] >= t0 + 0.1 && time->v[i] <= t1 - 0.1) {
                sum += v->v[i];
                n++;
            }
        }
        if (n >= 2) {
            *aligned = 1;
            return sum / (double)n;
        }
    }
    /* busy samples before the kernel shapes' loops (other grids, other shares) when the
     * times say where they began */
    double t_shapes = gvb_extra_num(r, "shapes_start_s");
    sum = 0;
    n = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->v[i] > 0 && !(time && isfinite(t_shapes) && i < time->n && time->v[i] > t_shapes)) {
            sum += v->v[i];
            n++;
        }
    }
    return n ? sum / (double)n : NAN;
}

static void is_003_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    gvb_copy_samples(r, per_tenant, tenants);
    const gvb_series *util = gvb_monitor_series(r, 0, "sm_util_pct");
    if (!util || util->n == 0) {
        gvb_monitor_unavailable(r);
        return;
    }
    int aligned = 0;
    double u = monitor_mean(r, util, gvb_extra_num(r, "unsync_start_s"),
                            gvb_extra_num(r, "unsync_end_s"), &aligned);
    gvb_kv_set_num(&r->extras, "monitor_sm_util_unsync_pct", u);
    double achieved = gvb_extra_num(r, "achieved_unsync_pct");
    if (isfinite(u) && isfinite(achieved))
        gvb_kv_set_num(&r->extras, "monitor_minus_achieved_pp", u - achieved);
    if (aligned) {
        gvb_kv_set_num(&r->extras, "monitor_sm_util_sync_pct",
                       monitor_mean(r, util, gvb_extra_num(r, "sync_start_s"),
                                    gvb_extra_num(r, "sync_end_s"), &aligned));
        gvb_kv_set_text(&r->extras, "monitor_cross_check",
                        "NVML per-process SM utilization of the tenant, mean over each loop's "
                        "interval");
    } else {
        gvb_kv_set_text(&r->extras, "monitor_cross_check",
                        "NVML per-process SM utilization of the tenant, mean over the samples "
                        "where it was busy (too few samples inside the loops' intervals)");
    }
}
const gvb_metric_impl gvb_impl_is_003 = {.run = is_003, .reduce = is_003_reduce, .monitor = 1,
                                         .deadline_s = 180, .child_main = gvb_isref_main};

/* ---- IS-004 SM Limit Response Time ----------------------------------------------------------- */

#define RESPONSE_WIN_S 0.01
#define RESPONSE_BAND 0.10
#define RESPONSE_MIN_TAIL 20 /* windows (200 ms) the share must stay in band to count as settled */
#define RESPONSE_POLL_S 0.05 /* how often the producer's complete windows are judged */
#define RESPONSE_EARLY_TAIL 100 /* windows (1 s) in band before the loop may end early */

/* Whether the share has settled by the last of nw windows: it has stayed within the band
 * around target for the last RESPONSE_MIN_TAIL windows or more; *k0 = the first window of
 * that final in-band run. */
static int response_settled(const double *sh, size_t nw, double target, size_t *k0)
{
    *k0 = gvb_settle_index(sh, nw, target, RESPONSE_BAND);
    return nw - *k0 >= RESPONSE_MIN_TAIL;
}

typedef struct settle_watch {
    double ref_s, target;
    size_t collected; /* kernels whose intervals are known */
    size_t nw;        /* windows judged settled when it ended the run; 0: it did not */
    cudaError_t err;
} settle_watch;

/* IS-004's poll: ends the producer once the complete windows so far have settled, so a
 * limiter that settles at once is not timed for the whole window. */
static int settle_poll(work *k, size_t done, void *arg)
{
    settle_watch *sw = arg;
    if ((sw->err = work_collect_range(k, sw->collected, done)))
        return 1;
    sw->collected = done;
    size_t nw, k0;
    double *sh = kernel_windows(k, done, sw->ref_s, RESPONSE_WIN_S, &nw);
    if (!sh) {
        sw->err = cudaErrorMemoryAllocation;
        return 1;
    }
    /* early end only after 1 s in band, so a limiter that passes through the band and
     * drifts or oscillates out again is still watched for the whole window */
    if (response_settled(sh, nw, sw->target, &k0) && nw - k0 >= RESPONSE_EARLY_TAIL)
        sw->nw = nw;
    free(sh);
    return sw->nw > 0;
}

static int is_004(gvb_worker *w)
{
    double target;
    reference ref;
    work k;
    if (limited_setup(w, 0, 0, &target, &ref, &k) != 0)
        return 1;
    settle_watch sw = {.ref_s = ref.kernel_s, .target = target};
    k.poll = settle_poll;
    k.poll_arg = &sw;
    k.poll_s = RESPONSE_POLL_S;
    /* t = 0 is the tenant's first launch: the limiter starts from its initial state. The
     * loop ends once settled, else after the whole window */
    GVB_CUDA_TRY(w, work_run(&k, IN_FLIGHT, w->quick ? 0.5 : 3.0, NULL, 1));
    GVB_CUDA_TRY(w, sw.err);
    GVB_CUDA_TRY(w, work_collect(&k));
    size_t nw;
    double *sh = work_windows(&k, ref.kernel_s, RESPONSE_WIN_S, &nw);
    work_free(&k);
    if (!sh || nw < RESPONSE_MIN_TAIL)
        return gvb_report_status(w, GVB_FAIL, "too few 10 ms windows observed (%zu)", nw);
    for (size_t i = 0; i < nw; i++)
        gvb_emit_series(w, "share_10ms_pct", sh[i]);
    double observed_ms = (double)nw * RESPONSE_WIN_S * 1e3;
    /* judged on the windows the poll saw settle (the kernels still queued then add a few) */
    if (sw.nw > 0)
        nw = sw.nw;
    size_t k0;
    int settled = response_settled(sh, nw, target, &k0);
    gvb_emit_extra(w, "ended_when_settled", sw.nw > 0);
    gvb_emit_sample(w, settled ? (double)(k0 + 1) * RESPONSE_WIN_S * 1e3 : observed_ms);
    gvb_emit_extra(w, "settled", settled);
    if (!settled)
        gvb_emit_text(w, "note", "the share never stayed within +-10 %% of the target for %d "
                                 "windows: the value is the observed time, a lower bound",
                      RESPONSE_MIN_TAIL);
    /* oscillation over the settled part, or the second half when it never settled */
    size_t from = settled ? k0 : nw / 2;
    gvb_emit_extra(w, "overshoot_pp", gvb_overshoot_pp(sh, nw, target));
    gvb_emit_extra(w, "oscillation_pp", gvb_oscillation_pp(sh + from, nw - from));
    double mean = 0;
    for (size_t i = from; i < nw; i++)
        mean += sh[i] / (double)(nw - from);
    gvb_emit_extra(w, "steady_mean_share_pct", mean);
    gvb_emit_extra(w, "target_pct", target);
    gvb_emit_extra(w, "window_ms", RESPONSE_WIN_S * 1e3);
    gvb_emit_extra(w, "observed_ms", observed_ms);
    gvb_emit_text(w, "kernel", "%d blocks of ~10 us (%s), unsynchronized: the response to "
                  "another kernel shape can differ (IS-003's shape.* series)",
                  BIG_BLOCKS, BIG_SHAPE_NAME);
    free(sh);
    return 0;
}
const gvb_metric_impl gvb_impl_is_004 = {.run = is_004, .deadline_s = 120,
                                         .child_main = gvb_isref_main};

/* ---- victim vs aggressors (IS-006, IS-007, IS-009) ------------------------------------------- */

/* The victim's requests: launch+sync of its kernel, issued at most every VICTIM_PERIOD_S
 * (a request that takes longer is followed at once). Warm-up, then samples until
 * --iterations and min_s (and --min-time) are reached, or max_s. One sample per request,
 * seconds. */
#define VICTIM_PERIOD_S 2e-3
static cudaError_t victim_loop(gvb_worker *w, work *k, int warmup, double min_s, double max_s,
                               gvb_series *out)
{
    double t0 = 0;
    for (int i = -warmup;; i++) {
        if (i == 0)
            t0 = gvb_now();
        if (i >= 0) {
            double el = gvb_now() - t0;
            if ((out->n >= (size_t)w->iterations && el >= fmax(min_s, w->min_time_s)) ||
                el >= max_s)
                break;
        }
        double s = gvb_now();
        cudaError_t e = (cudaError_t)gvb_launch_work(k->s, k->sink, k->blocks, k->iters);
        if (!e)
            e = cudaStreamSynchronize(k->s);
        if (e)
            return e;
        double dt = gvb_now() - s;
        if (i >= 0 && gvb_series_push(out, dt) != 0)
            return cudaErrorMemoryAllocation;
        if (dt < VICTIM_PERIOD_S)
            gvb_sleep_s(VICTIM_PERIOD_S - dt);
    }
    return cudaSuccess;
}

/* What the victim does in one phase (contended = 0: alone, 1: with the aggressors), its
 * samples appended to out. */
typedef cudaError_t (*victim_fn)(gvb_worker *w, work *k, int contended, gvb_series *out);

/* Request loop (IS-007, IS-009). Contended, it lasts at least 1 s per metric split over its
 * replicates, 0.4 s at least per process group (0.3 s with --quick), so that the samples span
 * many of the aggressors' time slices and a reactive limiter's ~120 ms cycles. Both phases
 * start with --warmup requests that are not samples: contended too, because the victim's
 * first requests after its idle 0.25 s are a transient, not contention (an A/A on the H200:
 * the first took 1.4 to 5.9 ms, the later ones 7.07 ms; those one or two requests set IS-007's
 * CV, 0.02 to 0.11 by replicate, against 0.0006 to 0.009 without the first 10). At most 10
 * there: the aggressors stop after 15 s, and a large --warmup under a throttling limiter
 * would leave the samples without them. */
#define VICTIM_CONTENDED_WARMUP_MAX 10
static cudaError_t victim_sync(gvb_worker *w, work *k, int contended, gvb_series *out)
{
    double min_s = contended ? (w->quick ? 0.3 : gvb_replicate_window_s(w, 1.0, 0.4)) : 0;
    int warmup = contended && w->warmup > VICTIM_CONTENDED_WARMUP_MAX ? VICTIM_CONTENDED_WARMUP_MAX
                                                                     : w->warmup;
    return victim_loop(w, k, warmup, min_s, w->quick ? 2.0 : 5.0, out);
}

/* Throughput job (IS-006): the aggressors' own saturating producer; one sample per 100 ms
 * window of work done, TFLOP/s. Per metric 1 s alone and 1.5 s contended, split over its
 * replicates; per process group at least 4 solo windows (its own solo median) and 0.5 s
 * contended (several of a reactive limiter's ~120 ms refills). */
#define VICTIM_WIN_S 0.1
static cudaError_t victim_throughput(gvb_worker *w, work *k, int contended, gvb_series *out)
{
    double dur = contended ? (w->quick ? 0.4 : gvb_replicate_window_s(w, 1.5, 0.5))
                           : (w->quick ? 0.3 : gvb_replicate_window_s(w, 1.0, 0.4));
    cudaError_t e = work_run(k, IN_FLIGHT, dur, NULL, 1);
    if (!e)
        e = work_collect(k);
    if (e)
        return e;
    size_t nw;
    double *sh = work_windows(k, kernel_tflop(k->blocks, k->iters), VICTIM_WIN_S, &nw);
    if (!sh)
        return cudaErrorMemoryAllocation;
    for (size_t i = 0; i < nw; i++)
        if (gvb_series_push(out, sh[i] / 100.0) != 0) /* TFLOP in the window / window */
            e = cudaErrorMemoryAllocation;
    free(sh);
    return e;
}

/* Tenant 0 (the victim) runs alone (solo phase; the aggressors wait at the phase barrier),
 * then while every other tenant saturates the GPU with BIG kernels until the victim is done. */
static int contention_run(gvb_worker *w, int blocks, int iters, victim_fn fn, gvb_series *solo,
                          gvb_series *cont)
{
    int victim = w->tenant == 0;
    work k;
    gvb_shared *sh = NULL;
    if (w->tenants < 2)
        return gvb_report_status(w, GVB_SKIP, "needs >= 2 tenants (--processes)");
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, victim ? work_init(&k, blocks, iters) : work_init(&k, BIG_BLOCKS, BIG_ITERS));
    if (victim && !(sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot create the tenants' shared page");
    gvb_barrier(w);
    if (!victim && !(sh = gvb_shared_open(w)))
        return gvb_report_status(w, GVB_FAIL, "cannot open the tenants' shared page");
    cudaError_t e = cudaSuccess;
    if (victim)
        e = fn(w, &k, 0, solo);
    if (e)
        gvb_shared_set_stop(sh); /* the aggressors must not wait for a victim that failed */
    GVB_CUDA_TRY(w, e);
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier lost");
    if (victim) {
        /* the aggressors lead: their queues fill and a reactive limiter (HAMi refills its
         * token bucket every ~120 ms, and blocks a fresh process after its first launch until
         * then) is past its start before the victim measures */
        gvb_sleep_s(w->quick ? 0.1 : 0.25);
        e = fn(w, &k, 1, cont);
        gvb_shared_set_stop(sh);
        GVB_CUDA_TRY(w, e);
    } else {
        /* until the victim is done; bounded in case it died */
        GVB_CUDA_TRY(w, work_run(&k, IN_FLIGHT, 15.0, sh, 0));
        /* evidence: what the aggressor really got (a throttled one is no aggressor) */
        gvb_emit_extra(w, "throughput_tflops", (double)k.launched *
                       kernel_tflop(k.blocks, k.iters) / (gvb_now() - k.host_t0));
    }
    gvb_emit_text(w, "role", "%s", victim ? "victim" : "aggressor");
    gvb_shared_close(sh, w);
    work_free(&k);
    return 0;
}

/* The victim's solo samples into a series, its contended ones as the primary samples, each
 * multiplied by scale (unit conversion); frees both. */
static void emit_victim(gvb_worker *w, const char *solo_series, double scale, gvb_series *solo,
                        gvb_series *cont)
{
    for (size_t i = 0; i < solo->n; i++)
        gvb_emit_series(w, solo_series, solo->v[i] * scale);
    for (size_t i = 0; i < cont->n; i++)
        gvb_emit_sample(w, cont->v[i] * scale);
    gvb_emit_extra(w, "aggressors", w->tenants - 1);
    gvb_series_free(solo);
    gvb_series_free(cont);
}

static uint64_t reduce_seed(const gvb_result *r)
{
    return gvb_seed_mix(gvb_seed_mix(GVB_DEFAULT_SEED, r->system), r->metric);
}

/* ---- IS-006 Cross-Tenant Compute Isolation --------------------------------------------------- */

static int is_006(gvb_worker *w)
{
    gvb_series solo = {0}, cont = {0};
    if (contention_run(w, BIG_BLOCKS, BIG_ITERS, victim_throughput, &solo, &cont) != 0)
        return 1;
    if (w->tenant != 0)
        return 0;
    gvb_emit_extra(w, "window_ms", VICTIM_WIN_S * 1e3);
    gvb_emit_text(w, "kernel", "victim and aggressors: %d blocks of ~10 us (%s), saturating; a "
                  "limiter's share depends on the shape (IS-003's shape.* series)",
                  BIG_BLOCKS, BIG_SHAPE_NAME);
    emit_victim(w, "solo_tflops", 1.0, &solo, &cont);
    return 0;
}

/* Samples: each contended 100 ms window's throughput as % of the solo median (their median
 * is the primary value); extras: both medians and the bootstrap CI of the ratio. */
static void is_006_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    const gvb_series *solo = gvb_tenant_series(r, 0, "solo_tflops", tenants);
    const gvb_series *cont = &per_tenant[0];
    if (!solo || solo->n < 2 || cont->n < 2)
        return;
    double sm = gvb_median(solo->v, solo->n);
    for (size_t i = 0; i < cont->n; i++)
        gvb_series_push(&r->samples, 100.0 * cont->v[i] / sm);
    gvb_kv_set_num(&r->extras, "solo_median_tflops", sm);
    gvb_kv_set_num(&r->extras, "contended_median_tflops", gvb_median(cont->v, cont->n));
    double ratio, lo, hi;
    if (gvb_bootstrap_ratio_ci(cont->v, cont->n, solo->v, solo->n, reduce_seed(r),
                               GVB_BOOTSTRAP_RESAMPLES, GVB_CI_LEVEL, &ratio, &lo, &hi) == 0) {
        gvb_kv_set_num(&r->extras, "ratio_ci95_lo_pct", 100 * lo);
        gvb_kv_set_num(&r->extras, "ratio_ci95_hi_pct", 100 * hi);
    }
    gvb_kv_set_num(&r->extras, "fair_share_pct", 100.0 / tenants);
}
const gvb_metric_impl gvb_impl_is_006 = {.run = is_006, .reduce = is_006_reduce, .deadline_s = 120};

/* ---- IS-007 QoS Consistency ------------------------------------------------------------------ */

static double cv_of(const gvb_series *t)
{
    gvb_stats st;
    return gvb_stats_compute(t->v, t->n, 1, &st) == 0 ? st.cv : NAN;
}

static int is_007(gvb_worker *w)
{
    gvb_series solo = {0}, cont = {0};
    if (contention_run(w, MEDIUM_BLOCKS, MEDIUM_ITERS, victim_sync, &solo, &cont) != 0)
        return 1;
    if (w->tenant != 0)
        return 0;
    if (cont.n < 2 || solo.n < 2)
        return gvb_report_status(w, GVB_FAIL, "too few victim requests (%zu solo, %zu contended)",
                                 solo.n, cont.n);
    gvb_emit_value(w, cv_of(&cont));
    gvb_emit_extra(w, "solo_cv", cv_of(&solo));
    gvb_emit_text(w, "samples_unit", "ms per victim iteration under contention; the primary "
                                     "value is their coefficient of variation");
    emit_victim(w, "solo_ms", 1e3, &solo, &cont);
    return 0;
}
const gvb_metric_impl gvb_impl_is_007 = {.run = is_007, .deadline_s = 120};

/* ---- IS-008 Fairness Index -------------------------------------------------------------------- */

#define FAIR_WIN_S 0.1

static int is_008(gvb_worker *w)
{
    if (w->tenants < 2)
        return gvb_report_status(w, GVB_SKIP, "needs >= 2 tenants (--processes)");
    work k;
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, work_init(&k, BIG_BLOCKS, BIG_ITERS));
    gvb_barrier(w);
    /* 1.5 s per metric split over its replicates, 0.6 s at least per process group: the
     * tenants start together, so each run also holds a reactive limiter's start */
    GVB_CUDA_TRY(w, work_run(&k, IN_FLIGHT, w->quick ? 0.4 : gvb_replicate_window_s(w, 1.5, 0.6),
                             NULL, 1));
    GVB_CUDA_TRY(w, work_collect(&k));
    double tf = kernel_tflop(BIG_BLOCKS, BIG_ITERS);
    size_t nw;
    /* work per window in TFLOP: windows of "share" with ref = the kernel's TFLOP */
    double *sh = work_windows(&k, tf, FAIR_WIN_S, &nw);
    for (size_t i = 0; sh && i < nw; i++)
        gvb_emit_sample(w, sh[i] / 100.0); /* TFLOP/s in window i */
    free(sh);
    if (k.n == 0)
        return gvb_report_status(w, GVB_FAIL, "no kernel completed");
    gvb_emit_extra(w, "throughput_tflops", (double)k.n * tf / k.end[k.n - 1]);
    work_free(&k);
    return 0;
}

/* Samples: Jain's index across tenants of each 100 ms window; primary: Jain's index of the
 * tenants' whole-run throughputs. */
static void is_008_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    size_t nw = SIZE_MAX;
    for (int i = 0; i < tenants; i++)
        nw = per_tenant[i].n < nw ? per_tenant[i].n : nw;
    double *x = calloc((size_t)tenants, sizeof *x);
    if (!x || nw == SIZE_MAX)
        goto out;
    for (size_t k = 0; k < nw; k++) {
        for (int i = 0; i < tenants; i++)
            x[i] = per_tenant[i].v[k];
        gvb_series_push(&r->samples, gvb_jain_index(x, (size_t)tenants));
    }
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < tenants; i++) {
        char key[64];
        snprintf(key, sizeof key, "t%d.throughput_tflops", i);
        x[i] = gvb_extra_num(r, key);
        if (!isfinite(x[i]))
            goto out;
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    r->value = gvb_jain_index(x, (size_t)tenants);
    r->has_value = isfinite(r->value);
    gvb_kv_set_num(&r->extras, "min_over_max_throughput", hi > 0 ? lo / hi : NAN);
out:
    free(x);
}
const gvb_metric_impl gvb_impl_is_008 = {.run = is_008, .reduce = is_008_reduce, .deadline_s = 120};

/* ---- IS-009 Noisy Neighbor Impact ------------------------------------------------------------- */

static int is_009(gvb_worker *w)
{
    gvb_series solo = {0}, cont = {0};
    if (contention_run(w, SMALL_BLOCKS, SMALL_ITERS, victim_sync, &solo, &cont) != 0)
        return 1;
    if (w->tenant != 0)
        return 0;
    emit_victim(w, "solo_us", 1e6, &solo, &cont);
    return 0;
}

static double p99_of(const double *v, size_t n)
{
    gvb_stats st;
    return gvb_stats_compute(v, n, 1, &st) == 0 ? st.p99 : NAN;
}

/* Samples: each contended launch+sync as % slowdown over the solo median (their median is
 * the primary); extra: the same on p99. */
static void is_009_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    const gvb_series *solo = gvb_tenant_series(r, 0, "solo_us", tenants);
    const gvb_series *cont = &per_tenant[0];
    if (!solo || solo->n < 2 || cont->n < 2)
        return;
    double sm = gvb_median(solo->v, solo->n);
    for (size_t i = 0; i < cont->n; i++)
        gvb_series_push(&r->samples, gvb_pct_change(sm, cont->v[i]));
    gvb_kv_set_num(&r->extras, "solo_median_us", sm);
    gvb_kv_set_num(&r->extras, "contended_median_us", gvb_median(cont->v, cont->n));
    double sp = p99_of(solo->v, solo->n), cp = p99_of(cont->v, cont->n);
    gvb_kv_set_num(&r->extras, "solo_p99_us", sp);
    gvb_kv_set_num(&r->extras, "contended_p99_us", cp);
    gvb_kv_set_num(&r->extras, "p99_slowdown_pct", gvb_pct_change(sp, cp));
}
const gvb_metric_impl gvb_impl_is_009 = {.run = is_009, .reduce = is_009_reduce, .deadline_s = 120};
