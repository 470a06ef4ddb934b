/* The two-stage (grouped) bootstrap against known situations: one group equals the one-stage
 * bootstrap, a process effect is not a difference, a real shift still is. */
#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"
#include "tests.h"

#define PER_GROUP 200

/* g groups of PER_GROUP samples; group k centred on scale * centre[k], uniform +-2 %. */
static void make_groups(double *x, const double *centre, int g, double scale, uint64_t seed)
{
    gvb_rng r;
    gvb_rng_seed(&r, seed);
    for (int k = 0; k < g; k++)
        for (int i = 0; i < PER_GROUP; i++)
            x[k * PER_GROUP + i] = scale * centre[k] * (1.0 + 0.04 * (gvb_rng_unit(&r) - 0.5));
}

static const size_t sizes3[] = {PER_GROUP, PER_GROUP, PER_GROUP};

static void test_one_group_is_one_stage(void **state)
{
    (void)state;
    double a[PER_GROUP], b[PER_GROUP];
    const double c1[] = {1.0}, c2[] = {1.1};
    make_groups(a, c1, 1, 10, 1);
    make_groups(b, c2, 1, 10, 2);
    const size_t one[] = {PER_GROUP};
    double lo, hi, lo1, hi1, r, r1;
    gvb_bootstrap_median_ci(a, PER_GROUP, 5, 500, 0.95, &lo, &hi);
    gvb_bootstrap_median_ci_grouped(a, PER_GROUP, one, 1, 5, 500, 0.95, &lo1, &hi1);
    assert_double_equal(lo, lo1, 0);
    assert_double_equal(hi, hi1, 0);
    gvb_bootstrap_ratio_ci(a, PER_GROUP, b, PER_GROUP, 5, 500, 0.95, &r, &lo, &hi);
    gvb_bootstrap_ratio_ci_grouped(a, PER_GROUP, one, 1, b, PER_GROUP, NULL, 0, 5, 500, 0.95,
                                   &r1, &lo1, &hi1);
    assert_double_equal(r, r1, 0);
    assert_double_equal(lo, lo1, 0);
    assert_double_equal(hi, hi1, 0);
    gvb_bootstrap_diff_ci(a, PER_GROUP, b, PER_GROUP, 5, 500, 0.95, &r, &lo, &hi);
    gvb_bootstrap_diff_ci_grouped(a, PER_GROUP, one, 1, b, PER_GROUP, one, 1, 5, 500, 0.95, &r1,
                                  &lo1, &hi1);
    assert_double_equal(lo, lo1, 0);
    assert_double_equal(hi, hi1, 0);
    /* sizes that do not add up to n (a damaged file) fall back to one group */
    const size_t wrong[] = {10, 10};
    assert_int_equal(gvb_group_count(PER_GROUP, wrong, 2), 1);
    const size_t with_empty[] = {0, 100, 0, 100};
    assert_int_equal(gvb_group_count(PER_GROUP, with_empty, 4), 2);
}

/* (a) same distribution, two groups per side: no difference */
static void test_same_distribution_two_groups(void **state)
{
    (void)state;
    double a[2 * PER_GROUP], b[2 * PER_GROUP];
    const double c[] = {1.0, 1.0};
    make_groups(a, c, 2, 10, 11);
    make_groups(b, c, 2, 10, 12);
    double r, lo, hi;
    assert_int_equal(gvb_bootstrap_ratio_ci_grouped(a, 2 * PER_GROUP, sizes3, 2, b, 2 * PER_GROUP,
                                                    sizes3, 2, 9, 2000, 0.95, &r, &lo, &hi),
                     0);
    assert_true(lo <= 1.0 && 1.0 <= hi);
}

/* (b) the bug this fixes: groups whose medians differ by +-15 % (a process effect), drawn
 * from the same population of groups on both sides. The pooled medians differ by ~5 %
 * because of which processes happened to run; the one-stage CI calls that significant, the
 * grouped CI does not. */
static void test_process_effect_is_not_a_difference(void **state)
{
    (void)state;
    double a[3 * PER_GROUP], b[3 * PER_GROUP];
    const double ca[] = {0.85, 1.00, 1.15}, cb[] = {0.87, 1.05, 1.13};
    make_groups(a, ca, 3, 10, 21);
    make_groups(b, cb, 3, 10, 22);
    double r, lo, hi;
    assert_int_equal(gvb_bootstrap_ratio_ci(a, 3 * PER_GROUP, b, 3 * PER_GROUP, 9, 2000, 0.95, &r,
                                            &lo, &hi),
                     0);
    assert_true(hi < 1.0); /* one-stage: a false claim */
    assert_int_equal(gvb_bootstrap_ratio_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, b, 3 * PER_GROUP,
                                                    sizes3, 3, 9, 2000, 0.95, &r, &lo, &hi),
                     0);
    assert_true(lo <= 1.0 && 1.0 <= hi);
    /* the difference of medians says the same */
    assert_int_equal(gvb_bootstrap_diff_ci(a, 3 * PER_GROUP, b, 3 * PER_GROUP, 9, 2000, 0.95, &r,
                                           &lo, &hi),
                     0);
    assert_true(hi < 0.0);
    assert_int_equal(gvb_bootstrap_diff_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, b, 3 * PER_GROUP,
                                                   sizes3, 3, 9, 2000, 0.95, &r, &lo, &hi),
                     0);
    assert_true(lo <= 0.0 && 0.0 <= hi);
    /* and the CI of one side's median is wider than its one-stage CI */
    double l1, h1, lg, hg;
    gvb_bootstrap_median_ci(a, 3 * PER_GROUP, 3, 2000, 0.95, &l1, &h1);
    gvb_bootstrap_median_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, 3, 2000, 0.95, &lg, &hg);
    assert_true(hg - lg > 3 * (h1 - l1));
}

/* (c) a real 2x shift with 3 groups per side (each with a +-5 % process effect): claimed */
static void test_real_shift_three_groups(void **state)
{
    (void)state;
    double a[3 * PER_GROUP], b[3 * PER_GROUP];
    const double c[] = {0.95, 1.00, 1.05};
    make_groups(a, c, 3, 20, 31);
    make_groups(b, c, 3, 10, 32);
    double r, lo, hi;
    assert_int_equal(gvb_bootstrap_ratio_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, b, 3 * PER_GROUP,
                                                    sizes3, 3, 9, 2000, 0.95, &r, &lo, &hi),
                     0);
    assert_double_equal(r, 2.0, 0.1);
    assert_true(lo > 1.0 && lo <= r && r <= hi);
}

/* (d) reproducible with the seed, different with another */
static void test_grouped_seeded(void **state)
{
    (void)state;
    double a[3 * PER_GROUP];
    const double c[] = {0.9, 1.0, 1.1};
    make_groups(a, c, 3, 10, 41);
    double lo, hi, lo2, hi2, lo3, hi3;
    assert_int_equal(
        gvb_bootstrap_median_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, 5, 2000, 0.95, &lo, &hi), 0);
    gvb_bootstrap_median_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, 5, 2000, 0.95, &lo2, &hi2);
    assert_double_equal(lo, lo2, 0);
    assert_double_equal(hi, hi2, 0);
    gvb_bootstrap_median_ci_grouped(a, 3 * PER_GROUP, sizes3, 3, 6, 2000, 0.95, &lo3, &hi3);
    assert_true(lo3 != lo || hi3 != hi);
    /* unequal groups work too */
    const size_t uneven[] = {100, 300, 200};
    assert_int_equal(
        gvb_bootstrap_median_ci_grouped(a, 3 * PER_GROUP, uneven, 3, 5, 2000, 0.95, &lo, &hi), 0);
    assert_true(lo < hi);
}

int run_grouped_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_group_is_one_stage),
        cmocka_unit_test(test_same_distribution_two_groups),
        cmocka_unit_test(test_process_effect_is_not_a_difference),
        cmocka_unit_test(test_real_shift_three_groups),
        cmocka_unit_test(test_grouped_seeded),
    };
    return cmocka_run_group_tests_name("grouped bootstrap", tests, NULL, NULL);
}
