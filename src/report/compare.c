/* Comparison of a run against a baseline run (--compare): for every metric measured OK in
 * both, the ratio of medians with its bootstrap 95 % CI (two-stage: replicates, then samples
 * within them) and a label. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "stats/claim.h"

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

void gvb_compare_one(const gvb_result *r, const gvb_result *b, gvb_cmp_entry *e)
{
    e->both_ok = r->status == GVB_OK && b->status == GVB_OK;
    e->ratio = e->lo = e->hi = e->mde = NAN;
    e->is_ratio = 1;
    e->label = GVB_CMP_UNSURE;
    e->why = NULL;
    if (!e->both_ok)
        return;
    if (strcmp(r->unit, b->unit) != 0) { /* a workload's figures, --metric-name: two programs' */
        e->why = "its unit differs from the baseline's: not the same figure";
        return;
    }
    /* two runs: their replicates are not paired (claim.h); Welch's interval */
    gvb_claim c;
    gvb_claim_outcome o = gvb_result_claim(r, b, 0, &c);
    if (o != GVB_CLAIM_OK) {
        e->why = gvb_claim_why(o, r->metric);
        return;
    }
    e->is_ratio = c.is_ratio;
    e->ratio = c.est;
    e->lo = c.lo;
    e->hi = c.hi;
    e->mde = c.mde;
    if (c.is_ratio) {
        e->label = gvb_cmp_classify(c.lo, c.hi, r->direction, GVB_CMP_TOLERANCE);
    } else if (c.differs && r->direction != GVB_PASS) {
        /* a difference (values of both signs): no relative band for SAME */
        e->label = (c.lo > 0) == (r->direction == GVB_HIGHER) ? GVB_CMP_BETTER : GVB_CMP_WORSE;
    }
}

int gvb_compare_write(FILE *f, const gvb_run *cur, const gvb_run *base)
{
    char ci_head[32];
    snprintf(ci_head, sizeof ci_head, "%g%% CI", GVB_CLAIM_LEVEL * 100);
    fprintf(f, "%-10s %-10s %-10s %12s %12s %10s %-22s %8s %s\n", "metric", "system", "baseline",
            "value", "base value", "effect", ci_head, "mde", "label");
    for (size_t i = 0; i < cur->n_results; i++) {
        const gvb_result *r = &cur->results[i];
        const gvb_result *b = gvb_compare_match(base, r);
        if (!b)
            continue;
        gvb_cmp_entry e;
        gvb_compare_one(r, b, &e);
        char m1[32], m2[32], rt[32], lo[32], hi[32], md[32];
        if (!e.both_ok) {
            fprintf(f, "%-10s %-10s %-10s %12s %12s %10s %-22s %8s %s (current %s, baseline %s)\n",
                    r->metric, r->system, b->system, "-", "-", "-", "", "-", "UNSURE",
                    gvb_status_name(r->status), gvb_status_name(b->status));
            continue;
        }
        char ci[64] = "", eff[40] = "-", mde[40] = "-";
        if (isfinite(e.ratio)) {
            snprintf(ci, sizeof ci, "[%s, %s]", gvb_fmt_num(e.lo, lo, sizeof lo),
                     gvb_fmt_num(e.hi, hi, sizeof hi));
            snprintf(eff, sizeof eff, "%s%s", e.is_ratio ? "x" : "", gvb_fmt_num(e.ratio, rt, sizeof rt));
            if (e.is_ratio)
                snprintf(mde, sizeof mde, "%.3g%%", e.mde * 100);
            else
                snprintf(mde, sizeof mde, "%s", gvb_fmt_num(e.mde, md, sizeof md));
        }
        fprintf(f, "%-10s %-10s %-10s %12s %12s %10s %-22s %8s %s%s%s%s\n", r->metric, r->system,
                b->system, gvb_fmt_num(r->value, m1, sizeof m1),
                gvb_fmt_num(b->value, m2, sizeof m2), eff, ci, mde, gvb_cmp_label_name(e.label),
                e.why ? " (not testable: " : "", e.why ? e.why : "", e.why ? ")" : "");
    }
    return ferror(f) ? -1 : 0;
}
