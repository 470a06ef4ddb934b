/* Comparison of a run against a baseline run (--compare): for every metric measured OK in
 * both, the ratio of medians with its bootstrap 95 % CI (two-stage: replicates, then samples
 * within them) and a label. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

const char *gvb_cmp_label_name(gvb_cmp_label l)
{
    static const char *const names[] = {"SAME", "BETTER", "WORSE", "UNSURE"};
    return (l >= GVB_CMP_SAME && l <= GVB_CMP_UNSURE) ? names[l] : "?";
}

gvb_cmp_label gvb_cmp_classify(double lo, double hi, gvb_direction dir, double tolerance)
{
    if (!isfinite(lo) || !isfinite(hi) || dir == GVB_PASS)
        return GVB_CMP_UNSURE;
    /* equivalence first: a CI inside the band is SAME even if it excludes 1, so a real but
     * negligible shift (0.1 %) is not reported as a regression */
    if (lo >= 1.0 - tolerance && hi <= 1.0 + tolerance)
        return GVB_CMP_SAME;
    if (lo > 1.0)
        return dir == GVB_HIGHER ? GVB_CMP_BETTER : GVB_CMP_WORSE;
    if (hi < 1.0)
        return dir == GVB_HIGHER ? GVB_CMP_WORSE : GVB_CMP_BETTER;
    return GVB_CMP_UNSURE;
}

/* The baseline result to compare r with: same system and metric, or, when the baseline
 * measured that metric on exactly one system, that one (the older tool compared one system's
 * run against another system's file). */
const gvb_result *gvb_compare_match(const gvb_run *base, const gvb_result *r)
{
    const gvb_result *same = gvb_run_find(base, r->system, r->metric), *only = NULL;
    if (same)
        return same;
    int count = 0;
    for (size_t i = 0; i < base->n_results; i++) {
        if (strcmp(base->results[i].metric, r->metric) == 0) {
            only = &base->results[i];
            count++;
        }
    }
    return count == 1 ? only : NULL;
}

void gvb_compare_one(const gvb_result *r, const gvb_result *b, unsigned long long seed,
                     gvb_cmp_entry *e)
{
    e->both_ok = r->status == GVB_OK && b->status == GVB_OK;
    e->ratio = e->lo = e->hi = NAN;
    e->label = GVB_CMP_UNSURE;
    e->why = NULL;
    if (!e->both_ok)
        return;
    size_t sr[GVB_RESULT_MAX_GROUPS], sb[GVB_RESULT_MAX_GROUPS];
    size_t gr = gvb_result_groups(r, sr, GVB_RESULT_MAX_GROUPS);
    size_t gb = gvb_result_groups(b, sb, GVB_RESULT_MAX_GROUPS);
    gvb_bootstrap_ratio_ci_grouped(r->samples.v, r->samples.n, sr, gr, b->samples.v,
                                   b->samples.n, sb, gb, gvb_seed_mix(seed, r->metric),
                                   GVB_BOOTSTRAP_RESAMPLES, GVB_CI_LEVEL, &e->ratio, &e->lo,
                                   &e->hi);
    e->label = gvb_cmp_classify(e->lo, e->hi, r->direction, GVB_CMP_TOLERANCE);
    /* a difference between two runs with one process group each may be nothing but the
     * processes' own variation: no claim */
    if ((e->label == GVB_CMP_BETTER || e->label == GVB_CMP_WORSE) &&
        (gvb_result_replicates(r) < 2 || gvb_result_replicates(b) < 2)) {
        e->label = GVB_CMP_UNSURE;
        e->why = "one process per run (run-to-run variation unknown; run with --replicates >= 2)";
    }
}

int gvb_compare_write(FILE *f, const gvb_run *cur, const gvb_run *base, unsigned long long seed)
{
    fprintf(f, "%-10s %-10s %-10s %12s %12s %8s %-20s %s\n", "metric", "system", "baseline",
            "median", "base median", "ratio", "95% CI of ratio", "label");
    for (size_t i = 0; i < cur->n_results; i++) {
        const gvb_result *r = &cur->results[i];
        const gvb_result *b = gvb_compare_match(base, r);
        if (!b)
            continue;
        gvb_cmp_entry e;
        gvb_compare_one(r, b, seed, &e);
        char m1[32], m2[32], rt[32], lo[32], hi[32];
        if (!e.both_ok) {
            fprintf(f, "%-10s %-10s %-10s %12s %12s %8s %-20s %s (current %s, baseline %s)\n",
                    r->metric, r->system, b->system, "-", "-", "-", "", "UNSURE",
                    gvb_status_name(r->status), gvb_status_name(b->status));
            continue;
        }
        char ci[64];
        snprintf(ci, sizeof ci, "[%s, %s]", gvb_fmt_num(e.lo, lo, sizeof lo),
                 gvb_fmt_num(e.hi, hi, sizeof hi));
        fprintf(f, "%-10s %-10s %-10s %12s %12s %8s %-20s %s%s%s%s\n", r->metric, r->system,
                b->system, gvb_fmt_num(r->value, m1, sizeof m1),
                gvb_fmt_num(b->value, m2, sizeof m2), gvb_fmt_num(e.ratio, rt, sizeof rt), ci,
                gvb_cmp_label_name(e.label), e.why ? " (not testable: " : "", e.why ? e.why : "",
                e.why ? ")" : "");
    }
    return ferror(f) ? -1 : 0;
}
