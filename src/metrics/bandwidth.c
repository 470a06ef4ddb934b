/* Memory bandwidth metrics (BW-xxx): streaming bandwidth of a victim next to streaming
 * aggressors, fairness between streaming tenants and the number of tenants that saturate
 * the memory bus. Methods in docs/metrics/bandwidth.md. */
#include <math.h>
#include <stdio.h>

#include "gpu/cuda_check.h"
#include "metrics/contend.h"
#include "stats/bwformulas.h"
#include "stats/stats.h"

/* Sets up the device and the copy load of one tenant, up to the start barrier; with sh, the
 * victim's and aggressors' shared page too (gvb_contend_barrier). */
static int stream_setup(gvb_worker *w, gvb_dev *d, gvb_copy_load *c, gvb_shared **sh)
{
    if (gvb_dev_open(w, d))
        return 1;
    if (gvb_copy_load_init(w, d, c, w->tenants))
        return 1;
    if (sh)
        return gvb_contend_barrier(w, sh);
    if (gvb_barrier(w))
        return gvb_report_status(w, GVB_FAIL, "start barrier: the parent is gone");
    return 0;
}

static void stream_teardown(gvb_dev *d, gvb_copy_load *c)
{
    gvb_copy_load_free(c);
    gvb_dev_close(d);
}

/* Streams for as long as u says and returns the bandwidth over all calls (GB/s) in *gbs;
 * the per-call GB/s go to per_call when not NULL. */
static int stream_window(gvb_worker *w, gvb_copy_load *c, gvb_until u, double *gbs,
                         gvb_series *per_call)
{
    gvb_series t = {0};
    int rc = gvb_run_until(u, gvb_copy_body, c, &t);
    if (rc == 0 && per_call)
        rc = gvb_series_to_gbs(&t, gvb_copy_load_bytes(c), per_call);
    *gbs = gvb_gbs(gvb_copy_load_bytes(c) * (double)t.n, gvb_series_sum(&t));
    gvb_series_free(&t);
    if (rc)
        return gvb_report_status(w, GVB_FAIL, "streaming copy: %s",
                                 c->err ? cudaGetErrorString(c->err) : "out of host memory");
    return 0;
}

/* ---- BW-001 / BW-004: the victim alone, then next to N-1 streaming aggressors ---------- */

typedef double (*contention_score)(double solo, double contended);

/* Phase 0: the victim streams alone (aggressors wait at phase 1). Phase 1: everyone streams;
 * the victim's samples are score(solo median, contended call GB/s); the aggressors stream
 * from before the victim measures until it is done (gvb_contend_await). */
static int victim_vs_aggressors(gvb_worker *w, contention_score score)
{
    gvb_dev d;
    gvb_copy_load c;
    gvb_shared *sh = NULL;
    if (stream_setup(w, &d, &c, &sh))
        return 1;
    gvb_series solo = {0}, cont = {0};
    int rc = 0;
    if (w->tenant == 0 && (rc = gvb_stream_solo(w, &c, &solo)) != 0)
        goto out;
    if (gvb_sync(w)) {
        rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
        goto out;
    }
    double gbs;
    if (w->tenant == 0) {
        if ((rc = gvb_contend_await(w, sh, 1)) != 0 ||
            (rc = stream_window(w, &c, gvb_until_window(gvb_window_s(w), w->iterations), &gbs,
                                &cont)) != 0)
            goto out;
        gvb_shared_stop_phase(sh, 1);
        double solo_med = gvb_series_median(&solo);
        for (size_t i = 0; i < cont.n; i++)
            gvb_emit_sample(w, score(solo_med, cont.v[i]));
        gvb_emit_extra(w, "contended_gbs", gvb_series_median(&cont));
        gvb_emit_extra(w, "aggressors", w->tenants - 1);
    } else {
        if ((rc = stream_window(w, &c, gvb_until_victim(w, sh, 1), &gbs, NULL)) != 0)
            goto out;
        gvb_emit_extra(w, "aggressor_gbs", gbs);
    }
out:
    gvb_contend_close(sh, w);
    gvb_series_free(&solo);
    gvb_series_free(&cont);
    stream_teardown(&d, &c);
    return rc;
}

static int bw_001(gvb_worker *w) { return victim_vs_aggressors(w, gvb_retained_pct); }
const gvb_metric_impl gvb_impl_bw_001 = {.run = bw_001, .deadline_s = 120};

static int bw_004(gvb_worker *w) { return victim_vs_aggressors(w, gvb_drop_pct); }
const gvb_metric_impl gvb_impl_bw_004 = {.run = bw_004, .deadline_s = 120};

/* ---- BW-002 Bandwidth Fairness Index --------------------------------------------------- */

/* Rounds: 5 for the whole metric, split over its replicates (the rounds' indexes pool), at
 * least 2 per process group; 3 with --quick. */
#define BW_002_ROUNDS 5
#define BW_002_ROUNDS_MIN 2
#define BW_002_ROUNDS_QUICK 3

/* Phase 0: tenant 0 alone (ceiling and solo bandwidth, for the extras). Phases 1..R: all
 * tenants stream for the same half window; each tenant's primary sample of round r is its
 * bandwidth over that round. */
static int bw_002(gvb_worker *w)
{
    gvb_dev d;
    gvb_copy_load c;
    if (stream_setup(w, &d, &c, NULL))
        return 1;
    gvb_series solo = {0};
    int rc = 0, rounds = w->quick ? BW_002_ROUNDS_QUICK
                                  : gvb_replicate_share_min(w, BW_002_ROUNDS, BW_002_ROUNDS_MIN);
    if (w->tenant == 0 && (rc = gvb_stream_solo(w, &c, &solo)) != 0)
        goto out;
    double sum = 0;
    for (int r = 0; r < rounds; r++) {
        if (gvb_sync(w)) {
            rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
            goto out;
        }
        double gbs;
        gvb_until half = gvb_until_window(gvb_window_s(w) / 2, 0);
        if ((rc = stream_window(w, &c, half, &gbs, NULL)) != 0)
            goto out;
        gvb_emit_sample(w, gbs);
        sum += gbs;
    }
    gvb_emit_extra(w, "mean_gbs", sum / rounds);
out:
    gvb_series_free(&solo);
    stream_teardown(&d, &c);
    return rc;
}

/* One Jain index per round over the tenants' bandwidths of that round. */
static void bw_002_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    size_t rounds = tenants > 0 ? per_tenant[0].n : 0;
    for (int i = 1; i < tenants; i++)
        if (per_tenant[i].n != rounds)
            return; /* a tenant did not finish: no index */
    double x[64];
    if (tenants > 64)
        return;
    for (size_t k = 0; k < rounds; k++) {
        for (int i = 0; i < tenants; i++)
            x[i] = per_tenant[i].v[k];
        gvb_series_push(&r->samples, gvb_jain_index(x, (size_t)tenants));
    }
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < tenants; i++) {
        double m;
        if (gvb_tenant_extra(r, i, "mean_gbs", &m) == 0) {
            lo = fmin(lo, m);
            hi = fmax(hi, m);
        }
    }
    if (hi > 0)
        gvb_kv_set_num(&r->extras, "min_over_max_tenant_gbs", lo / hi);
}
const gvb_metric_impl gvb_impl_bw_002 = {.run = bw_002, .reduce = bw_002_reduce,
                                         .deadline_s = 120};

/* ---- BW-003 Memory Bus Saturation Point ------------------------------------------------ */

/* Phase 0: tenant 0 measures the copy ceiling alone. Phase k (1..K): tenants 0..k-1 stream
 * together for one window and report their bandwidth as extra k<k>_gbs. */
static int bw_003_phases(const gvb_worker *w)
{
    return w->tenants < GVB_MAX_PHASES - 1 ? w->tenants : GVB_MAX_PHASES - 1;
}

static int bw_003(gvb_worker *w)
{
    gvb_dev d;
    gvb_copy_load c;
    if (stream_setup(w, &d, &c, NULL))
        return 1;
    int rc = 0, phases = bw_003_phases(w);
    if (w->tenant == 0) {
        double ceiling;
        GVB_CUDA_RC(w, gvb_d2d_ceiling(&c, &ceiling), "cudaMemcpyAsync D2D ceiling");
        gvb_emit_extra(w, "d2d_ceiling_gbs", ceiling);
        gvb_emit_extra(w, "buffer_bytes", (double)c.bytes);
        gvb_emit_extra(w, "phases", phases);
    }
    for (int k = 1; k <= phases; k++) {
        if (gvb_sync(w)) {
            rc = gvb_report_status(w, GVB_FAIL, "phase barrier: the parent is gone");
            goto out;
        }
        if (w->tenant >= k)
            continue;
        double gbs;
        gvb_until half = gvb_until_window(gvb_window_s(w) / 2, 0);
        if ((rc = stream_window(w, &c, half, &gbs, NULL)) != 0)
            goto out;
        char name[32];
        snprintf(name, sizeof name, "k%d_gbs", k);
        gvb_emit_extra(w, name, gbs);
    }
out:
    stream_teardown(&d, &c);
    return rc;
}

#define BW_003_SATURATION 0.95

/* Aggregate of phase k = sum of the active tenants' bandwidths; the value is the smallest
 * k whose aggregate reaches 95 % of the best one. The curve goes into the extras; there are
 * no per-iteration samples (one value from K measured aggregates). */
static void bw_003_reduce(gvb_result *r, const gvb_series *per_tenant, int tenants)
{
    (void)per_tenant;
    double agg[GVB_MAX_PHASES] = {0}, ceiling = NAN;
    int phases = tenants < GVB_MAX_PHASES - 1 ? tenants : GVB_MAX_PHASES - 1;
    for (int k = 1; k <= phases; k++) {
        char name[32];
        snprintf(name, sizeof name, "k%d_gbs", k);
        for (int i = 0; i < k; i++) {
            double v;
            if (gvb_tenant_extra(r, i, name, &v) != 0)
                return; /* a tenant did not report: no value */
            agg[k - 1] += v;
        }
        snprintf(name, sizeof name, "aggregate_k%d_gbs", k);
        gvb_kv_set_num(&r->extras, name, agg[k - 1]);
    }
    int sat = gvb_saturation_point(agg, (size_t)phases, BW_003_SATURATION);
    if (sat == 0)
        return;
    double best = 0;
    for (int k = 0; k < phases; k++)
        best = fmax(best, agg[k]);
    gvb_tenant_extra(r, 0, "d2d_ceiling_gbs", &ceiling);
    gvb_kv_set_num(&r->extras, "max_aggregate_gbs", best);
    /* one tenant's ceiling: several tenants together can exceed it where a layer caps what
     * one tenant may use (MPS active threads) */
    gvb_kv_set_num(&r->extras, "max_aggregate_pct_of_t0_d2d", gvb_pct_of(best, ceiling));
    r->value = sat;
    r->has_value = 1;
}
const gvb_metric_impl gvb_impl_bw_003 = {.run = bw_003, .reduce = bw_003_reduce,
                                         .deadline_s = 120};
