/* The model's "Promised and delivered" part (see model.h): for each system with a limit, the
 * memory and compute it was promised against what its tenants got (IS-001, IS-003 and its
 * shapes, the proof), and every throughput metric as a share of native. Rules: docs/report.md. */
#include "report/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/claim.h"

/* ---- promised and delivered ---------------------------------------------------------------- */

/* A rate: a unit that ends in /s (GB/s, tokens/s; not a user's img/step) or FLOPS. */
int gvb_metric_is_throughput(const char *unit, gvb_direction direction)
{
    size_t n = strlen(unit);
    return direction == GVB_HIGHER && ((n >= 2 && strcmp(unit + n - 2, "/s") == 0) ||
                                       (n >= 5 && strcmp(unit + n - 5, "FLOPS") == 0));
}

/* Where a promise is read, the first one found: the metric's record of the limit it measured
 * against, then the system's configuration (calib's own mem= / duty=, which override the
 * run's; a layer's copy of the run's limit), then the run's configuration. */
typedef struct promise_src {
    int where; /* 0: the metric's extra, 1: systems[].config, 2: the run's config */
    const char *key, *from;
} promise_src;

static const promise_src memory_src[] = {
    {0, "limit_bytes", NULL}, /* NULL: "<the promise metric> <key>" */
    {1, "mem_bytes", "systems[].config mem_bytes"},
    {1, "memory_limit_bytes", "systems[].config memory_limit_bytes"},
    {1, "expected_memory_limit_bytes", "systems[].config expected_memory_limit_bytes"},
    {2, "memory_limit_bytes", "config memory_limit_bytes"},
};
static const promise_src compute_src[] = {
    {0, "target_pct", NULL},
    {1, "duty_pct", "systems[].config duty_pct"},
    {1, "sm_limit_pct", "systems[].config sm_limit_pct"},
    {1, "active_thread_pct", "systems[].config active_thread_pct"},
    {1, "compute_limit_pct", "systems[].config compute_limit_pct"},
    {1, "expected_compute_limit_pct", "systems[].config expected_compute_limit_pct"},
    {2, "compute_limit_pct", "config compute_limit_pct"},
};

/* The promise of system s: a number above 0 (and below `below`, where a share of 100 % is no
 * limit) with where it was read in from[0..len), or 0 with from "". */
static double promised(const gvb_model *m, int s, const char *metric, const promise_src *src,
                       size_t n, double below, char *from, size_t len)
{
    const gvb_msys *sy = &m->systems[s];
    int k = gvb_model_metric(m, metric);
    const gvb_result *r = k >= 0 ? m->metrics[k].cells[s].r : NULL;
    const gvb_kv *kv[3] = {r ? &r->extras : NULL, sy->rec ? &sy->rec->config : NULL,
                           &m->inputs[sy->file].run->config};
    from[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const gvb_kv_item *it = kv[src[i].where] ? gvb_kv_get(kv[src[i].where], src[i].key) : NULL;
        if (it && !it->is_text && isfinite(it->num) && it->num > 0 && it->num < below) {
            if (src[i].from)
                snprintf(from, len, "%s", src[i].from);
            else
                snprintf(from, len, "%s %s", metric, src[i].key);
            return it->num;
        }
    }
    return 0;
}

/* d->why = "<id> <text>" (the promise metric's id from the catalog) */
static void why_of(gvb_mdeliv *d, const char *id, const char *text)
{
    snprintf(d->why_text, sizeof d->why_text, "%s %s", id, text);
    d->why = d->why_text;
}

static void deliv_init(gvb_mdeliv *d, int metric, const char *why)
{
    memset(d, 0, sizeof *d);
    d->metric = metric;
    d->kept = GVB_KEPT_UNKNOWN;
    d->est = d->lo = d->hi = NAN;
    d->why = why;
}

/* More or less than `promise` (both in %): by the interval where there is one (wholly above or
 * below it), else by the value, which must be more than GVB_PROMISE_BAND_PP away: a single
 * value has no interval, and 51.5 % for 50 % promised is not evidence of "more". */
static void decide(gvb_mdeliv *d, double promise)
{
    if (!isfinite(d->est))
        d->kept = GVB_KEPT_UNKNOWN;
    else if (d->interval)
        d->kept = d->lo > promise ? GVB_KEPT_MORE : d->hi < promise ? GVB_KEPT_LESS : GVB_KEPT_AS;
    else
        d->kept = d->est > promise + GVB_PROMISE_BAND_PP   ? GVB_KEPT_MORE
                  : d->est < promise - GVB_PROMISE_BAND_PP ? GVB_KEPT_LESS
                                                           : GVB_KEPT_AS;
}

/* The claim rule's interval of r's replicate values against the constant c, each replicate
 * paired with c (a one-sample t interval with R - 1 degrees of freedom), in r's unit. */
static int against_constant(const gvb_result *r, double c, gvb_mdeliv *d)
{
    double v[GVB_CLAIM_MAX], ref[GVB_CLAIM_MAX];
    size_t n = gvb_result_replicate_values(r, v, GVB_CLAIM_MAX);
    gvb_claim cl;
    for (size_t i = 0; i < n; i++)
        ref[i] = c;
    if (n < 2 || gvb_claim_test(v, n, ref, n, 1, GVB_CLAIM_LEVEL, &cl) != 0 ||
        !isfinite(cl.lo) || !isfinite(cl.hi))
        return -1;
    d->est = cl.is_ratio ? cl.est * c : c + cl.est;
    d->lo = cl.is_ratio ? cl.lo * c : c + cl.lo;
    d->hi = cl.is_ratio ? cl.hi * c : c + cl.hi;
    d->interval = 1;
    return 0;
}

/* IS-001: usable memory as % of the promise. Its samples are % of the limit it was given
 * (limit_bytes; files from before that extra: of the run's limit, unless the file names
 * another denominator); otherwise usable_bytes against the promise, by the value. */
static void deliver_memory(const gvb_model *m, gvb_mpromise *p)
{
    gvb_mdeliv *d = &p->memory;
    const char *id = gvb_promise_metric(GVB_PROMISE_MEMORY);
    int k = gvb_model_metric(m, id);
    const gvb_result *r = k >= 0 ? gvb_model_claim_result(&m->metrics[k], p->sys) : NULL;
    p->usable_bytes = NAN;
    deliv_init(d, k, NULL);
    if (!(p->memory_bytes > 0))
        return;
    if (!r || !r->has_value) {
        why_of(d, id, k >= 0 && m->metrics[k].cells[p->sys].suspect
                          ? "failed a plausibility check (see Validity)"
                          : "not measured");
        return;
    }
    double limit = gvb_kv_num(&r->extras, "limit_bytes");
    double usable = gvb_kv_num(&r->extras, "usable_bytes");
    int of_promise = !isnan(limit) ? limit == p->memory_bytes
                                   : !gvb_kv_get(&r->extras, "denominator");
    if (of_promise) {
        if (against_constant(r, 100, d) != 0) {
            d->est = r->value;
            d->why = gvb_claim_why(GVB_CLAIM_ONE_REPLICATE, r->metric);
        }
        p->usable_bytes = d->est / 100 * p->memory_bytes;
    } else if (isfinite(usable)) {
        p->usable_bytes = usable;
        d->est = 100 * usable / p->memory_bytes;
        why_of(d, id, "was measured against another denominator: usable_bytes by the value");
    } else {
        why_of(d, id, "was measured against another denominator and recorded no usable_bytes");
    }
    decide(d, 100);
}

static int shape_share_name(const char *key)
{
    size_t n = strlen(key), suf = strlen(".share_pct");
    return strncmp(key, "shape.", 6) == 0 && n > 6 + suf && strcmp(key + n - suf, ".share_pct") == 0;
}

/* One shape's share into the range, the shape farthest from the promise, and the list of
 * shapes for which the limit was not enforced. */
static void shape_seen(gvb_mpromise *p, const char *key, double v, double *lo, double *hi, int *n)
{
    *lo = fmin(*lo, v);
    *hi = fmax(*hi, v);
    (*n)++;
    double dev = fabs(v - p->compute_pct);
    int len = (int)(strlen(key) - strlen("shape.") - strlen(".share_pct"));
    const char *name = key + strlen("shape.");
    if (*n == 1 || dev > p->worst_pp) {
        p->worst_pp = dev;
        snprintf(p->worst_shape, sizeof p->worst_shape, "%.*s", len, name);
    }
    size_t used = strlen(p->unenforced);
    if (v > p->compute_pct + GVB_PROOF_COMPUTE_SLACK_PP && used < sizeof p->unenforced)
        snprintf(p->unenforced + used, sizeof p->unenforced - used, "%s%.*s", used ? ", " : "",
                 len, name);
}

/* IS-003: the achieved share. Per kernel shape (extras, else series, named
 * shape.<name>.share_pct) a range min-max; without them, the one share IS-003 achieved with
 * its kernel. IS-003 records no interval of the share, so the values decide. */
static void deliver_compute(const gvb_model *m, gvb_mpromise *p)
{
    gvb_mdeliv *d = &p->compute;
    const char *id = gvb_promise_metric(GVB_PROMISE_COMPUTE);
    int k = gvb_model_metric(m, id);
    const gvb_result *r = k >= 0 ? gvb_model_claim_result(&m->metrics[k], p->sys) : NULL;
    deliv_init(d, k, NULL);
    if (!(p->compute_pct > 0))
        return;
    if (!r) {
        why_of(d, id, "not measured");
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    int n = 0;
    for (size_t i = 0; i < r->extras.n; i++) {
        const gvb_kv_item *it = &r->extras.items[i];
        if (!it->is_text && isfinite(it->num) && shape_share_name(it->key))
            shape_seen(p, it->key, it->num, &lo, &hi, &n);
    }
    int from_extras = n > 0; /* files that wrote the shapes as extras */
    for (size_t i = 0; !from_extras && i < r->n_series; i++)
        if (shape_share_name(r->series[i].name) && r->series[i].n)
            shape_seen(p, r->series[i].name, gvb_median(r->series[i].v, r->series[i].n), &lo,
                       &hi, &n);
    /* one shape: the median of every replicate's achieved share where the metric recorded
     * them (series), else the extra (the last replicate's, in files from before the series) */
    static const char *const achieved[] = {"achieved_unsync_pct", "achieved_pct",
                                           "achieved_share_unsync_pct"};
    for (size_t i = 0; i < sizeof achieved / sizeof *achieved && n == 0; i++) {
        double v = gvb_result_median_or_extra(r, achieved[i]);
        if (isfinite(v))
            lo = hi = v, n = 1;
    }
    static const char *const names[] = {"kernel", "shape", "method"};
    for (size_t i = 0; i < sizeof names / sizeof *names && !p->compute_kernel; i++)
        p->compute_kernel = gvb_kv_text(&r->extras, names[i]);
    p->shapes = n;
    if (n == 0) {
        why_of(d, id, "recorded no achieved share (its value, an accuracy, does not say on "
                      "which side of the promise it lies)");
        return;
    }
    if (n == 1) {
        d->est = lo;
        snprintf(d->why_text, sizeof d->why_text,
                 "one kernel shape measured: no range, and %s records no interval", id);
        d->why = d->why_text;
        decide(d, p->compute_pct);
        return;
    }
    /* over shapes: "holds" when every shape is within the band of the promise, more or less
     * when every shape lies beyond it on one side, else the share depends on the shape */
    double band = GVB_PROMISE_BAND_PP, c = p->compute_pct;
    d->lo = lo;
    d->hi = hi;
    d->kept = lo >= c - band && hi <= c + band ? GVB_KEPT_AS
              : lo > c + band                  ? GVB_KEPT_MORE
              : hi < c - band                  ? GVB_KEPT_LESS
                                               : GVB_KEPT_MIXED;
}

/* A throughput result whose native is the whole GPU: one tenant's. With several tenants (a
 * workload's WL-002 with --tenants 2) native's tenants share the GPU too, so % of native is
 * no share of the GPU to hold against the promise. */
static const gvb_result *solo_throughput(const gvb_mmetric *mm, int sys)
{
    const gvb_result *a = gvb_model_ok_result(mm, sys);
    return a && a->tenants <= 1 && gvb_metric_is_throughput(mm->unit, mm->direction) ? a : NULL;
}

/* Every throughput metric one tenant measured under its compute limit, as % of its native:
 * the effect the claim rule computed against that native (its interval), else the ratio of
 * the two values. */
static int deliver_throughput(const gvb_model *m, gvb_mpromise *p)
{
    const gvb_msys *sy = &m->systems[p->sys];
    size_t n = 0;
    for (size_t k = 0; p->compute_pct > 0 && k < m->n_metrics; k++)
        n += solo_throughput(&m->metrics[k], p->sys) != NULL;
    if (!n)
        return 0;
    p->tput = calloc(n, sizeof *p->tput);
    if (!p->tput)
        return -1;
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        const gvb_result *a = solo_throughput(mm, p->sys);
        if (!a)
            continue;
        gvb_mdeliv *d = &p->tput[p->n_tput++];
        const gvb_effect *e = &mm->cells[p->sys].vs_base;
        const gvb_result *b = sy->baseline >= 0 ? gvb_model_claim_result(mm, sy->baseline) : NULL;
        deliv_init(d, (int)k, NULL);
        if (mm->cells[p->sys].suspect) {
            d->why = "the result failed a plausibility check (see Validity)";
            continue;
        }
        if (!b || !(b->value > 0)) {
            d->why = sy->baseline < 0 ? "no native in these results" : "no native value";
            continue;
        }
        if (e->verdict != GVB_EFF_UNTESTED && e->is_ratio) {
            d->est = 100 * e->est;
            d->lo = 100 * e->lo;
            d->hi = 100 * e->hi;
            d->interval = 1;
        } else {
            d->est = 100 * a->value / b->value;
            d->why = e->why ? e->why : "no interval";
        }
        decide(d, p->compute_pct);
    }
    return 0;
}

int gvb_model_promises(gvb_model *m)
{
    m->promises = calloc((size_t)m->n_systems + 1, sizeof *m->promises);
    if (!m->promises)
        return -1;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->is_native || !gvb_msys_claimable(sy))
            continue;
        gvb_mpromise *p = &m->promises[m->n_promises];
        p->sys = s;
        p->memory_bytes = promised(m, s, gvb_promise_metric(GVB_PROMISE_MEMORY), memory_src,
                                   sizeof memory_src / sizeof *memory_src, INFINITY,
                                   p->memory_from, sizeof p->memory_from);
        p->compute_pct = promised(m, s, gvb_promise_metric(GVB_PROMISE_COMPUTE), compute_src,
                                  sizeof compute_src / sizeof *compute_src, 100,
                                  p->compute_from, sizeof p->compute_from);
        if (!(p->memory_bytes > 0) && !(p->compute_pct > 0))
            continue;
        m->n_promises++;
        p->proof_share_pct =
            sy->rec ? gvb_kv_num(&sy->rec->activation, "compute_share_pct") : NAN;
        p->proof_not_enforced = p->compute_pct > 0 && isfinite(p->proof_share_pct) &&
                                p->proof_share_pct > p->compute_pct + GVB_PROOF_COMPUTE_SLACK_PP;
        deliver_memory(m, p);
        deliver_compute(m, p);
        if (deliver_throughput(m, p) != 0)
            return -1;
    }
    return 0;
}
