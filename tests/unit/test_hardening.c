/* Regression tests for issue 20 (inputs that crashed or misled, files that followed planted
 * symlinks): each reproduces one audit finding and failed before its fix. The command-line
 * ones are in tests/cli/test_hardening.sh. */
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "stats/stats.h"
#include "tests.h"

/* A result with samples 1..n and the given replicate counts. */
static void make_result(gvb_result *r, size_t n, const double *counts, size_t g)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n; i++)
        gvb_series_push(&r->samples, (double)(i + 1));
    for (size_t i = 0; i < g; i++)
        gvb_series_push(&r->replicate_sizes, counts[i]);
}

/* Counts that wrap around 2^64 and so "add up" to the sample count are not groups: the
 * bootstrap read 2^63 samples past the end. */
static void test_replicate_counts_that_overflow(void **state)
{
    (void)state;
    const double two63 = 9223372036854775808.0;
    const double wrap[] = {two63, two63, 8};
    gvb_result r;
    size_t sizes[GVB_RESULT_MAX_GROUPS];
    make_result(&r, 8, wrap, 3);
    assert_int_equal(gvb_result_groups(&r, sizes, GVB_RESULT_MAX_GROUPS), 0);
    assert_int_equal(gvb_result_replicates(&r), 1);
    gvb_result_finish(&r, 1); /* crashed in bootstrap_medians */
    assert_int_equal(r.stats.n, 8);
    assert_true(isfinite(r.stats.ci_lo));
    gvb_result_free(&r);

    /* too large for a size_t at all (a float-cast overflow), negative, fractional */
    const double huge[] = {1e300, 8}, neg[] = {-8, 16}, frac[] = {4.5, 3.5};
    const double *bad[] = {huge, neg, frac};
    for (size_t k = 0; k < 3; k++) {
        make_result(&r, 8, bad[k], 2);
        assert_int_equal(gvb_result_groups(&r, sizes, GVB_RESULT_MAX_GROUPS), 0);
        gvb_result_free(&r);
    }

    /* the statistics' own count check, given the wrapped counts directly */
    const size_t wrapped[] = {(size_t)1 << 63, (size_t)1 << 63, 8};
    assert_int_equal(gvb_group_count(8, wrapped, 3), 1);
    const size_t all_max[] = {SIZE_MAX, 9};
    assert_int_equal(gvb_group_count(8, all_max, 2), 1);
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, lo, hi, lo1, hi1;
    assert_int_equal(gvb_bootstrap_median_ci_grouped(x, 8, wrapped, 3, 3, 200, 0.95, &lo, &hi), 0);
    gvb_bootstrap_median_ci(x, 8, 3, 200, 0.95, &lo1, &hi1);
    assert_double_equal(lo, lo1, 0);
    assert_double_equal(hi, hi1, 0);
}

int run_hardening_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replicate_counts_that_overflow),
    };
    return cmocka_run_group_tests_name("hardening", tests, NULL, NULL);
}
