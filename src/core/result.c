/* Result containers (see result.h). */
#include "core/result.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "stats/stats.h"

static const char *const status_names[] = {"OK", "SKIP", "FAIL", "INERT"};

const char *gvb_status_name(gvb_status s)
{
    return (s >= GVB_OK && s <= GVB_INERT) ? status_names[s] : "?";
}

int gvb_status_parse(const char *name, gvb_status *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (gvb_status)i;
            return 0;
        }
    }
    return -1;
}

int gvb_series_push(gvb_series *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 0;
}

void gvb_series_free(gvb_series *s)
{
    free(s->name);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static gvb_kv_item *kv_slot(gvb_kv *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->items[i].key, key) == 0) {
            free(kv->items[i].text);
            kv->items[i].text = NULL;
            return &kv->items[i];
        }
    }
    if (kv->n == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 8;
        gvb_kv_item *it = realloc(kv->items, cap * sizeof *it);
        if (!it)
            return NULL;
        kv->items = it;
        kv->cap = cap;
    }
    gvb_kv_item *it = &kv->items[kv->n];
    memset(it, 0, sizeof *it);
    it->key = strdup(key);
    if (!it->key)
        return NULL;
    kv->n++;
    return it;
}

int gvb_kv_set_num(gvb_kv *kv, const char *key, double v)
{
    gvb_kv_item *it = kv_slot(kv, key);
    if (!it)
        return -1;
    it->is_text = 0;
    it->num = v;
    return 0;
}

int gvb_kv_set_text(gvb_kv *kv, const char *key, const char *fmt, ...)
{
    gvb_kv_item *it = kv_slot(kv, key);
    if (!it)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&it->text, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        it->text = strdup("");
        return -1;
    }
    it->is_text = 1;
    return 0;
}

const gvb_kv_item *gvb_kv_get(const gvb_kv *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0)
            return &kv->items[i];
    return NULL;
}

double gvb_kv_num(const gvb_kv *kv, const char *key)
{
    const gvb_kv_item *it = gvb_kv_get(kv, key);
    return it && !it->is_text ? it->num : NAN;
}

const char *gvb_kv_text(const gvb_kv *kv, const char *key)
{
    const gvb_kv_item *it = gvb_kv_get(kv, key);
    return it && it->is_text ? it->text : NULL;
}

void gvb_kv_free(gvb_kv *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->items[i].key);
        free(kv->items[i].text);
    }
    free(kv->items);
    memset(kv, 0, sizeof *kv);
}

/* The index of r's series `name`, or -1. */
static long series_index(const gvb_result *r, const char *name)
{
    for (size_t i = 0; r && i < r->n_series; i++)
        if (strcmp(r->series[i].name, name) == 0)
            return (long)i;
    return -1;
}

gvb_series *gvb_result_series(gvb_result *r, const char *name)
{
    long k = series_index(r, name);
    if (k >= 0)
        return &r->series[k];
    gvb_series *s = realloc(r->series, (r->n_series + 1) * sizeof *s);
    if (!s)
        return NULL;
    r->series = s;
    s = &r->series[r->n_series];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    if (!s->name)
        return NULL;
    r->n_series++;
    return s;
}

size_t gvb_result_groups(const gvb_result *r, size_t *sizes, size_t max)
{
    const gvb_series *g = &r->replicate_sizes;
    size_t sum = 0;
    if (g->n == 0 || g->n > max)
        return 0;
    /* each count is checked against what is left before it is converted or added: counts
     * that wrap around 2^64 must not "add up", nor may 1e300 be cast */
    for (size_t i = 0; i < g->n; i++) {
        double left = (double)(r->samples.n - sum);
        if (!(g->v[i] >= 0 && g->v[i] <= left) || g->v[i] != floor(g->v[i]))
            return 0;
        sizes[i] = (size_t)g->v[i];
        sum += sizes[i];
    }
    return sum == r->samples.n ? g->n : 0;
}

size_t gvb_result_replicates(const gvb_result *r)
{
    size_t sizes[GVB_RESULT_MAX_GROUPS];
    size_t g = gvb_result_groups(r, sizes, GVB_RESULT_MAX_GROUPS);
    return r->samples.n == 0 ? 0 : gvb_group_count(r->samples.n, g ? sizes : NULL, g);
}

int gvb_result_value_is_median(const gvb_result *r)
{
    if (!r->has_value)
        return 1;
    double m = r->stats.median;
    return r->stats.n > 0 && fabs(r->value - m) <= 1e-9 * fmax(1.0, fabs(m));
}

const gvb_series *gvb_series_lookup(const gvb_result *r, const char *name)
{
    long k = series_index(r, name);
    return k >= 0 ? &r->series[k] : NULL;
}

size_t gvb_result_replicate_values(const gvb_result *r, double *out, size_t max)
{
    if (r->status != GVB_OK || max == 0)
        return 0;
    const gvb_series *own = gvb_series_lookup(r, "replicate_values");
    /* the runner writes replicate_values exactly when the metric set its value: use them
     * whenever present (a set value may equal the pooled median by chance) */
    if (own && own->n > 0 && r->has_value) {
        size_t n = own->n <= max ? own->n : 0;
        for (size_t i = 0; i < n; i++)
            out[i] = own->v[i];
        return n;
    }
    if (r->has_value && !gvb_result_value_is_median(r))
        return 0; /* the metric's own value, and nothing recorded per replicate */
    if (r->samples.n == 0)
        return 0;
    size_t sizes[GVB_RESULT_MAX_GROUPS];
    size_t g = gvb_result_groups(r, sizes, GVB_RESULT_MAX_GROUPS), n = 0, off = 0;
    if (g == 0) {
        out[0] = gvb_median(r->samples.v, r->samples.n);
        return 1;
    }
    for (size_t k = 0; k < g && n < max; k++) {
        if (sizes[k] > 0)
            out[n++] = gvb_median(r->samples.v + off, sizes[k]);
        off += sizes[k];
    }
    return n;
}

gvb_claim_outcome gvb_result_claim(const gvb_result *a, const gvb_result *b, int paired,
                                   gvb_claim *c)
{
    double va[GVB_CLAIM_MAX], vb[GVB_CLAIM_MAX];
    size_t na = gvb_result_replicate_values(a, va, GVB_CLAIM_MAX);
    size_t nb = gvb_result_replicate_values(b, vb, GVB_CLAIM_MAX);
    if (na == 0 || nb == 0)
        return GVB_CLAIM_NO_VALUES;
    if (na < 2 || nb < 2)
        return GVB_CLAIM_ONE_REPLICATE;
    if (gvb_claim_test(va, na, vb, nb, paired && na == nb, GVB_CLAIM_LEVEL, c) != 0 ||
        !isfinite(c->lo) || !isfinite(c->hi))
        return GVB_CLAIM_NO_INTERVAL;
    return GVB_CLAIM_OK;
}

int gvb_result_value_ci(const gvb_result *r, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (r->stats.n < 2 || !gvb_result_value_is_median(r))
        return -1;
    gvb_result_ci(r, lo, hi);
    return isfinite(*lo) && isfinite(*hi) ? 0 : -1;
}

double gvb_result_median_or_extra(const gvb_result *r, const char *name)
{
    const gvb_series *s = gvb_series_lookup(r, name);
    return s && s->n ? gvb_median(s->v, s->n) : gvb_kv_num(&r->extras, name);
}

const char *gvb_claim_why(gvb_claim_outcome outcome, const char *metric)
{
    const gvb_metric_def *d = metric ? gvb_metric_find(metric) : NULL;
    switch (outcome) {
    case GVB_CLAIM_NO_VALUES:
        return "the primary value is the metric's own and has no per-replicate values to "
               "compare";
    case GVB_CLAIM_ONE_REPLICATE:
        /* process-to-process variation is often far larger than a process's own spread;
         * with one process group per system it is unknown */
        if (d && d->impl && d->impl->one_replicate)
            return "measured in one process group by design (a check whose further groups "
                   "repeat the outcome): no between-process variation to compare with";
        return "one process per system (between-process variation unknown; run with "
               "--replicates >= 2)";
    case GVB_CLAIM_NO_INTERVAL:
        return "no confidence interval could be computed";
    case GVB_CLAIM_OK:
        break;
    }
    return "";
}

int gvb_unit_is_time(const char *u)
{
    return !strcmp(u, "ns") || !strcmp(u, "us") || !strcmp(u, "ms") || !strcmp(u, "s");
}

int gvb_key_names_peak(const char *key)
{
    char low[128];
    size_t i = 0;
    for (; key[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)key[i]);
    low[i] = '\0';
    return strstr(low, "pct_of_peak") || strstr(low, "% of peak") ||
           strstr(low, "percent_of_peak");
}

unsigned gvb_result_implausible(const gvb_result *r, int is_model)
{
    unsigned bad = 0;
    for (size_t i = 0; i < r->extras.n; i++) {
        const gvb_kv_item *it = &r->extras.items[i];
        if (!it->is_text && gvb_key_names_peak(it->key) && it->num > 100)
            bad |= GVB_IMPLAUSIBLE_ABOVE_PEAK;
    }
    if (r->status != GVB_OK || r->samples.n == 0 || r->direction == GVB_PASS)
        return bad;
    if (gvb_unit_is_time(r->unit) && r->stats.median < 0)
        bad |= GVB_IMPLAUSIBLE_NEGATIVE_TIME;
    /* a metric whose trials agree exactly by design (a search at a fixed resolution) says so
     * in its extra "deterministic"; then identical samples are its answer, not a copy */
    if (r->samples.n >= 10 && r->stats.min == r->stats.max && !is_model &&
        !gvb_kv_get(&r->extras, "deterministic"))
        bad |= GVB_IMPLAUSIBLE_IDENTICAL;
    return bad;
}

void gvb_result_free(gvb_result *r)
{
    gvb_series_free(&r->samples);
    gvb_series_free(&r->replicate_sizes);
    for (size_t i = 0; i < r->n_series; i++)
        gvb_series_free(&r->series[i]);
    free(r->series);
    gvb_kv_free(&r->extras);
    memset(r, 0, sizeof *r);
}

int gvb_run_interleaved(const gvb_run *run)
{
    const char *order = run ? gvb_kv_text(&run->config, "system_order") : NULL;
    return order && strcmp(order, GVB_ORDER_INTERLEAVED) == 0;
}

int gvb_kind_is_baseline(const char *kind)
{
    return kind && strcmp(kind, GVB_BASELINE_KIND) == 0;
}

gvb_result *gvb_run_add_result(gvb_run *run)
{
    if (run->n_results == run->cap_results) {
        size_t cap = run->cap_results ? run->cap_results * 2 : 64;
        gvb_result *r = realloc(run->results, cap * sizeof *r);
        if (!r)
            return NULL;
        run->results = r;
        run->cap_results = cap;
    }
    gvb_result *r = &run->results[run->n_results++];
    memset(r, 0, sizeof *r);
    r->value = NAN;
    r->stats.ci_lo = r->stats.ci_hi = NAN;
    return r;
}

gvb_system_record *gvb_run_add_system(gvb_run *run, const char *name, const char *kind)
{
    gvb_system_record *s = realloc(run->systems, (run->n_systems + 1) * sizeof *s);
    if (!s)
        return NULL;
    run->systems = s;
    s = &run->systems[run->n_systems++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    return s;
}

const gvb_result *gvb_run_find(const gvb_run *run, const char *system, const char *metric)
{
    for (size_t i = 0; i < run->n_results; i++)
        if (strcmp(run->results[i].system, system) == 0 &&
            strcmp(run->results[i].metric, metric) == 0)
            return &run->results[i];
    return NULL;
}

const gvb_result *gvb_run_find_baseline(const gvb_run *run, const char *metric)
{
    for (size_t i = 0; i < run->n_systems; i++)
        if (gvb_kind_is_baseline(run->systems[i].kind))
            return gvb_run_find(run, run->systems[i].name, metric);
    /* no systems recorded (results assembled by hand): the kind is the name before '@' */
    size_t k = strlen(GVB_BASELINE_KIND);
    for (size_t i = 0; run->n_systems == 0 && i < run->n_results; i++) {
        const char *s = run->results[i].system;
        if (strncmp(s, GVB_BASELINE_KIND, k) == 0 && (s[k] == '\0' || s[k] == '@') &&
            strcmp(run->results[i].metric, metric) == 0)
            return &run->results[i];
    }
    return NULL;
}

void gvb_run_free(gvb_run *run)
{
    for (size_t i = 0; i < run->n_results; i++)
        gvb_result_free(&run->results[i]);
    free(run->results);
    for (size_t i = 0; i < run->n_systems; i++) {
        gvb_kv_free(&run->systems[i].config);
        gvb_kv_free(&run->systems[i].activation);
    }
    free(run->systems);
    for (int i = 0; i < run->argc; i++)
        free(run->argv[i]);
    free(run->argv);
    gvb_kv_free(&run->host);
    gvb_kv_free(&run->gpu);
    gvb_kv_free(&run->config);
    memset(run, 0, sizeof *run);
}

/* Statistics from the samples; with_ci 0 leaves the bootstrap to gvb_result_ci. */
static void finish(gvb_result *r, unsigned long long seed, int with_ci)
{
    uint64_t s = gvb_seed_mix(gvb_seed_mix(seed, r->system), r->metric);
    size_t sizes[GVB_RESULT_MAX_GROUPS];
    size_t g = gvb_result_groups(r, sizes, GVB_RESULT_MAX_GROUPS);
    for (size_t i = 0; i < r->n_series; i++) {
        gvb_series *x = &r->series[i];
        x->stats_n = 0;
        if (with_ci && x->n > 0 && gvb_stats_compute(x->v, x->n, 1, &x->stats) == 0)
            x->stats_n = x->n;
    }
    r->ci_deferred = !with_ci;
    r->ci_seed = s;
    /* with >= 2 replicates the CI of the median is the two-stage bootstrap's: it includes
     * the process-to-process variation */
    int rc = r->samples.n == 0 ? -1
             : with_ci ? gvb_stats_compute_grouped(r->samples.v, r->samples.n, g ? sizes : NULL,
                                                   g, s, &r->stats)
                       : gvb_stats_describe(r->samples.v, r->samples.n, &r->stats);
    if (rc == 0 && !r->has_value && r->status == GVB_OK) {
        r->value = r->stats.median;
        r->has_value = 1;
    }
}

void gvb_result_finish(gvb_result *r, unsigned long long seed) { finish(r, seed, 1); }

void gvb_result_describe(gvb_result *r, unsigned long long seed) { finish(r, seed, 0); }

void gvb_result_ci(const gvb_result *r, double *lo, double *hi)
{
    *lo = r->stats.ci_lo;
    *hi = r->stats.ci_hi;
    if (!r->ci_deferred || r->stats.n == 0)
        return;
    size_t sizes[GVB_RESULT_MAX_GROUPS];
    size_t g = gvb_result_groups(r, sizes, GVB_RESULT_MAX_GROUPS);
    gvb_bootstrap_median_ci_grouped(r->samples.v, r->samples.n, g ? sizes : NULL, g, r->ci_seed,
                                    GVB_BOOTSTRAP_RESAMPLES, GVB_CI_LEVEL, lo, hi);
}

int gvb_config_seed(const gvb_kv *config, uint64_t *seed)
{
    const gvb_kv_item *it = gvb_kv_get(config, "seed");
    *seed = 0;
    if (!it)
        return 0;
    if (it->is_text) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(it->text, &end, 10);
        if (errno || !isdigit((unsigned char)it->text[0]) || *end)
            return -1;
        *seed = v;
        return 0;
    }
    /* 2^64 itself is the first value that does not fit: casting it (or 1e300, or -1) is
     * undefined */
    if (!(it->num >= 0 && it->num < 18446744073709551616.0) || it->num != floor(it->num))
        return -1;
    *seed = (uint64_t)it->num;
    return 0;
}
