/* Summary statistics and bootstrap confidence intervals, one-stage and grouped (see stats.h). */
#include "stats/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void gvb_rng_seed(gvb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gvb_rng_next(gvb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t gvb_rng_below(gvb_rng *r, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do
        v = gvb_rng_next(r);
    while (v >= limit);
    return v % bound;
}

double gvb_rng_unit(gvb_rng *r) { return (double)(gvb_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t gvb_seed_mix(uint64_t seed, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void gvb_sort_doubles(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }

double gvb_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[n - 1];
    double h = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (h - (double)lo) * (sorted[hi] - sorted[lo]);
}

/* k-th smallest (0-based) of a[0..n), reordering a so that a[i] <= a[k] for i < k and
 * a[i] >= a[k] for i > k (Wirth's selection). */
static double select_kth(double *a, size_t n, size_t k)
{
    long l = 0, m = (long)n - 1, kk = (long)k;
    while (l < m) {
        double x = a[kk];
        long i = l, j = m;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < kk)
            l = i;
        if (kk < i)
            m = j;
    }
    return a[k];
}

/* Median of a scratch array (reordered). */
static double median_inplace(double *a, size_t n)
{
    double hi = select_kth(a, n, n / 2);
    if (n % 2)
        return hi;
    /* the lower middle is the largest of the left part */
    double lo = a[0];
    for (size_t i = 1; i < n / 2; i++)
        if (a[i] > lo)
            lo = a[i];
    return (lo + hi) / 2;
}

double gvb_median(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return NAN;
    memcpy(tmp, x, n * sizeof *tmp);
    double m = median_inplace(tmp, n);
    free(tmp);
    return m;
}

int gvb_centred_sums(const double *x, const double *y, size_t n, double *sxx, double *syy,
                     double *sxy)
{
    if (n < 2)
        return -1;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    *sxx = *syy = *sxy = 0;
    for (size_t i = 0; i < n; i++) {
        *sxx += (x[i] - mx) * (x[i] - mx);
        *syy += (y[i] - my) * (y[i] - my);
        *sxy += (x[i] - mx) * (y[i] - my);
    }
    return 0;
}

/* The medians of x cut into `blocks` consecutive blocks of n / blocks samples (the first
 * n % blocks left out), into out[0..blocks). -1 when a block would hold fewer than 5. */
static int block_medians(const double *x, size_t n, size_t blocks, double *out)
{
    if (blocks == 0 || n / blocks < 5)
        return -1;
    size_t len = n / blocks, skip = n % blocks;
    for (size_t b = 0; b < blocks; b++)
        out[b] = gvb_median(x + skip + b * len, len);
    return 0;
}

double gvb_block_drift_pct(const double *x, size_t n, size_t blocks)
{
    double *m = blocks ? malloc(blocks * sizeof *m) : NULL;
    double lo = INFINITY, hi = -INFINITY;
    int ok = m && block_medians(x, n, blocks, m) == 0;
    for (size_t b = 0; ok && b < blocks; b++) {
        ok = m[b] > 0;
        lo = m[b] < lo ? m[b] : lo;
        hi = m[b] > hi ? m[b] : hi;
    }
    free(m);
    return ok ? (hi / lo - 1.0) * 100.0 : NAN;
}

double gvb_block_corr(const double *x, const double *y, size_t n, size_t blocks)
{
    if (blocks < 2)
        return NAN;
    double *mx = malloc(2 * blocks * sizeof *mx);
    double *my = mx ? mx + blocks : NULL;
    if (!mx || block_medians(x, n, blocks, mx) || block_medians(y, n, blocks, my)) {
        free(mx);
        return NAN;
    }
    double sxx, syy, sxy;
    gvb_centred_sums(mx, my, blocks, &sxx, &syy, &sxy);
    free(mx);
    if (!(sxx > 0) || !(syy > 0))
        return NAN;
    return sxy / sqrt(sxx * syy);
}

/* How the samples are grouped: offsets and sizes of the non-empty groups. One group of all
 * samples when the sizes are absent or do not describe the n samples. */
typedef struct groups {
    size_t g, max_pool; /* max_pool: the largest pooled resample (g times the largest group) */
    size_t *off, *size;
    size_t one_off, one_size; /* storage for the single-group case */
} groups;

size_t gvb_group_count(size_t n, const size_t *sizes, size_t ngroups)
{
    size_t sum = 0, g = 0;
    for (size_t i = 0; sizes && i < ngroups; i++) {
        if (sizes[i] > n - sum) /* more than is left: also sizes that would wrap the sum */
            return 1;
        sum += sizes[i];
        g += sizes[i] > 0;
    }
    return sizes && ngroups > 0 && sum == n && g > 0 ? g : 1;
}

static int groups_init(groups *gr, size_t n, const size_t *sizes, size_t ngroups)
{
    memset(gr, 0, sizeof *gr);
    size_t g = gvb_group_count(n, sizes, ngroups);
    if (g == 1) {
        gr->g = 1;
        gr->one_size = gr->max_pool = n;
        gr->off = &gr->one_off;
        gr->size = &gr->one_size;
        return 0;
    }
    gr->off = malloc(g * sizeof *gr->off);
    gr->size = malloc(g * sizeof *gr->size);
    if (!gr->off || !gr->size) {
        free(gr->off);
        free(gr->size);
        return -1;
    }
    size_t off = 0, largest = 0;
    for (size_t i = 0; i < ngroups; i++) {
        if (sizes[i] > 0) {
            gr->off[gr->g] = off;
            gr->size[gr->g++] = sizes[i];
            largest = sizes[i] > largest ? sizes[i] : largest;
        }
        off += sizes[i];
    }
    if (largest > SIZE_MAX / g) { /* the pooled resample would not fit in a size_t */
        free(gr->off);
        free(gr->size);
        return -1;
    }
    gr->max_pool = g * largest;
    return 0;
}

static void groups_free(groups *gr)
{
    if (gr->g > 1) {
        free(gr->off);
        free(gr->size);
    }
}

/* Medians of b bootstrap resamples of x: with one group, n draws from all samples; with
 * several, g draws of a group and then that group's size draws within it (two stages). */
static double *bootstrap_medians(const double *x, const groups *gr, gvb_rng *rng, int b)
{
    double *meds = malloc((size_t)b * sizeof *meds);
    double *res = malloc(gr->max_pool * sizeof *res);
    if (!meds || !res) {
        free(meds);
        free(res);
        return NULL;
    }
    for (int i = 0; i < b; i++) {
        size_t m = 0;
        for (size_t k = 0; k < gr->g; k++) {
            size_t c = gr->g > 1 ? (size_t)gvb_rng_below(rng, gr->g) : 0;
            const double *grp = x + gr->off[c];
            for (size_t j = 0; j < gr->size[c]; j++)
                res[m++] = grp[gvb_rng_below(rng, gr->size[c])];
        }
        meds[i] = median_inplace(res, m);
    }
    free(res);
    return meds;
}

static void percentile_interval(double *v, size_t n, double level, double *lo, double *hi)
{
    gvb_sort_doubles(v, n);
    double tail = (1.0 - level) / 2.0 * 100.0;
    *lo = gvb_percentile_sorted(v, n, tail);
    *hi = gvb_percentile_sorted(v, n, 100.0 - tail);
}

int gvb_bootstrap_median_ci_grouped(const double *x, size_t n, const size_t *sizes,
                                    size_t ngroups, uint64_t seed, int b, double level,
                                    double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 2 || b < 10)
        return -1;
    groups gr;
    if (groups_init(&gr, n, sizes, ngroups) != 0)
        return -1;
    gvb_rng rng;
    gvb_rng_seed(&rng, seed);
    double *meds = bootstrap_medians(x, &gr, &rng, b);
    groups_free(&gr);
    if (!meds)
        return -1;
    percentile_interval(meds, (size_t)b, level, lo, hi);
    free(meds);
    return 0;
}

int gvb_bootstrap_median_ci(const double *x, size_t n, uint64_t seed, int b, double level,
                            double *lo, double *hi)
{
    return gvb_bootstrap_median_ci_grouped(x, n, NULL, 0, seed, b, level, lo, hi);
}

/* Medians of `resamples` bootstrap resamples of a and of b (a's first, from one stream). */
static int paired_bootstrap(const double *a, size_t na, const size_t *sa, size_t ga,
                            const double *b, size_t nb, const size_t *sb, size_t gb,
                            uint64_t seed, int resamples, double **ma, double **mb)
{
    groups gra, grb;
    *ma = *mb = NULL;
    if (groups_init(&gra, na, sa, ga) != 0)
        return -1;
    if (groups_init(&grb, nb, sb, gb) != 0) {
        groups_free(&gra);
        return -1;
    }
    gvb_rng rng;
    gvb_rng_seed(&rng, seed);
    *ma = bootstrap_medians(a, &gra, &rng, resamples);
    if (*ma)
        *mb = bootstrap_medians(b, &grb, &rng, resamples);
    groups_free(&gra);
    groups_free(&grb);
    if (*ma && *mb)
        return 0;
    free(*ma);
    free(*mb);
    return -1;
}

int gvb_bootstrap_ratio_ci_grouped(const double *a, size_t na, const size_t *sizes_a, size_t ga,
                                   const double *b, size_t nb, const size_t *sizes_b, size_t gb,
                                   uint64_t seed, int resamples, double level, double *ratio,
                                   double *lo, double *hi)
{
    *ratio = *lo = *hi = NAN;
    if (na < 2 || nb < 2 || resamples < 10)
        return -1;
    double mb = gvb_median(b, nb);
    if (mb == 0 || isnan(mb))
        return -1;
    *ratio = gvb_median(a, na) / mb;
    double *ma, *mbs;
    if (paired_bootstrap(a, na, sizes_a, ga, b, nb, sizes_b, gb, seed, resamples, &ma, &mbs) !=
        0)
        return -1;
    size_t k = 0;
    for (int i = 0; i < resamples; i++)
        if (mbs[i] != 0)
            ma[k++] = ma[i] / mbs[i];
    int rc = -1;
    if (k >= 10) {
        percentile_interval(ma, k, level, lo, hi);
        rc = 0;
    }
    free(ma);
    free(mbs);
    return rc;
}

int gvb_bootstrap_ratio_ci(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
                           int resamples, double level, double *ratio, double *lo, double *hi)
{
    return gvb_bootstrap_ratio_ci_grouped(a, na, NULL, 0, b, nb, NULL, 0, seed, resamples, level,
                                          ratio, lo, hi);
}

int gvb_bootstrap_diff_ci_grouped(const double *a, size_t na, const size_t *sizes_a, size_t ga,
                                  const double *b, size_t nb, const size_t *sizes_b, size_t gb,
                                  uint64_t seed, int resamples, double level, double *diff,
                                  double *lo, double *hi)
{
    *diff = *lo = *hi = NAN;
    if (na < 2 || nb < 2 || resamples < 10)
        return -1;
    *diff = gvb_median(a, na) - gvb_median(b, nb);
    double *ma, *mbs;
    if (paired_bootstrap(a, na, sizes_a, ga, b, nb, sizes_b, gb, seed, resamples, &ma, &mbs) !=
        0)
        return -1;
    for (int i = 0; i < resamples; i++)
        ma[i] -= mbs[i];
    percentile_interval(ma, (size_t)resamples, level, lo, hi);
    free(ma);
    free(mbs);
    return 0;
}

int gvb_bootstrap_diff_ci(const double *a, size_t na, const double *b, size_t nb, uint64_t seed,
                          int resamples, double level, double *diff, double *lo, double *hi)
{
    return gvb_bootstrap_diff_ci_grouped(a, na, NULL, 0, b, nb, NULL, 0, seed, resamples, level,
                                         diff, lo, hi);
}

double gvb_jain_index(const double *x, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += x[i] * x[i];
    }
    if (n == 0 || s2 == 0)
        return NAN;
    return s * s / ((double)n * s2);
}

int gvb_stats_compute(const double *x, size_t n, uint64_t seed, gvb_stats *out)
{
    return gvb_stats_compute_grouped(x, n, NULL, 0, seed, out);
}

int gvb_stats_describe(const double *x, size_t n, gvb_stats *out)
{
    memset(out, 0, sizeof *out);
    out->ci_lo = out->ci_hi = NAN;
    if (n == 0)
        return -1;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return -1;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            free(s);
            return -1;
        }
        s[i] = x[i];
        sum += x[i];
    }
    gvb_sort_doubles(s, n);
    out->n = n;
    out->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - out->mean) * (x[i] - out->mean);
    out->stdev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->cv = out->mean != 0 ? out->stdev / fabs(out->mean) : NAN;
    out->min = s[0];
    out->max = s[n - 1];
    out->p50 = out->median = gvb_percentile_sorted(s, n, 50);
    out->p95 = gvb_percentile_sorted(s, n, 95);
    out->p99 = gvb_percentile_sorted(s, n, 99);
    free(s);
    return 0;
}

int gvb_stats_compute_grouped(const double *x, size_t n, const size_t *sizes, size_t ngroups,
                              uint64_t seed, gvb_stats *out)
{
    if (gvb_stats_describe(x, n, out) != 0)
        return -1;
    gvb_bootstrap_median_ci_grouped(x, n, sizes, ngroups, seed, GVB_BOOTSTRAP_RESAMPLES,
                                    GVB_CI_LEVEL, &out->ci_lo, &out->ci_hi);
    return 0;
}
