/* The claim rule: when may the suite say that two systems differ on a metric?
 *
 * The unit of evidence is the replicate: one run of the metric's tenant processes, fresh
 * processes each time. A replicate's value (its samples' median, or the value the metric set)
 * carries everything that varies from process to process; samples within one process do not.
 * So the rule works on the replicates' values, a's and b's:
 *
 * - paired, when both were measured in one run whose systems were interleaved round by round
 *   (replicate k of each in round k, seconds apart): the differences of round k cancel what
 *   the machine did during that round (a host that changes speed over minutes);
 * - unpaired (Welch), otherwise (different runs, a baseline file, old files).
 *
 * On the log scale when every value is positive (the effect is a ratio a/b, null 1), else on
 * the values themselves (a difference a - b, null 0). Student's t interval at `level`; the
 * claim is that the interval excludes the null. With R replicates a side the interval has
 * R - 1 (paired) degrees of freedom or Welch's, so few replicates give wide intervals rather
 * than false claims. The half-width of the interval is the smallest difference that run could
 * have claimed (the minimum detectable effect). Pure C, no allocation. docs/report.md. */
#ifndef GVB_CLAIM_H
#define GVB_CLAIM_H

#include <stddef.h>

/* The confidence level of every claim the suite makes (report, --compare, validate): 1 - 1/40,
 * so a report of the ~40 metrics one GPU can test makes about one false claim where nothing
 * differs (docs/report.md, "Defaults": measured A/A and real effects on the H200). */
#define GVB_CLAIM_LEVEL 0.975
/* The most replicate values a side may have (the runner's limit is 64). */
#define GVB_CLAIM_MAX 256

typedef struct gvb_claim {
    int paired;   /* rounds paired (else Welch) */
    int is_ratio; /* log scale: est, lo, hi are ratios a/b; else differences a - b */
    size_t na, nb;
    double df;
    double est, lo, hi; /* the effect and its interval at the level asked */
    /* smallest effect this test could claim: the interval's half-width, as a fraction of 1
     * for a ratio (0.05: no difference larger than 5 %), in the metric's unit for a difference */
    double mde;
    int differs; /* the interval excludes the null */
} gvb_claim;

/* Tests a against b (values of the replicates, in round order when paired; paired needs
 * na == nb). Returns 0, or -1 when a side has fewer than 2 values, a value is not finite, or
 * paired with na != nb. Zero spread with a non-null effect is a claim (every replicate says
 * the same) from 3 replicates (pairs) up, none with 2 (steps repeat by chance); with a null
 * effect it is none. */
int gvb_claim_test(const double *a, size_t na, const double *b, size_t nb, int paired,
                   double level, gvb_claim *out);

/* Two-sided quantile of Student's t with df degrees of freedom (df > 0, not necessarily whole):
 * the t with P(|T| <= t) = level. NAN for bad arguments. */
double gvb_t_quantile(double df, double level);
/* P(T <= t) for Student's t with df degrees of freedom. */
double gvb_t_cdf(double t, double df);

#endif
