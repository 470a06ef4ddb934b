/* validate's checks: each compares what a validation run measured with what was injected or
 * promised, and says PASS, FAIL or SKIP with the numbers (see validate.h). Pure C. */
#include "validate/validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/claim.h"
#include "stats/stats.h"

/* ---- checks ------------------------------------------------------------------------------- */

const char *gvb_check_status_name(gvb_check_status s)
{
    return s == GVB_CHECK_PASS ? "PASS" : s == GVB_CHECK_FAIL ? "FAIL" : "SKIP";
}

void gvb_check_init(gvb_check *c, const char *id, const char *what, const char *unit,
                    const char *op)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->what, sizeof c->what, "%s", what);
    snprintf(c->unit, sizeof c->unit, "%s", unit);
    snprintf(c->op, sizeof c->op, "%s", op);
    c->expected = c->measured = c->tolerance = NAN;
    c->status = GVB_CHECK_FAIL;
}

void gvb_check_verdict(gvb_check *c, gvb_check_status s, const char *fmt, ...)
{
    c->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

/* A result that must be OK to be checked: NULL with the check's verdict set otherwise. */
static const gvb_result *usable(const gvb_run *run, const char *system, const char *metric,
                                gvb_check *c)
{
    const gvb_result *r = run ? gvb_run_find(run, system, metric) : NULL;
    if (!r) {
        gvb_check_verdict(c, GVB_CHECK_SKIP, "%s not measured on %s", metric, system);
        return NULL;
    }
    if (r->status == GVB_SKIP) {
        gvb_check_verdict(c, GVB_CHECK_SKIP, "%s on %s: SKIP: %s", metric, system, r->reason);
        return NULL;
    }
    if (r->status != GVB_OK) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "%s on %s: %s: %s", metric, system,
                gvb_status_name(r->status), r->reason);
        return NULL;
    }
    return r;
}

static double series_median(const gvb_result *r, const char *series)
{
    if (!series)
        return r->has_value ? r->value : NAN;
    const gvb_series *s = gvb_series_lookup(r, series);
    return s ? gvb_median(s->v, s->n) : NAN;
}

static double num_or(const gvb_kv *kv, const char *key, double dflt)
{
    double v = gvb_kv_num(kv, key);
    return isfinite(v) ? v : dflt;
}

double gvb_delay_tolerance_us(double injected_us) { return fmax(0.10 * injected_us, 1.0); }

int gvb_system_in_group(const char *system, const char *group)
{
    size_t n = strlen(group);
    if (strncmp(system, group, n) != 0)
        return 0;
    if (system[n] == '\0')
        return 1;
    if ((system[n] != '@' && system[n] != '.') || !system[n + 1])
        return 0;
    for (const char *d = system + n + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return 0;
    return 1;
}

/* The per-process medians of metric in group, into v (at most max). Returns how many, or -1
 * with the verdict set when none was measured or a member is not OK. */
static int group_medians(const gvb_run *run, const char *group, const char *metric,
                         const char *series, double *v, int max, gvb_check *c)
{
    int n = 0;
    for (size_t i = 0; run && i < run->n_results && n < max; i++) {
        const gvb_result *r = &run->results[i];
        if (strcmp(r->metric, metric) != 0 || !gvb_system_in_group(r->system, group))
            continue;
        if (!usable(run, r->system, metric, c))
            return -1;
        double m = series_median(r, series);
        if (!isfinite(m)) {
            gvb_check_verdict(c, GVB_CHECK_FAIL, "%s on %s: no %s median", metric, r->system,
                    series ? series : "primary");
            return -1;
        }
        v[n++] = m;
    }
    if (n == 0)
        gvb_check_verdict(c, GVB_CHECK_SKIP, "%s not measured on %s", metric, group);
    return n ? n : -1;
}

static void range_of(const double *v, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
}

#define MAX_REPLICATES 64

void gvb_check_delay(const gvb_run *run, const char *base, const char *layer, const char *metric,
                     const char *series, double injected_us, gvb_check *c)
{
    c->expected = injected_us;
    c->tolerance = gvb_delay_tolerance_us(injected_us);
    double vb[MAX_REPLICATES], vl[MAX_REPLICATES];
    int nb = group_medians(run, base, metric, series, vb, MAX_REPLICATES, c);
    int nl = nb > 0 ? group_medians(run, layer, metric, series, vl, MAX_REPLICATES, c) : -1;
    if (nb <= 0 || nl <= 0)
        return;
    double mb = gvb_median(vb, (size_t)nb), ml = gvb_median(vl, (size_t)nl), bl, bh, ll, lh;
    range_of(vb, nb, &bl, &bh);
    range_of(vl, nl, &ll, &lh);
    c->measured = ml - mb;
    gvb_check_verdict(c, fabs(c->measured - c->expected) <= c->tolerance ? GVB_CHECK_PASS : GVB_CHECK_FAIL,
            "median of per-process medians: %s %.2f us (%d processes, %.2f-%.2f), %s %.2f us "
            "(%d, %.2f-%.2f)",
            layer, ml, nl, ll, lh, base, mb, nb, bl, bh);
}

static const gvb_system_record *find_system(const gvb_run *run, const char *name)
{
    for (size_t i = 0; run && i < run->n_systems; i++)
        if (strcmp(run->systems[i].name, name) == 0)
            return &run->systems[i];
    return NULL;
}

void gvb_check_mem(const gvb_run *run, const char *system, uint64_t cap, gvb_check *c)
{
    const gvb_result *r = usable(run, system, "IS-001", c);
    if (!r)
        return;
    const gvb_system_record *sys = find_system(run, system);
    double charge = sys ? num_or(&sys->activation, "context_charge_bytes", 0) : 0;
    if (charge <= 0) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "the layer's activation proof reported no context charge");
        return;
    }
    const double mib = 1024.0 * 1024.0;
    c->expected = ((double)cap - charge) / mib;
    c->tolerance = 0.01 * c->expected;
    double usable_b = num_or(&r->extras, "usable_bytes", NAN);
    if (!isfinite(usable_b) && r->has_value)
        usable_b = r->value / 100.0 * (double)cap; /* IS-001 is % of the configured limit */
    if (!isfinite(usable_b)) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "IS-001 reported neither usable_bytes nor a value");
        return;
    }
    c->measured = usable_b / mib;
    gvb_check_verdict(c, fabs(c->measured - c->expected) <= c->tolerance ? GVB_CHECK_PASS : GVB_CHECK_FAIL,
            "cap %.0f MiB - context charge %.0f MiB (the layer's proof)", (double)cap / mib,
            charge / mib);
}

void gvb_check_duty(const gvb_run *run, const char *system, int duty, gvb_check *c)
{
    c->expected = duty;
    c->tolerance = 5;
    const gvb_result *r = usable(run, system, "IS-003", c);
    if (!r)
        return;
    if (!r->has_value) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "IS-003 has no value");
        return;
    }
    /* accuracy = 100 (1 - |achieved - p| / p): the distance from p, whichever side */
    double dev = duty * (1.0 - fmax(0.0, r->value) / 100.0);
    double achieved = gvb_result_median_or_extra(r, "achieved_unsync_pct");
    c->measured = isfinite(achieved) ? achieved : duty + dev;
    gvb_check_verdict(c, dev <= c->tolerance ? GVB_CHECK_PASS : GVB_CHECK_FAIL,
            "accuracy %.1f %% = %.1f pp from %d %%%s", r->value, dev, duty,
            isfinite(achieved) ? "" : " (side unknown: measured shown as duty + distance)");
}

void gvb_check_aa(const gvb_run *run, const char *a, const char *b, gvb_check *c)
{
    c->expected = GVB_AA_MAX_CLAIM_PCT;
    int paired = gvb_run_interleaved(run);
    int compared = 0, claims = 0;
    double mdes[GVB_METRIC_COUNT];
    size_t off = 0;
    char sig[256] = "";
    for (size_t i = 0; run && i < run->n_results; i++) {
        const gvb_result *ra = &run->results[i];
        const gvb_result *rb = strcmp(ra->system, a) == 0 ? gvb_run_find(run, b, ra->metric) : NULL;
        gvb_claim cl;
        /* as the report: a suspect result (above peak, identical samples) is in no claim */
        if (!rb || ra->direction == GVB_PASS || compared >= GVB_METRIC_COUNT ||
            ra->status != GVB_OK || rb->status != GVB_OK || gvb_result_implausible(ra, 0) ||
            gvb_result_implausible(rb, 0))
            continue;
        /* b against a, as the report compares a layer against native */
        if (gvb_result_claim(rb, ra, paired, &cl) != GVB_CLAIM_OK)
            continue;
        mdes[compared++] = cl.is_ratio ? cl.mde * 100 : NAN;
        if (!cl.differs)
            continue;
        claims++;
        if (off < sizeof sig)
            off += (size_t)snprintf(sig + off, sizeof sig - off, "%s%s %.3g [%.3g, %.3g]",
                                    off ? "; " : "", ra->metric, cl.est, cl.lo, cl.hi);
    }
    if (compared == 0) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "no metric was measured OK in >= 2 replicates on both %s and %s",
                a, b);
        return;
    }
    size_t nr = 0;
    for (int i = 0; i < compared; i++)
        if (isfinite(mdes[i]))
            mdes[nr++] = mdes[i];
    double mde = nr ? gvb_median(mdes, nr) : NAN;
    c->measured = 100.0 * claims / compared;
    gvb_check_verdict(c, c->measured <= c->expected ? GVB_CHECK_PASS : GVB_CHECK_FAIL,
            "%d of %d testable metrics claimed different (%s, %g %% CI%s); median detectable "
            "effect %.2g %%%s%s",
            claims, compared, paired ? "paired by round" : "unpaired", GVB_CLAIM_LEVEL * 100,
            paired ? "" : ": the run was not interleaved", mde, claims ? "; claimed: " : "", sig);
}

void gvb_check_peak(const gvb_run *const *runs, size_t n, gvb_check *c)
{
    c->expected = 100;
    int found = 0;
    char where[160] = "";
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; runs[k] && i < runs[k]->n_results; i++) {
            const gvb_result *r = &runs[k]->results[i];
            for (size_t j = 0; j < r->extras.n; j++) {
                const gvb_kv_item *it = &r->extras.items[j];
                if (it->is_text || !strstr(it->key, "pct_of_peak") || !isfinite(it->num))
                    continue;
                if (!found || it->num > c->measured) {
                    c->measured = it->num;
                    snprintf(where, sizeof where, "%s on %s: %s", r->metric, r->system, it->key);
                }
                found++;
            }
        }
    }
    if (!found) {
        gvb_check_verdict(c, GVB_CHECK_SKIP, "no metric in these runs reports a %% of peak (*pct_of_peak*)");
        return;
    }
    gvb_check_verdict(c, c->measured <= 100 ? GVB_CHECK_PASS : GVB_CHECK_FAIL,
            "highest of %d: %s", found, where);
}

void gvb_check_inert(const gvb_run *run, int exit_code, const char *system, const char *how,
                     gvb_check *c)
{
    c->expected = 5;
    c->measured = exit_code;
    int n = 0, inert = 0;
    const char *reason = "";
    for (size_t i = 0; run && i < run->n_results; i++) {
        const gvb_result *r = &run->results[i];
        if (strcmp(r->system, system) != 0)
            continue;
        n++;
        if (r->status == GVB_INERT) {
            inert++;
            reason = r->reason;
        }
    }
    if (n == 0) {
        gvb_check_verdict(c, GVB_CHECK_FAIL, "%s: no result of %s (exit %d)", how, system, exit_code);
        return;
    }
    int ok = inert == n && exit_code == 5;
    gvb_check_verdict(c, ok ? GVB_CHECK_PASS : GVB_CHECK_FAIL, "%s: %d of %d results INERT%s%s", how,
            inert, n, *reason ? ": " : "", reason);
}

/* r's host reference drift and its correlation with r's primary samples (NAN: no reference
 * taken with the primary samples). Returns 1 when r's CI width is its host's. */
static int host_explains(const gvb_result *r, double *drift, double *corr)
{
    *drift = *corr = NAN;
    for (size_t i = 0; i < r->n_series; i++) {
        const gvb_series *s = &r->series[i];
        if (strcmp(s->name, GVB_HOST_REF_SERIES) != 0 || s->n != r->samples.n)
            continue;
        *drift = gvb_block_drift_pct(s->v, s->n, GVB_HOST_DRIFT_BLOCKS);
        *corr = gvb_block_corr(r->samples.v, s->v, s->n, GVB_HOST_DRIFT_BLOCKS);
    }
    return *drift > GVB_HOST_DRIFT_MAX_PCT && *corr >= GVB_HOST_CORR_MIN;
}

void gvb_check_ci_width(const gvb_run *run, const char *a, const char *b, const char *metric,
                        gvb_check *c)
{
    c->expected = GVB_CI_MAX_HALF_PCT;
    int n = 0, over = 0, host = 0;
    double worst = -1, worst_drift = NAN, worst_corr = NAN;
    char at[48] = "";
    for (size_t i = 0; run && i < run->n_results; i++) {
        const gvb_result *r = &run->results[i];
        if (strcmp(r->metric, metric) != 0 ||
            !(gvb_system_in_group(r->system, a) || gvb_system_in_group(r->system, b)))
            continue;
        if (r->status != GVB_OK) {
            gvb_check_verdict(c, GVB_CHECK_FAIL, "%s on %s: %s: %s", metric, r->system,
                    gvb_status_name(r->status), r->reason);
            return;
        }
        gvb_stats st = r->stats; /* read back: its CI is computed when asked for */
        gvb_result_ci(r, &st.ci_lo, &st.ci_hi);
        double half = gvb_ci_half_width_pct(&st);
        if (!isfinite(half)) {
            gvb_check_verdict(c, GVB_CHECK_FAIL, "%s on %s has no CI of its median", metric, r->system);
            return;
        }
        double drift, corr;
        int hosts = host_explains(r, &drift, &corr);
        n++;
        if (half > GVB_CI_MAX_HALF_PCT)
            hosts ? host++ : over++;
        if (half > worst) {
            worst = half;
            worst_drift = drift;
            worst_corr = corr;
            snprintf(at, sizeof at, "%s", r->system);
        }
    }
    if (n == 0) {
        gvb_check_verdict(c, GVB_CHECK_SKIP, "%s not measured on %s or %s", metric, a, b);
        return;
    }
    c->measured = worst;
    char ref[96] = "no host reference";
    if (isfinite(worst_drift))
        snprintf(ref, sizeof ref, "host reference drift %.1f %%, correlation %.2f", worst_drift,
                 worst_corr);
    if (over)
        gvb_check_verdict(c, GVB_CHECK_FAIL,
                "widest of %d processes: %s (%s); %d above %.0f %% not explained by the host, "
                "%d by the host",
                n, at, ref, over, GVB_CI_MAX_HALF_PCT, host);
    else if (host)
        gvb_check_verdict(c, GVB_CHECK_SKIP,
                "%d of %d processes above %.0f %% (widest %s: %s), each moving with its host "
                "reference (drift > %.0f %%, correlation >= %.2f): the host changed speed, the "
                "precision is not shown",
                host, n, GVB_CI_MAX_HALF_PCT, at, ref, GVB_HOST_DRIFT_MAX_PCT, GVB_HOST_CORR_MIN);
    else
        gvb_check_verdict(c, GVB_CHECK_PASS, "widest of %d processes: %s (%s); 0 above %.0f %%", n, at,
                ref, GVB_CI_MAX_HALF_PCT);
}

double gvb_ci_half_width_pct(const gvb_stats *s)
{
    if (!s || !isfinite(s->ci_lo) || !isfinite(s->ci_hi) || !isfinite(s->median) ||
        s->median == 0)
        return NAN;
    return (s->ci_hi - s->ci_lo) / 2.0 / fabs(s->median) * 100.0;
}
