/* Scheduling metrics (SCHED-xxx): hand-over gaps between tenants on the GPU's own timeline,
 * launch latency next to other launching tenants, concurrency of streams that each fill a
 * share of the SMs, and how long a high-priority kernel waits behind a long low-priority
 * one. Methods in docs/metrics/scheduling.md. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "metrics/contend.h"
#include "stats/bwformulas.h"
#include "stats/stats.h"

/* ---- SCHED-001 Context Switch Latency -------------------------------------------------- */

#define BEACON_CHUNKS 16       /* progress timestamps per kernel (after each chunk) */
#define BEACON_ITERS 512       /* FMAs per chunk: about a microsecond */
#define BEACON_MAX_KERNELS 20000
#define BEACON_GROUP 256       /* launches between checks of how far the GPU is behind */
#define BEACON_AHEAD 3         /* groups allowed in flight, so the queue never runs dry */
#define BEACON_SPLIT_MIN_NS 2000.0
#define GT_BASE_SHIFT 36       /* timestamps travel as offsets from a multiple of 2^36 ns */

/* Median of the gaps between consecutive timestamps: within kernels (chunk to chunk) and
 * across kernels (last chunk to the next kernel's start). */
static void beacon_spacing(const uint64_t *t, int kernels, double *chunk_ns, double *kernel_ns,
                           double *step_ns)
{
    const int per = BEACON_CHUNKS + 1;
    double *in = malloc((size_t)kernels * BEACON_CHUNKS * sizeof *in);
    double *across = malloc((size_t)(kernels > 1 ? kernels - 1 : 1) * sizeof *across);
    size_t ni = 0, na = 0;
    uint64_t step = UINT64_MAX;
    *chunk_ns = *kernel_ns = *step_ns = NAN;
    if (in && across) {
        for (int k = 0; k < kernels; k++) {
            for (int j = 0; j < BEACON_CHUNKS; j++)
                in[ni++] = (double)(t[k * per + j + 1] - t[k * per + j]);
            if (k + 1 < kernels)
                across[na++] = (double)(t[(k + 1) * per] - t[k * per + BEACON_CHUNKS]);
        }
        for (size_t i = 1; i < (size_t)kernels * per; i++)
            if (t[i] > t[i - 1] && t[i] - t[i - 1] < step)
                step = t[i] - t[i - 1];
        *chunk_ns = gvb_median(in, ni);
        *kernel_ns = gvb_median(across, na);
        *step_ns = step == UINT64_MAX ? NAN : (double)step;
    }
    free(in);
    free(across);
}

/* Both tenants launch one-warp kernels back to back for a window (gvb_window_share_s: the
 * hand-overs pool over the replicates); each kernel timestamps its
 * start and the end of each of its chunks with %globaltimer. A tenant turns its timestamps
 * into busy periods (a gap larger than 4x the usual spacing ends one) and sends them as
 * primary samples (start, end pairs, ns from gt_base_ns); the parent finds the hand-overs. */
static int sched_001(gvb_worker *w)
{
    gvb_dev d;
    if (gvb_dev_open(w, &d))
        return 1;
    const int per = BEACON_CHUNKS + 1;
    size_t n_max = (size_t)BEACON_MAX_KERNELS * per;
    unsigned long long *trace = NULL;
    float *sink = NULL;
    cudaEvent_t ev[BEACON_AHEAD + 1];
    GVB_CUDA_TRY(w, cudaMalloc((void **)&trace, n_max * sizeof *trace));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&sink, sizeof *sink));
    for (int i = 0; i <= BEACON_AHEAD; i++)
        GVB_CUDA_TRY(w, cudaEventCreateWithFlags(&ev[i], cudaEventDisableTiming));
    GVB_CUDA_RC(w, gvb_launch_beacon(trace, BEACON_CHUNKS, BEACON_ITERS, sink, d.stream),
                "beacon kernel");
    GVB_CUDA_TRY(w, cudaStreamSynchronize(d.stream));
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");

    double start = gvb_now(), window = gvb_window_share_s(w);
    int k = 0;
    for (; k < BEACON_MAX_KERNELS && gvb_now() - start < window; k++) {
        GVB_CUDA_RC(w, gvb_launch_beacon(trace + (size_t)k * per, BEACON_CHUNKS, BEACON_ITERS,
                                         sink, d.stream), "beacon kernel");
        if ((k + 1) % BEACON_GROUP == 0) {
            int g = (k + 1) / BEACON_GROUP;
            GVB_CUDA_TRY(w, cudaEventRecord(ev[g % (BEACON_AHEAD + 1)], d.stream));
            if (g >= BEACON_AHEAD)
                GVB_CUDA_TRY(w, cudaEventSynchronize(ev[(g - BEACON_AHEAD) % (BEACON_AHEAD + 1)]));
        }
    }
    GVB_CUDA_TRY(w, cudaStreamSynchronize(d.stream));
    size_t n = (size_t)k * per;
    uint64_t *t = malloc(n * sizeof *t);
    double *starts = malloc(n * sizeof *starts), *ends = malloc(n * sizeof *ends);
    if (!t || !starts || !ends)
        return gvb_report_status(w, GVB_FAIL, "out of host memory");
    GVB_CUDA_TRY(w, cudaMemcpy(t, trace, n * sizeof *t, cudaMemcpyDeviceToHost));

    double chunk_ns, kernel_ns, step_ns;
    beacon_spacing(t, k, &chunk_ns, &kernel_ns, &step_ns);
    double split = 4 * fmax(chunk_ns, kernel_ns);
    if (!(split > BEACON_SPLIT_MIN_NS))
        split = BEACON_SPLIT_MIN_NS;
    uint64_t base = (t[0] >> GT_BASE_SHIFT) << GT_BASE_SHIFT;
    for (size_t i = 0; i < n; i++)
        t[i] -= base;
    size_t periods = gvb_busy_periods(t, n, (uint64_t)split, starts, ends, n);
    for (size_t i = 0; i < periods; i++) {
        gvb_emit_sample(w, starts[i]);
        gvb_emit_sample(w, ends[i]);
    }
    gvb_emit_extra(w, "gt_base_ns", (double)base);
    gvb_emit_extra(w, "kernels", k);
    gvb_emit_extra(w, "busy_periods", (double)periods);
    gvb_emit_extra(w, "chunk_ns", chunk_ns);
    gvb_emit_extra(w, "kernel_gap_ns", kernel_ns);
    gvb_emit_extra(w, "split_ns", split);
    gvb_emit_extra(w, "min_beacon_gap_ns", step_ns);
    free(t);
    free(starts);
    free(ends);
    cudaFree(trace);
    cudaFree(sink);
    for (int i = 0; i <= BEACON_AHEAD; i++)
        cudaEventDestroy(ev[i]);
    gvb_dev_close(&d);
    return 0;
}

/* Merges the tenants' busy periods on the one device-wide timeline; the samples are the
 * hand-over gaps (us). Tenants that only ever ran side by side had no context switch: SKIP
 * with the reason (a 0 would read as a switch that costs nothing). */
static void sched_001_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    size_t n = 0;
    double base_min = INFINITY, base[64];
    if (tenants > 64)
        return;
    for (int i = 0; i < tenants; i++) {
        if (per_tenant[i].n % 2 || gvb_tenant_extra(r, i, "gt_base_ns", &base[i]) != 0)
            return; /* a tenant did not finish */
        base_min = fmin(base_min, base[i]);
        n += per_tenant[i].n / 2;
    }
    gvb_period *p = malloc((n ? n : 1) * sizeof *p);
    double *gaps = malloc((n ? n : 1) * sizeof *gaps);
    if (!p || !gaps) {
        free(p);
        free(gaps);
        return;
    }
    size_t m = 0;
    for (int i = 0; i < tenants; i++)
        for (size_t j = 0; j + 1 < per_tenant[i].n; j += 2) {
            double off = base[i] - base_min; /* exact: multiples of 2^36 */
            p[m++] = (gvb_period){off + per_tenant[i].v[j], off + per_tenant[i].v[j + 1], i};
        }
    size_t concurrent = 0;
    size_t k = gvb_handover_gaps(p, m, tenants, gaps, m, &concurrent);
    for (size_t j = 0; j < k && j < m; j++)
        gvb_series_push(&r->samples, gaps[j] / 1e3);
    gvb_kv_set_num(&r->extras, "handovers", (double)k);
    gvb_kv_set_num(&r->extras, "concurrent_transitions", (double)concurrent);
    if (k == 0 && concurrent > 0) {
        r->status = GVB_SKIP;
        snprintf(r->reason, sizeof r->reason,
                 "no context switch to time: the tenants' kernels ran side by side (they "
                 "overlapped %zu times and never handed over)", concurrent);
        gvb_kv_set_text(&r->extras, "observed", "%s", r->reason);
    } else if (k > 0) {
        gvb_kv_set_text(&r->extras, "observed", "hand-overs between the tenants' time slices");
    }
    free(p);
    free(gaps);
}
const gvb_metric_impl gvb_impl_sched_001 = {.run = sched_001, .reduce = sched_001_reduce,
                                            .deadline_s = 120};

/* ---- SCHED-002 Kernel Launch Overhead -------------------------------------------------- */

typedef struct empty_ctx {
    cudaStream_t stream;
    cudaError_t err;
} empty_ctx;

static int empty_body(void *arg, double *sample_s)
{
    empty_ctx *c = arg;
    (void)sample_s;
    int e = gvb_launch_empty(c->stream);
    if (e == 0)
        e = (int)cudaStreamSynchronize(c->stream);
    c->err = (cudaError_t)e;
    return e != 0;
}

static int empty_failed(gvb_worker *w, const empty_ctx *c)
{
    return gvb_report_status(w, GVB_FAIL, "empty kernel: %s", cudaGetErrorString(c->err));
}

/* The victim: its launch+sync alone (phase 0), then next to the other tenants' loops, which
 * run from before it measures until it is done (phase 1); its samples are its contended
 * times (us). Returns 0, or 1 once reported. */
static int sched_002_victim(gvb_worker *w, empty_ctx *c, gvb_shared *sh)
{
    gvb_series solo = {0}, cont = {0};
    int rc = 0;
    if (gvb_run_warmup(w, empty_body, c) ||
        gvb_run_window(gvb_window_s(w), w->iterations, empty_body, c, &solo))
        rc = empty_failed(w, c);
    else if (gvb_sync(w))
        rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
    else if (gvb_contend_await(w, sh, 1))
        rc = 1;
    else if (gvb_run_window(gvb_window_s(w), w->iterations, empty_body, c, &cont))
        rc = empty_failed(w, c);
    gvb_shared_stop_phase(sh, 1);
    if (rc == 0) {
        for (size_t i = 0; i < cont.n; i++)
            gvb_emit_sample(w, cont.v[i] * 1e6);
        double s = gvb_series_median(&solo) * 1e6, x = gvb_series_median(&cont) * 1e6;
        gvb_emit_extra(w, "solo_us", s);
        gvb_emit_extra(w, "contended_over_solo", x / s);
        gvb_emit_extra(w, "other_tenants", w->tenants - 1);
    }
    gvb_series_free(&solo);
    gvb_series_free(&cont);
    return rc;
}

/* The other tenants: wait out the victim's solo phase, then launch+sync until it is done. */
static int sched_002_other(gvb_worker *w, empty_ctx *c, gvb_shared *sh)
{
    gvb_series t = {0};
    int rc = 0;
    if (gvb_sync(w))
        rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
    else if (gvb_run_until(gvb_until_victim(w, sh, 1), empty_body, c, &t))
        rc = empty_failed(w, c);
    else
        gvb_emit_extra(w, "launches", (double)t.n);
    gvb_series_free(&t);
    return rc;
}

static int sched_002(gvb_worker *w)
{
    gvb_dev d;
    gvb_shared *sh = NULL;
    if (gvb_dev_open(w, &d))
        return 1;
    empty_ctx c = {.stream = d.stream};
    if (empty_body(&c, NULL)) /* module load */
        return empty_failed(w, &c);
    if (gvb_contend_barrier(w, &sh))
        return 1;
    int rc = w->tenant == 0 ? sched_002_victim(w, &c, sh) : sched_002_other(w, &c, sh);
    gvb_contend_close(sh, w);
    gvb_dev_close(&d);
    return rc;
}
const gvb_metric_impl gvb_impl_sched_002 = {.run = sched_002, .deadline_s = 120};

/* ---- SCHED-003 Stream Concurrency Efficiency ------------------------------------------- */

#define CONC_STREAMS 4
#define CONC_ITERS 200000 /* FMAs per thread: about half a millisecond per kernel */

typedef struct conc_ctx {
    cudaStream_t s[CONC_STREAMS];
    cudaEvent_t e0, e1, e2, e3, joined[CONC_STREAMS];
    int blocks;
    size_t smem;
    float *sink;
    double serial_ms, concurrent_ms;
    cudaError_t err;
} conc_ctx;

/* One sample: CONC_STREAMS kernels one after another on one stream, then the same kernels
 * on CONC_STREAMS streams at once; both timed with events. Sample = efficiency %. */
static int conc_pair(conc_ctx *c, double *eff)
{
    int e = (int)cudaEventRecord(c->e0, c->s[0]);
    for (int i = 0; e == 0 && i < CONC_STREAMS; i++)
        e = gvb_launch_sm_work(c->blocks, CONC_ITERS, c->smem, c->sink, c->s[0]);
    if (e == 0)
        e = (int)cudaEventRecord(c->e1, c->s[0]);
    if (e == 0)
        e = (int)cudaEventRecord(c->e2, c->s[0]);
    for (int i = 0; e == 0 && i < CONC_STREAMS; i++) {
        if (i > 0)
            e = (int)cudaStreamWaitEvent(c->s[i], c->e2, 0);
        if (e == 0)
            e = gvb_launch_sm_work(c->blocks, CONC_ITERS, c->smem, c->sink, c->s[i]);
        if (e == 0 && i > 0)
            e = (int)cudaEventRecord(c->joined[i], c->s[i]);
        if (e == 0 && i > 0)
            e = (int)cudaStreamWaitEvent(c->s[0], c->joined[i], 0);
    }
    if (e == 0)
        e = (int)cudaEventRecord(c->e3, c->s[0]);
    if (e == 0)
        e = (int)cudaEventSynchronize(c->e3);
    float ts = 0, tc = 0;
    if (e == 0)
        e = (int)cudaEventElapsedTime(&ts, c->e0, c->e1);
    if (e == 0)
        e = (int)cudaEventElapsedTime(&tc, c->e2, c->e3);
    c->err = (cudaError_t)e;
    c->serial_ms = ts;
    c->concurrent_ms = tc;
    *eff = gvb_concurrency_efficiency_pct(ts, tc, CONC_STREAMS);
    return e != 0;
}

static int sched_003(gvb_worker *w)
{
    gvb_dev d;
    if (gvb_dev_open(w, &d))
        return 1;
    conc_ctx c;
    memset(&c, 0, sizeof c);
    /* more than half an SM's shared memory: one block per SM, so a kernel of sms/K blocks
     * takes exactly 1/K of the SMs */
    c.smem = d.smem_per_sm / 2 + 1024;
    if (c.smem > d.smem_per_block_optin)
        c.smem = d.smem_per_block_optin;
    int per_sm = 0;
    GVB_CUDA_RC(w, gvb_sm_work_prepare(c.smem, &per_sm), "work kernel shared memory");
    c.blocks = d.sms / CONC_STREAMS > 0 ? d.sms / CONC_STREAMS : 1;
    c.s[0] = d.stream;
    for (int i = 1; i < CONC_STREAMS; i++)
        GVB_CUDA_TRY(w, cudaStreamCreateWithFlags(&c.s[i], cudaStreamNonBlocking));
    cudaEvent_t *evs[] = {&c.e0, &c.e1, &c.e2, &c.e3};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        GVB_CUDA_TRY(w, cudaEventCreate(evs[i]));
    for (int i = 0; i < CONC_STREAMS; i++)
        GVB_CUDA_TRY(w, cudaEventCreateWithFlags(&c.joined[i], cudaEventDisableTiming));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&c.sink, sizeof *c.sink));
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");
    gvb_series ts = {0}, tc = {0};
    double eff, start = gvb_now();
    for (int i = -(w->warmup > 0 ? w->warmup : 0); i < w->iterations; i++) {
        if (conc_pair(&c, &eff))
            return gvb_report_status(w, GVB_FAIL, "work kernels: %s", cudaGetErrorString(c.err));
        if (i < 0)
            continue;
        gvb_emit_sample(w, eff);
        gvb_series_push(&ts, c.serial_ms);
        gvb_series_push(&tc, c.concurrent_ms);
        if (gvb_now() - start >= gvb_window_s(w))
            break;
    }
    gvb_emit_extra(w, "streams", CONC_STREAMS);
    gvb_emit_extra(w, "blocks_per_kernel", c.blocks);
    gvb_emit_extra(w, "sms", d.sms);
    gvb_emit_extra(w, "blocks_per_sm", per_sm);
    gvb_emit_extra(w, "serial_ms", gvb_series_median(&ts));
    gvb_emit_extra(w, "concurrent_ms", gvb_series_median(&tc));
    gvb_emit_extra(w, "speedup", gvb_series_median(&ts) / gvb_series_median(&tc));
    if (per_sm != 1)
        gvb_emit_text(w, "note", "%d blocks of the work kernel fit on one SM (1 intended)", per_sm);
    gvb_series_free(&ts);
    gvb_series_free(&tc);
    cudaFree(c.sink);
    gvb_dev_close(&d);
    return 0;
}
const gvb_metric_impl gvb_impl_sched_003 = {.run = sched_003, .deadline_s = 120};

/* ---- SCHED-004 Preemption Latency ------------------------------------------------------ */

#define LONG_ITERS 100000     /* FMAs per thread of a long-kernel block: about 1 ms */
#define LONG_TARGET_MS 40.0   /* how long one long kernel keeps the GPU */
#define PROBE_ITERS 256       /* the short kernel: one warp, about a microsecond of work */
#define LONG_START_TIMEOUT_S 2.0

typedef struct preempt_ctx {
    cudaStream_t lo, hi;
    cudaEvent_t a, b, long_done;
    volatile int *flag; /* host-mapped: raised by the long kernel's first block */
    int *flag_dev;
    unsigned long long *probe_trace;
    float *sink;
    int wave, waves;
} preempt_ctx;

/* cudaEventQuery: 1 = done, 0 = still running, -1 = error (in *e). */
static int event_done(cudaEvent_t ev, cudaError_t *e)
{
    cudaError_t q = cudaEventQuery(ev);
    if (q == cudaErrorNotReady) {
        cudaGetLastError(); /* not an error: make sure it does not linger */
        return 0;
    }
    *e = q;
    return q == cudaSuccess ? 1 : -1;
}

/* One probe on the high-priority stream: event, short kernel, event; its latency (ms) is
 * the GPU-side time from the first event to the second. */
static cudaError_t probe(preempt_ctx *c, int slot, float *ms)
{
    cudaError_t e = cudaEventRecord(c->a, c->hi);
    if (e == cudaSuccess)
        e = (cudaError_t)gvb_launch_beacon(c->probe_trace + 2 * (size_t)slot, 1, PROBE_ITERS,
                                           c->sink, c->hi);
    if (e == cudaSuccess)
        e = cudaEventRecord(c->b, c->hi);
    if (e == cudaSuccess)
        e = cudaEventSynchronize(c->b);
    if (e == cudaSuccess)
        e = cudaEventElapsedTime(ms, c->a, c->b);
    return e;
}

static int sched_004(gvb_worker *w)
{
    gvb_dev d;
    if (gvb_dev_open(w, &d))
        return 1;
    preempt_ctx c;
    memset(&c, 0, sizeof c);
    int least = 0, greatest = 0;
    GVB_CUDA_TRY(w, cudaDeviceGetStreamPriorityRange(&least, &greatest));
    if (least == greatest)
        return gvb_report_status(w, GVB_SKIP, "the device has a single stream priority");
    GVB_CUDA_TRY(w, cudaStreamCreateWithPriority(&c.lo, cudaStreamNonBlocking, least));
    GVB_CUDA_TRY(w, cudaStreamCreateWithPriority(&c.hi, cudaStreamNonBlocking, greatest));
    GVB_CUDA_TRY(w, cudaEventCreate(&c.a));
    GVB_CUDA_TRY(w, cudaEventCreate(&c.b));
    GVB_CUDA_TRY(w, cudaEventCreate(&c.long_done));
    GVB_CUDA_TRY(w, cudaHostAlloc((void **)&c.flag, sizeof *c.flag, cudaHostAllocMapped));
    GVB_CUDA_TRY(w, cudaHostGetDevicePointer((void **)&c.flag_dev, (void *)c.flag, 0));
    int max_probes = w->iterations + 64;
    GVB_CUDA_TRY(w, cudaMalloc((void **)&c.probe_trace, 2 * (size_t)max_probes * sizeof(unsigned long long)));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&c.sink, sizeof *c.sink));
    GVB_CUDA_RC(w, gvb_long_kernel_wave(d.sms, &c.wave), "long kernel occupancy");

    /* one wave alone: the duration of one long-kernel block */
    float block_ms = 0, ms = 0;
    GVB_CUDA_RC(w, gvb_launch_long(c.wave, LONG_ITERS, c.flag_dev, c.sink, c.lo), "long kernel");
    GVB_CUDA_TRY(w, cudaStreamSynchronize(c.lo));
    GVB_CUDA_TRY(w, cudaEventRecord(c.a, c.lo));
    GVB_CUDA_RC(w, gvb_launch_long(c.wave, LONG_ITERS, c.flag_dev, c.sink, c.lo), "long kernel");
    GVB_CUDA_TRY(w, cudaEventRecord(c.b, c.lo));
    GVB_CUDA_TRY(w, cudaEventSynchronize(c.b));
    GVB_CUDA_TRY(w, cudaEventElapsedTime(&block_ms, c.a, c.b));
    c.waves = (int)ceil(LONG_TARGET_MS / (block_ms > 0.01f ? block_ms : 0.01f));
    c.waves = c.waves < 2 ? 2 : c.waves > 1000 ? 1000 : c.waves;
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");

    /* the probe on an idle GPU */
    gvb_series idle = {0}, lat = {0};
    for (int i = 0; i < 10; i++) {
        GVB_CUDA_TRY(w, probe(&c, 0, &ms));
        gvb_series_push(&idle, ms);
    }
    int discarded = 0, n = 0;
    double start = gvb_now();
    cudaError_t e = cudaSuccess;
    while (n < w->iterations && gvb_now() - start < 2 * gvb_window_s(w)) {
        *c.flag = 0;
        GVB_CUDA_RC(w, gvb_launch_long(c.wave * c.waves, LONG_ITERS, c.flag_dev, c.sink, c.lo),
                    "long kernel");
        GVB_CUDA_TRY(w, cudaEventRecord(c.long_done, c.lo));
        double t0 = gvb_now();
        while (!*c.flag)
            if (gvb_now() - t0 > LONG_START_TIMEOUT_S)
                return gvb_report_status(w, GVB_FAIL, "the long kernel did not start within "
                                         "%.0f s", LONG_START_TIMEOUT_S);
        int done;
        while (n < w->iterations && (done = event_done(c.long_done, &e)) == 0) {
            GVB_CUDA_TRY(w, probe(&c, n, &ms));
            done = event_done(c.long_done, &e);
            if (done < 0)
                break;
            if (done) {
                discarded++; /* the long kernel ended first: not a probe behind it */
                break;
            }
            gvb_series_push(&lat, ms);
            gvb_emit_sample(w, ms);
            n++;
        }
        if (e != cudaSuccess)
            GVB_CUDA_TRY(w, e);
        GVB_CUDA_TRY(w, cudaEventSynchronize(c.long_done));
    }
    if (n == 0)
        return gvb_report_status(w, GVB_FAIL, "no probe ran while the long kernel did");
    unsigned long long *tr = malloc(2 * (size_t)n * sizeof *tr);
    gvb_series exec = {0};
    if (tr && cudaMemcpy(tr, c.probe_trace, 2 * (size_t)n * sizeof *tr,
                         cudaMemcpyDeviceToHost) == cudaSuccess)
        for (int i = 0; i < n; i++)
            gvb_series_push(&exec, (double)(tr[2 * i + 1] - tr[2 * i]) / 1e3);
    free(tr);
    gvb_emit_extra(w, "idle_probe_ms", gvb_series_median(&idle));
    gvb_emit_extra(w, "probe_exec_us", gvb_series_median(&exec));
    gvb_emit_extra(w, "long_block_ms", block_ms);
    gvb_emit_extra(w, "long_blocks_per_wave", c.wave);
    gvb_emit_extra(w, "long_waves", c.waves);
    gvb_emit_extra(w, "probes_discarded", discarded);
    gvb_emit_extra(w, "priority_high", greatest);
    gvb_emit_extra(w, "priority_low", least);
    gvb_series_free(&idle);
    gvb_series_free(&lat);
    gvb_series_free(&exec);
    cudaFree(c.probe_trace);
    cudaFree(c.sink);
    cudaFreeHost((void *)c.flag);
    gvb_dev_close(&d);
    return 0;
}
const gvb_metric_impl gvb_impl_sched_004 = {.run = sched_004, .deadline_s = 120};
