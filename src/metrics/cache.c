/* L2 cache metrics (CACHE-xxx): how much of a victim's L2-resident working set survives a
 * neighbour. Hit rates come from a latency proxy (pointer chains calibrated per run between
 * an all-hit and an all-miss latency), not from hardware counters; every result says so in
 * its `method` extra. Working sets are sized from the device's L2 size. Methods in
 * docs/metrics/cache.md. */
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

#define LINE_BYTES 128
#define CHASE_CHAINS 256   /* independent chains, one thread each (fewer on a small L2) */
#define CHASE_LOADS 256    /* dependent loads per timed chunk */
#define CHASE_CHUNKS 16    /* chunks per launch (one sample = one launch) */
#define CHASE_TINY_DIV 64  /* all-hit calibration set: L2 / 64 */
#define CHASE_FIT_DIV 4    /* the victim's set: L2 / 4 (fits either half of a split L2) */
#define FLUSH_MUL 8        /* L2 flush: read up to 8 x L2 of other data ... */
#define FLUSH_MIN 2        /* ... and at least 2 x L2 */
#define MISS_CAL_FLUSHES 3 /* cold chunks behind a flush for the all-miss latency */
/* A chunk more than this many times slower than an all-miss chunk was not running the whole
 * time (its context was switched out): it says nothing about the cache and is left out. */
#define CHASE_DESCHEDULED 5.0

static const char CACHE_METHOD[] =
    "latency proxy (no hardware counters): 256 pointer chains of dependent ld.global.cg loads "
    "over the victim's L2/4 set; hit fraction = (miss - lat) / (miss - hit), calibrated alone "
    "in this run: hit = chains over an L2/64 set, miss = the victim's own set just after "
    "flushing L2";

/* ---- pointer chains ------------------------------------------------------------------ */

typedef struct chase_set {
    uint32_t *lines; /* device: word 0 of each 128-byte line = the next line */
    uint64_t n_lines;
    uint32_t *pos;   /* device: each chain's position */
    int chains;
    unsigned long long *ns_dev, *ns_host; /* chains x chunks chunk durations */
    int chunks;
    double chunk_lat[CHASE_CHUNKS]; /* the last launch's ns per load of each chunk */
    double desched_ns; /* per-load latency above which a chunk is left out (INFINITY: none) */
    int descheduled;   /* chunks left out so far */
    cudaStream_t stream;
    cudaError_t err;
    double lat; /* the last launch's mean ns per load over the chunks kept */
} chase_set;

/* Lines of `bytes` (a power of two) in one scattered cycle; chains start evenly spaced
 * along it, so each chain walks its own stretch and a line comes back every n/chains loads. */
static int chase_build(gvb_worker *w, chase_set *s, size_t bytes, int chains, gvb_rng *rng,
                       cudaStream_t st)
{
    memset(s, 0, sizeof *s);
    s->stream = st;
    s->chains = chains;
    s->n_lines = bytes / LINE_BYTES;
    s->chunks = CHASE_CHUNKS;
    s->desched_ns = INFINITY;
    uint64_t n = s->n_lines, mask = n - 1;
    if (n < (uint64_t)chains || (n & mask))
        return gvb_report_status(w, GVB_FAIL, "chain set of %zu bytes: not a power of two >= %d "
                                 "lines", bytes, chains);
    uint64_t a = ((gvb_rng_next(rng) << 2) | 1) & mask, c = (gvb_rng_next(rng) | 1) & mask;
    if (a == 1)
        a = 5 & mask; /* a = 1 would be a constant stride */
    GVB_CUDA_TRY(w, cudaMalloc((void **)&s->lines, bytes));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&s->pos, CHASE_CHAINS * sizeof *s->pos));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&s->ns_dev,
                               (size_t)CHASE_CHAINS * CHASE_CHUNKS * sizeof *s->ns_dev));
    s->ns_host = malloc((size_t)CHASE_CHAINS * CHASE_CHUNKS * sizeof *s->ns_host);
    uint32_t start[CHASE_CHAINS];
    if (!s->ns_host)
        return gvb_report_status(w, GVB_FAIL, "out of host memory");
    GVB_CUDA_RC(w, gvb_launch_chain_build(s->lines, n, a, c, st), "chain build kernel");
    uint64_t x = 0, spacing = n / (uint64_t)chains;
    for (uint64_t k = 0; k < n; k++) {
        if (k % spacing == 0 && k / spacing < (uint64_t)chains)
            start[k / spacing] = (uint32_t)x;
        x = (a * x + c) & mask;
    }
    GVB_CUDA_TRY(w, cudaMemcpyAsync(s->pos, start, (size_t)chains * sizeof *start,
                                    cudaMemcpyHostToDevice, st));
    GVB_CUDA_TRY(w, cudaStreamSynchronize(st));
    return 0;
}

static void chase_free(chase_set *s)
{
    cudaFree(s->lines);
    cudaFree(s->pos);
    cudaFree(s->ns_dev);
    free(s->ns_host);
    memset(s, 0, sizeof *s);
}

/* One launch: s->chunks chunks of CHASE_LOADS loads on every chain. Its sample is the mean
 * ns per load over the chunks kept (all chains' time in a chunk / all their loads). */
static int chase_body(void *arg, double *sample_s)
{
    chase_set *s = arg;
    (void)sample_s;
    int e = gvb_launch_chase(s->lines, s->pos, s->chains, s->chunks, CHASE_LOADS, s->ns_dev,
                             s->stream);
    if (e == 0)
        e = (int)cudaMemcpyAsync(s->ns_host, s->ns_dev,
                                 (size_t)s->chains * s->chunks * sizeof *s->ns_host,
                                 cudaMemcpyDeviceToHost, s->stream);
    if (e == 0)
        e = (int)cudaStreamSynchronize(s->stream);
    s->err = (cudaError_t)e;
    if (e)
        return 1;
    double kept = 0;
    int n_kept = 0;
    for (int c = 0; c < s->chunks; c++) {
        double sum = 0;
        for (int b = 0; b < s->chains; b++)
            sum += (double)s->ns_host[(size_t)b * s->chunks + c];
        double lat = sum / ((double)s->chains * CHASE_LOADS);
        s->chunk_lat[c] = lat;
        if (lat > s->desched_ns) {
            s->descheduled++;
            continue;
        }
        kept += lat;
        n_kept++;
    }
    s->lat = n_kept ? kept / n_kept : NAN;
    return 0;
}

/* Runs chase launches for a window (at most max_calls) and collects each launch's latency
 * (launches whose every chunk was left out give none). */
static int chase_window(chase_set *s, double window_s, int max_calls, gvb_series *lat)
{
    double start = gvb_now();
    for (int i = 0; max_calls <= 0 || i < max_calls; i++) {
        if (chase_body(s, NULL))
            return 1;
        if (isfinite(s->lat) && gvb_series_push(lat, s->lat))
            return 1;
        if (gvb_now() - start >= window_s)
            break;
    }
    return 0;
}

static int chase_failed(gvb_worker *w, const chase_set *s, const char *what)
{
    return gvb_report_status(w, GVB_FAIL, "pointer chase (%s): %s", what,
                             s->err ? cudaGetErrorString(s->err) : "out of host memory");
}

/* Reads a set once through L2 so that it is resident. */
static int warm_set(const void *p, size_t bytes, int sms, int *sink, cudaStream_t st)
{
    int blocks = 0, e = gvb_read16_grid(sms, &blocks);
    if (e == 0)
        e = gvb_launch_read16(p, bytes, 2, blocks, sink, st);
    if (e == 0)
        e = (int)cudaStreamSynchronize(st);
    return e;
}

/* ---- CACHE-001 / 002 / 004: the chase study -------------------------------------------- */

typedef enum { CACHE_HIT_RATE, CACHE_EVICTION, CACHE_LATENCY } cache_view;

typedef struct chase_study {
    double lat_hit, lat_miss, lat_solo; /* ns per load */
    gvb_series solo, cont;             /* per launch ns per load: fit set alone, contended */
    int descheduled;
} chase_study;

/* Victim (tenant 0): builds its sets, calibrates alone, measures its L2-sized set alone
 * (phase 0) and next to a streaming aggressor (phase 1); *sh: the tenants' shared page. */
static int chase_victim(gvb_worker *w, const gvb_dev *d, gvb_shared **sh, chase_study *st)
{
    gvb_rng rng;
    gvb_rng_seed(&rng, w->seed);
    size_t l2 = d->l2_bytes;
    size_t tiny = (size_t)gvb_pow2_floor(l2 / CHASE_TINY_DIV);
    size_t fit = (size_t)gvb_pow2_floor(l2 / CHASE_FIT_DIV);
    size_t budget = gvb_mem_budget(w, d, w->tenants);
    size_t room = budget > tiny + fit ? budget - tiny - fit : 0;
    size_t flush = (size_t)gvb_pow2_floor(room < FLUSH_MUL * l2 ? room : FLUSH_MUL * l2);
    if (flush < FLUSH_MIN * l2)
        return gvb_report_status(w, GVB_SKIP, "flushing L2 needs %zu MiB (2 x L2) but this "
                                 "tenant may use %zu MiB", (FLUSH_MIN * l2) >> 20, budget >> 20);
    /* each chain's stretch of the victim's set must hold a whole chunk, so that a chunk
     * right after a flush meets only lines it has not visited */
    size_t chains = fit / LINE_BYTES / CHASE_LOADS;
    if (chains > CHASE_CHAINS)
        chains = CHASE_CHAINS;
    if (chains < 1 || tiny / LINE_BYTES < chains)
        return gvb_report_status(w, GVB_SKIP, "L2 of %zu bytes is too small for chains of %d "
                                 "loads", l2, CHASE_LOADS);
    chase_set s_tiny, s_fit;
    int *sink = NULL;
    void *flush_buf = NULL;
    GVB_CUDA_TRY(w, cudaMalloc((void **)&sink, sizeof *sink));
    GVB_CUDA_TRY(w, cudaMalloc(&flush_buf, flush));
    GVB_CUDA_TRY(w, cudaMemsetAsync(flush_buf, 5, flush, d->stream));
    if (chase_build(w, &s_tiny, tiny, (int)chains, &rng, d->stream) ||
        chase_build(w, &s_fit, fit, (int)chains, &rng, d->stream))
        return 1;
    if (gvb_contend_barrier(w, sh))
        return 1;

    /* phase 0, alone. All-miss: flush L2, then one chunk on the victim's set, in which every
     * chain loads lines no chain has touched since the flush. */
    gvb_series cal = {0};
    s_fit.chunks = 1;
    for (int r = 0; r < MISS_CAL_FLUSHES; r++) {
        GVB_CUDA_RC(w, warm_set(flush_buf, flush, d->sms, sink, d->stream), "L2 flush read");
        if (chase_body(&s_fit, NULL) || gvb_series_push(&cal, s_fit.chunk_lat[0]))
            return chase_failed(w, &s_fit, "victim set after a flush");
    }
    st->lat_miss = gvb_series_median(&cal);
    gvb_series_free(&cal);
    s_fit.chunks = CHASE_CHUNKS;
    GVB_CUDA_RC(w, warm_set(s_tiny.lines, tiny, d->sms, sink, d->stream), "warm read");
    if (chase_window(&s_tiny, INFINITY, 3, &cal))
        return chase_failed(w, &s_tiny, "all-hit set");
    st->lat_hit = gvb_series_median(&cal);
    gvb_series_free(&cal);
    GVB_CUDA_RC(w, warm_set(s_fit.lines, fit, d->sms, sink, d->stream), "warm read");
    if (chase_window(&s_fit, INFINITY, 1, &cal) ||
        chase_window(&s_fit, gvb_window_s(w), w->iterations, &st->solo))
        return chase_failed(w, &s_fit, "victim set");
    gvb_series_free(&cal);
    st->lat_solo = gvb_series_median(&st->solo);
    if (!(st->lat_miss > st->lat_hit))
        return gvb_report_status(w, GVB_FAIL, "latency proxy cannot be calibrated: all-miss "
                                 "%.1f ns <= all-hit %.1f ns per load", st->lat_miss,
                                 st->lat_hit);

    /* phase 1: next to the aggressor */
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
    s_fit.desched_ns = CHASE_DESCHEDULED * st->lat_miss;
    if (gvb_contend_await(w, *sh, 1))
        return 1;
    if (chase_window(&s_fit, gvb_window_s(w), w->iterations, &st->cont))
        return chase_failed(w, &s_fit, "victim set, contended");
    gvb_shared_stop_phase(*sh, 1);
    st->descheduled = s_fit.descheduled;
    if (st->cont.n == 0)
        return gvb_report_status(w, GVB_FAIL, "every contended chunk was descheduled (%d)",
                                 st->descheduled);

    gvb_emit_text(w, "method", "%s", CACHE_METHOD);
    gvb_emit_extra(w, "lat_hit_ns", st->lat_hit);
    gvb_emit_extra(w, "lat_miss_ns", st->lat_miss);
    gvb_emit_extra(w, "lat_solo_ns", st->lat_solo);
    gvb_emit_extra(w, "lat_contended_ns", gvb_series_median(&st->cont));
    gvb_emit_extra(w, "hit_solo_pct", 100 * gvb_hit_fraction(st->lat_solo, st->lat_hit,
                                                             st->lat_miss));
    gvb_emit_extra(w, "hit_contended_pct",
                   100 * gvb_hit_fraction(gvb_series_median(&st->cont), st->lat_hit,
                                          st->lat_miss));
    size_t above = 0;
    for (size_t i = 0; i < st->cont.n; i++)
        above += st->cont.v[i] > st->lat_miss;
    /* samples slower than an all-miss load alone: queueing, not only misses; the proxy
     * reads 0 % there (clamped) */
    gvb_emit_extra(w, "contended_above_miss_pct", gvb_pct_of((double)above, (double)st->cont.n));
    gvb_emit_extra(w, "chains", (double)chains);
    gvb_emit_extra(w, "set_bytes", (double)fit);
    gvb_emit_extra(w, "hit_cal_set_bytes", (double)tiny);
    gvb_emit_extra(w, "flush_bytes", (double)flush);
    gvb_emit_extra(w, "l2_bytes", (double)l2);
    gvb_emit_extra(w, "descheduled_chunks", st->descheduled);
    chase_free(&s_tiny);
    chase_free(&s_fit);
    cudaFree(sink);
    cudaFree(flush_buf);
    return 0;
}

/* Aggressors (tenants 1..): wait out the victim's solo phase, then stream until it is done. */
static int stream_aggressor(gvb_worker *w, const gvb_dev *d, gvb_shared **sh)
{
    gvb_copy_load c;
    if (gvb_copy_load_init(w, d, &c, w->tenants) || gvb_contend_barrier(w, sh))
        return 1;
    if (gvb_sync(w))
        return gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
    gvb_series t = {0};
    if (gvb_run_until(gvb_until_victim(w, *sh, 1), gvb_copy_body, &c, &t))
        GVB_CUDA_RC(w, (int)c.err, "streaming copy");
    gvb_emit_extra(w, "aggressor_gbs", gvb_gbs(gvb_copy_load_bytes(&c) * (double)t.n,
                                               gvb_series_sum(&t)));
    gvb_series_free(&t);
    gvb_copy_load_free(&c);
    return 0;
}

static int chase_metric(gvb_worker *w, cache_view view)
{
    gvb_dev d;
    gvb_shared *sh = NULL;
    if (gvb_dev_open(w, &d))
        return 1;
    if (w->tenant != 0) {
        int rc = stream_aggressor(w, &d, &sh);
        gvb_contend_close(sh, w);
        return rc;
    }
    chase_study st;
    memset(&st, 0, sizeof st);
    int rc = chase_victim(w, &d, &sh, &st);
    gvb_contend_close(sh, w); /* on every path: the aggressor never outlives the victim */
    double h_solo = gvb_hit_fraction(st.lat_solo, st.lat_hit, st.lat_miss);
    if (rc == 0 && view == CACHE_EVICTION && !(h_solo > 0))
        rc = gvb_report_status(w, GVB_FAIL, "the victim's set is not L2-resident even alone "
                               "(latency %.1f ns per load, miss %.1f ns)", st.lat_solo,
                               st.lat_miss);
    double lat_cont = gvb_series_median(&st.cont);
    if (rc == 0 && view != CACHE_LATENCY && !gvb_hit_proxy_readable(lat_cont, st.lat_miss))
        rc = gvb_report_status(w, GVB_SKIP, "the latency proxy cannot read a hit rate here: "
                               "contended loads took %.0f ns (median), slower than an all-miss "
                               "load alone (%.0f ns), so queueing or a shared SM sets the "
                               "latency, not misses alone (CACHE-004 reports the latency; L2 "
                               "hardware counters are not read)", lat_cont, st.lat_miss);
    for (size_t i = 0; rc == 0 && i < st.cont.n; i++) {
        double lat = st.cont.v[i], h = gvb_hit_fraction(lat, st.lat_hit, st.lat_miss);
        switch (view) {
        case CACHE_HIT_RATE: gvb_emit_sample(w, 100 * h); break;
        case CACHE_EVICTION: gvb_emit_sample(w, gvb_drop_pct(h_solo, h)); break;
        case CACHE_LATENCY: gvb_emit_sample(w, gvb_increase_pct(st.lat_solo, lat)); break;
        }
    }
    gvb_series_free(&st.solo);
    gvb_series_free(&st.cont);
    gvb_dev_close(&d);
    return rc;
}

static int cache_001(gvb_worker *w) { return chase_metric(w, CACHE_HIT_RATE); }
const gvb_metric_impl gvb_impl_cache_001 = {.run = cache_001, .deadline_s = 120};

static int cache_002(gvb_worker *w) { return chase_metric(w, CACHE_EVICTION); }
const gvb_metric_impl gvb_impl_cache_002 = {.run = cache_002, .deadline_s = 120};

static int cache_004(gvb_worker *w) { return chase_metric(w, CACHE_LATENCY); }
const gvb_metric_impl gvb_impl_cache_004 = {.run = cache_004, .deadline_s = 120};

/* ---- CACHE-003 Working Set Collision Impact -------------------------------------------- */

/* Bytes one read call moves: a few hundred microseconds of L2 reads. */
#define READ_CALL_BYTES (4ull << 30)

typedef struct read_load {
    void *set;
    size_t bytes;
    int reps, blocks, *sink;
    cudaStream_t stream;
    cudaError_t err;
} read_load;

static int read_init(gvb_worker *w, const gvb_dev *d, read_load *r, size_t bytes)
{
    memset(r, 0, sizeof *r);
    r->bytes = bytes;
    r->stream = d->stream;
    r->reps = (int)(READ_CALL_BYTES / bytes > 0 ? READ_CALL_BYTES / bytes : 1);
    GVB_CUDA_TRY(w, cudaMalloc(&r->set, bytes));
    GVB_CUDA_TRY(w, cudaMalloc((void **)&r->sink, sizeof *r->sink));
    GVB_CUDA_TRY(w, cudaMemsetAsync(r->set, 3, bytes, d->stream));
    GVB_CUDA_RC(w, gvb_read16_grid(d->sms, &r->blocks), "read kernel occupancy");
    GVB_CUDA_RC(w, warm_set(r->set, bytes, d->sms, r->sink, d->stream), "warm read");
    return 0;
}

static void read_free(read_load *r)
{
    cudaFree(r->set);
    cudaFree(r->sink);
}

static int read_body(void *arg, double *sample_s)
{
    read_load *r = arg;
    (void)sample_s;
    int e = gvb_launch_read16(r->set, r->bytes, r->reps, r->blocks, r->sink, r->stream);
    if (e == 0)
        e = (int)cudaStreamSynchronize(r->stream);
    r->err = (cudaError_t)e;
    return e != 0;
}

/* GB/s of each call of a read load, for as long as u says. */
static int read_window(gvb_worker *w, read_load *r, gvb_until u, gvb_series *gbs)
{
    gvb_series t = {0};
    int rc = gvb_run_until(u, read_body, r, &t);
    if (rc == 0)
        rc = gvb_series_to_gbs(&t, (double)r->bytes * r->reps, gbs);
    gvb_series_free(&t);
    if (rc)
        return gvb_report_status(w, GVB_FAIL, "L2 read kernel: %s",
                                 r->err ? cudaGetErrorString(r->err) : "out of host memory");
    return 0;
}

/* Victim: reads its L2/4 set alone (phase 0), next to an aggressor reading a set that fits
 * beside it (phase 1: 1/8 of the victim's), and next to one whose set alone exceeds L2
 * (phase 2: twice the largest power of two <= L2). Samples: the drop of phase 2 against phase 1, which
 * shares the GPU the same way but without the collision. In each of phases 1 and 2 the
 * aggressor reads from before the victim measures until it is done. */
static int cache_003(gvb_worker *w)
{
    gvb_dev d;
    if (gvb_dev_open(w, &d))
        return 1;
    size_t l2 = d.l2_bytes, victim_set = (size_t)gvb_pow2_floor(l2 / 4);
    size_t small_set = victim_set / 8, large_set = 2 * (size_t)gvb_pow2_floor(l2);
    read_load v, a_small, a_large;
    gvb_shared *sh = NULL;
    int rc = 0;
    if (w->tenant == 0) {
        if (read_init(w, &d, &v, victim_set))
            return 1;
    } else if (read_init(w, &d, &a_small, small_set) || read_init(w, &d, &a_large, large_set)) {
        return 1;
    }
    if (gvb_contend_barrier(w, &sh))
        return 1;
    if (w->tenant != 0) {
        gvb_series t = {0};
        for (int phase = 1; phase <= 2 && rc == 0; phase++) {
            if (gvb_sync(w))
                return gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
            read_load *a = phase == 1 ? &a_small : &a_large;
            rc = read_window(w, a, gvb_until_victim(w, sh, phase), &t);
            if (rc == 0)
                gvb_emit_extra(w, phase == 1 ? "aggressor_fit_gbs" : "aggressor_collide_gbs",
                               gvb_series_median(&t));
            gvb_series_free(&t);
        }
        gvb_contend_close(sh, w);
        read_free(&a_small);
        read_free(&a_large);
        gvb_dev_close(&d);
        return rc;
    }
    gvb_series solo = {0}, fit = {0}, collide = {0};
    gvb_until win = gvb_until_window(gvb_window_s(w), w->iterations);
    rc = gvb_run_warmup(w, read_body, &v) ? gvb_report_status(w, GVB_FAIL, "warm-up: %s",
                                                             cudaGetErrorString(v.err))
                                          : 0;
    if (rc == 0)
        rc = read_window(w, &v, win, &solo);
    for (int phase = 1; phase <= 2 && rc == 0; phase++) {
        if (gvb_sync(w))
            rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
        if (rc == 0)
            rc = gvb_contend_await(w, sh, phase);
        if (rc == 0)
            rc = read_window(w, &v, win, phase == 1 ? &fit : &collide);
        gvb_shared_stop_phase(sh, phase);
    }
    gvb_contend_close(sh, w);
    if (rc == 0) {
        double fit_med = gvb_series_median(&fit), collide_med = gvb_series_median(&collide);
        for (size_t i = 0; i < collide.n; i++)
            gvb_emit_sample(w, gvb_drop_pct(fit_med, collide.v[i]));
        gvb_emit_extra(w, "solo_gbs", gvb_series_median(&solo));
        gvb_emit_extra(w, "fit_gbs", fit_med);
        gvb_emit_extra(w, "collide_gbs", collide_med);
        gvb_emit_extra(w, "drop_vs_solo_pct", gvb_drop_pct(gvb_series_median(&solo),
                                                           collide_med));
        gvb_emit_extra(w, "victim_set_bytes", (double)victim_set);
        gvb_emit_extra(w, "aggressor_fit_set_bytes", (double)small_set);
        gvb_emit_extra(w, "aggressor_collide_set_bytes", (double)large_set);
        gvb_emit_extra(w, "l2_bytes", (double)l2);
    }
    gvb_series_free(&solo);
    gvb_series_free(&fit);
    gvb_series_free(&collide);
    read_free(&v);
    gvb_dev_close(&d);
    return rc;
}
const gvb_metric_impl gvb_impl_cache_003 = {.run = cache_003, .deadline_s = 120};
