/* Statistics against known answers. */
#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"
#include "tests.h"

static void test_moments(void **state)
{
    (void)state;
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    gvb_stats s;
    assert_int_equal(gvb_stats_compute(x, 8, 1, &s), 0);
    assert_int_equal(s.n, 8);
    assert_double_equal(s.mean, 5.0, 1e-12);
    assert_double_equal(s.median, 4.5, 1e-12);
    assert_double_equal(s.stdev, sqrt(32.0 / 7.0), 1e-12); /* sample stdev, n-1 */
    assert_double_equal(s.cv, sqrt(32.0 / 7.0) / 5.0, 1e-12);
    assert_double_equal(s.min, 2, 0);
    assert_double_equal(s.max, 9, 0);
}

static void test_percentiles_numpy_type7(void **state)
{
    (void)state;
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = 100 - i; /* unsorted on purpose: 100..1 */
    gvb_stats s;
    assert_int_equal(gvb_stats_compute(x, 100, 1, &s), 0);
    /* numpy.percentile(range(1,101), [50,95,99]) = 50.5, 95.05, 99.01 */
    assert_double_equal(s.p50, 50.5, 1e-9);
    assert_double_equal(s.p95, 95.05, 1e-9);
    assert_double_equal(s.p99, 99.01, 1e-9);
    const double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_double_equal(gvb_percentile_sorted(ten, 10, 95), 9.55, 1e-9);
    assert_double_equal(gvb_percentile_sorted(ten, 10, 0), 1, 0);
    assert_double_equal(gvb_percentile_sorted(ten, 10, 100), 10, 0);
    assert_double_equal(gvb_percentile_sorted(ten, 1, 50), 1, 0);
}

static void test_median_odd_even_and_selection(void **state)
{
    (void)state;
    const double odd[] = {9, 1, 5, 3, 7};
    const double even[] = {9, 1, 5, 3, 7, 11};
    assert_double_equal(gvb_median(odd, 5), 5, 0);
    assert_double_equal(gvb_median(even, 6), 6, 0);
    /* many duplicates and a random permutation: compare with sorting */
    gvb_rng r;
    gvb_rng_seed(&r, 7);
    double v[1001];
    for (int i = 0; i < 1001; i++)
        v[i] = (double)gvb_rng_below(&r, 20);
    gvb_stats s;
    gvb_stats_compute(v, 1001, 1, &s);
    assert_double_equal(gvb_median(v, 1001), s.p50, 0);
    gvb_stats_compute(v, 1000, 1, &s);
    assert_double_equal(gvb_median(v, 1000), s.p50, 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    gvb_stats s;
    assert_int_equal(gvb_stats_compute(NULL, 0, 1, &s), -1);
    const double bad[] = {1, NAN, 3};
    assert_int_equal(gvb_stats_compute(bad, 3, 1, &s), -1);
    const double inf[] = {1, INFINITY};
    assert_int_equal(gvb_stats_compute(inf, 2, 1, &s), -1);
    double lo, hi;
    const double one[] = {1};
    assert_int_equal(gvb_bootstrap_median_ci(one, 1, 1, 100, 0.95, &lo, &hi), -1);
    assert_true(isnan(gvb_median(NULL, 0)));
}

static void test_bootstrap_median_ci(void **state)
{
    (void)state;
    double x[200];
    gvb_rng r;
    gvb_rng_seed(&r, 42);
    for (int i = 0; i < 200; i++)
        x[i] = 100 + 10 * (gvb_rng_unit(&r) - 0.5);
    double lo, hi, lo2, hi2, lo3, hi3;
    assert_int_equal(gvb_bootstrap_median_ci(x, 200, 5, 2000, 0.95, &lo, &hi), 0);
    double med = gvb_median(x, 200);
    assert_true(lo <= med && med <= hi);
    assert_true(hi - lo < 3.0); /* uniform width 10, n=200: the median is known to ~1 */
    /* reproducible with the same seed, different with another */
    gvb_bootstrap_median_ci(x, 200, 5, 2000, 0.95, &lo2, &hi2);
    assert_double_equal(lo, lo2, 0);
    assert_double_equal(hi, hi2, 0);
    gvb_bootstrap_median_ci(x, 200, 6, 2000, 0.95, &lo3, &hi3);
    assert_true(lo3 != lo || hi3 != hi);
}

static void test_bootstrap_ratio(void **state)
{
    (void)state;
    double a[300], b[300], c[300];
    gvb_rng r;
    gvb_rng_seed(&r, 3);
    for (int i = 0; i < 300; i++) {
        a[i] = 10 + gvb_rng_unit(&r);
        b[i] = 10 + gvb_rng_unit(&r);
        c[i] = 2 * (10 + gvb_rng_unit(&r));
    }
    double ratio, lo, hi;
    /* same distribution: the CI contains 1 */
    assert_int_equal(gvb_bootstrap_ratio_ci(a, 300, b, 300, 9, 2000, 0.95, &ratio, &lo, &hi), 0);
    assert_true(lo <= 1.0 && 1.0 <= hi);
    /* doubled: the ratio is ~2 and the CI excludes 1 */
    assert_int_equal(gvb_bootstrap_ratio_ci(c, 300, a, 300, 9, 2000, 0.95, &ratio, &lo, &hi), 0);
    assert_double_equal(ratio, 2.0, 0.1);
    assert_true(lo > 1.5 && hi < 2.5 && lo <= ratio && ratio <= hi);
    /* too few samples, zero baseline */
    assert_int_equal(gvb_bootstrap_ratio_ci(a, 1, b, 300, 9, 2000, 0.95, &ratio, &lo, &hi), -1);
    const double zeros[] = {0, 0, 0};
    assert_int_equal(gvb_bootstrap_ratio_ci(a, 300, zeros, 3, 9, 2000, 0.95, &ratio, &lo, &hi), -1);
}

static void test_jain(void **state)
{
    (void)state;
    const double eq[] = {3, 3, 3, 3};
    const double one[] = {5, 0, 0, 0};
    const double two[] = {1, 2};
    assert_double_equal(gvb_jain_index(eq, 4), 1.0, 1e-12);
    assert_double_equal(gvb_jain_index(one, 4), 0.25, 1e-12);
    assert_double_equal(gvb_jain_index(two, 2), 9.0 / 10.0, 1e-12);
    assert_true(isnan(gvb_jain_index(NULL, 0)));
}

static void test_rng(void **state)
{
    (void)state;
    gvb_rng a, b;
    gvb_rng_seed(&a, 123);
    gvb_rng_seed(&b, 123);
    for (int i = 0; i < 100; i++)
        assert_true(gvb_rng_next(&a) == gvb_rng_next(&b));
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = gvb_rng_below(&a, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 800 && seen[i] < 1200);
    assert_true(gvb_seed_mix(1, "native") != gvb_seed_mix(1, "hami"));
    assert_true(gvb_seed_mix(1, "native") == gvb_seed_mix(1, "native"));
}

static void test_block_drift(void **state)
{
    (void)state;
    double x[203];
    for (int i = 0; i < 203; i++)
        x[i] = 10.0 + 0.01 * (i % 3);
    /* steady: block medians all 10.01 */
    assert_double_equal(gvb_block_drift_pct(x, 203, 10), 0.0, 1e-9);
    /* the first 203 % 10 = 3 samples are left out, so outliers there change nothing */
    x[0] = x[1] = x[2] = 1000;
    assert_double_equal(gvb_block_drift_pct(x, 203, 10), 0.0, 1e-9);
    /* a step from 10.01 to 12.01 in the last block: 12.01 / 10.01 - 1 */
    for (int i = 183; i < 203; i++)
        x[i] += 2.0;
    assert_double_equal(gvb_block_drift_pct(x, 203, 10), (12.01 / 10.01 - 1) * 100, 1e-9);
    /* one outlier inside a block does not move its median */
    x[100] = 1e6;
    assert_double_equal(gvb_block_drift_pct(x, 203, 10), (12.01 / 10.01 - 1) * 100, 1e-9);
    /* too few samples per block, no blocks, a non-positive block median: no number */
    assert_true(isnan(gvb_block_drift_pct(x, 49, 10)));
    assert_true(isnan(gvb_block_drift_pct(x, 203, 0)));
    for (int i = 3; i < 23; i++)
        x[i] = -1;
    assert_true(isnan(gvb_block_drift_pct(x, 203, 10)));
}

static void test_block_corr(void **state)
{
    (void)state;
    double x[100], y[100], z[100];
    for (int i = 0; i < 100; i++) {
        x[i] = (i < 50 ? 10.0 : 13.0) + 0.01 * (i % 3);
        y[i] = (i < 50 ? 100.0 : 130.0) + 0.1 * (i % 3); /* steps with x */
        z[i] = ((i / 10) % 2 ? 130.0 : 100.0);            /* high in alternate blocks */
    }
    assert_double_equal(gvb_block_corr(x, y, 100, 10), 1.0, 1e-9);
    /* block medians 10 x5, 13 x5 against 100/130 alternating: 45 / sqrt(22.5 * 2250) */
    assert_double_equal(gvb_block_corr(x, z, 100, 10), 0.2, 1e-9);
    for (int i = 0; i < 100; i++)
        z[i] = 200.0 - y[i]; /* against x */
    assert_double_equal(gvb_block_corr(x, z, 100, 10), -1.0, 1e-9);
    /* a constant series has no correlation; too few samples or blocks: no number */
    for (int i = 0; i < 100; i++)
        z[i] = 5.0;
    assert_true(isnan(gvb_block_corr(x, z, 100, 10)));
    assert_true(isnan(gvb_block_corr(x, y, 49, 10)));
    assert_true(isnan(gvb_block_corr(x, y, 100, 1)));
}

int run_stats_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_percentiles_numpy_type7),
        cmocka_unit_test(test_median_odd_even_and_selection),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bootstrap_median_ci),
        cmocka_unit_test(test_bootstrap_ratio),
        cmocka_unit_test(test_jain),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_block_drift),
        cmocka_unit_test(test_block_corr),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
