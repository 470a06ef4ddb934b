/* Summary statistics from real samples: moments, percentiles, seeded bootstrap confidence
 * intervals of the median and of the ratio of two medians (one-stage, and two-stage for samples
 * that come in groups such as replicate processes), Jain's fairness index.
 * Pure C: no I/O, no globals; every random choice comes from the caller's seed. */
#ifndef GVB_STATS_H
#define GVB_STATS_H

#include <stddef.h>
#include <stdint.h>

#define GVB_BOOTSTRAP_RESAMPLES 2000
#define GVB_CI_LEVEL 0.95

typedef struct gvb_stats {
    size_t n;
    double mean, median, stdev, cv, min, max;
    double p50, p95, p99;
    double ci_lo, ci_hi; /* bootstrap 95 % CI of the median (NAN when n < 2) */
} gvb_stats;

/* Deterministic generator (splitmix64 seeding + xoshiro256**). */
typedef struct gvb_rng { uint64_t s[4]; } gvb_rng;
void gvb_rng_seed(gvb_rng *r, uint64_t seed);
uint64_t gvb_rng_next(gvb_rng *r);
/* Uniform integer in [0, bound) without modulo bias. */
uint64_t gvb_rng_below(gvb_rng *r, uint64_t bound);
double gvb_rng_unit(gvb_rng *r); /* [0, 1) */
/* Mix a string into a seed (FNV-1a), so each (system, metric) gets its own stream. */
uint64_t gvb_seed_mix(uint64_t seed, const char *s);

/* Percentile p in [0,100] of sorted data, linear interpolation between closest ranks
 * (numpy's default, Hyndman-Fan type 7). */
double gvb_percentile_sorted(const double *sorted, size_t n, double p);
/* Sorts v ascending in place. */
void gvb_sort_doubles(double *v, size_t n);
/* Median of x (not modified). Returns NAN for n == 0. */
double gvb_median(const double *x, size_t n);

/* Sums of centred products of n pairs: sxx = sum (x - mean x)^2, syy likewise, sxy =
 * sum (x - mean x)(y - mean y) (least-squares slopes and correlations). -1 when n < 2. */
int gvb_centred_sums(const double *x, const double *y, size_t n, double *sxx, double *syy,
                     double *sxy);
/* How far a series drifted over time: x cut into `blocks` consecutive blocks of equal size
 * (the first n % blocks samples left out), (max / min of the blocks' medians - 1) x 100.
 * NAN when a block would hold fewer than 5 samples or a block median is not positive. */
double gvb_block_drift_pct(const double *x, size_t n, size_t blocks);
/* Pearson correlation of the block medians (blocks as gvb_block_drift_pct) of two series
 * taken together, x[i] with y[i]: whether x moved with y over time. NAN as above, or when
 * either set of block medians is constant. */
double gvb_block_corr(const double *x, const double *y, size_t n, size_t blocks);

/* Fills *out from n samples but the bootstrap CI (ci_lo/ci_hi NAN): what a sort gives.
 * Returns 0, or -1 when n == 0 or a sample is not finite. */
int gvb_stats_describe(const double *x, size_t n, gvb_stats *out);
/* Fills *out from n samples. Returns 0, or -1 when n == 0 or a sample is not finite. */
int gvb_stats_compute(const double *x, size_t n, uint64_t seed, gvb_stats *out);
/* The same for samples in groups (see the grouped bootstrap below): ci_lo/ci_hi come from the
 * two-stage bootstrap when there are >= 2 groups. */
int gvb_stats_compute_grouped(const double *x, size_t n, const size_t *sizes, size_t ngroups,
                              uint64_t seed, gvb_stats *out);

/* Percentile-bootstrap CI of the median, b resamples. Returns 0 or -1 (n < 2). */
int gvb_bootstrap_median_ci(const double *x, size_t n, uint64_t seed, int b, double level,
                            double *lo, double *hi);

/* Ratio median(a) / median(b) and its percentile-bootstrap CI, resampling a and b
 * independently. Returns 0, or -1 if either has < 2 samples or median(b) == 0. */
int gvb_bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
                           int resamples, double level, double *ratio, double *lo, double *hi);

/* Difference median(a) - median(b) and its percentile-bootstrap CI (same resampling as the
 * ratio), for quantities that can be zero or negative. Returns 0, or -1 if either has < 2
 * samples. */
int gvb_bootstrap_diff_ci(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
                          int resamples, double level, double *diff, double *lo, double *hi);

/* ---- grouped (hierarchical) bootstrap ----
 * Samples that come in groups (one group = the samples of one process, or one process group):
 * x holds the groups one after another, sizes[g] samples each (sum = n; empty groups are
 * ignored). The two-stage percentile bootstrap resamples the groups with replacement, then the
 * samples within each chosen group with replacement, pools them and takes the median. The
 * process-to-process variation thus enters the interval, which a one-stage bootstrap of the
 * pooled samples leaves out. With one group (or sizes NULL / ngroups 0) each function is
 * exactly its one-stage counterpart above. Same return values as those. */
int gvb_bootstrap_median_ci_grouped(const double *x, size_t n, const size_t *sizes,
                                    size_t ngroups, uint64_t seed, int b, double level,
                                    double *lo, double *hi);
/* Ratio of the pooled medians median(a) / median(b), with a's and b's medians bootstrapped
 * independently (a's first, from one stream), each in two stages. */
int gvb_bootstrap_ratio_ci_grouped(const double *a, size_t na, const size_t *sizes_a, size_t ga,
                                   const double *b, size_t nb, const size_t *sizes_b, size_t gb,
                                   uint64_t seed, int resamples, double level, double *ratio,
                                   double *lo, double *hi);
/* Difference of the pooled medians, as the ratio. */
int gvb_bootstrap_diff_ci_grouped(const double *a, size_t na, const size_t *sizes_a, size_t ga,
                                  const double *b, size_t nb, const size_t *sizes_b, size_t gb,
                                  uint64_t seed, int resamples, double level, double *diff,
                                  double *lo, double *hi);
/* Number of non-empty groups that sizes describe for n samples: 1 when sizes is NULL, empty,
 * or does not add up to n (data from before replicates: one group of everything). */
size_t gvb_group_count(size_t n, const size_t *sizes, size_t ngroups);

/* Jain's fairness index (sum x)^2 / (n sum x^2), in (0, 1]; NAN for n == 0 or all zero. */
double gvb_jain_index(const double *x, size_t n);

#endif
