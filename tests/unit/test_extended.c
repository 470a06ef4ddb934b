/* The formulas of the BW, CACHE, PCIE and SCHED metrics against known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/result.h"
#include "stats/bwformulas.h"
#include "stats/stats.h"
#include "tests.h"

static void test_bandwidth_and_percentages(void **state)
{
    (void)state;
    /* 1 GiB copied (read + write = 2 GiB) in 0.716 ms is ~3.0 TB/s */
    assert_double_equal(gvb_gbs(2.0 * 1073741824.0, 0.716e-3), 2999.28, 0.01);
    assert_double_equal(gvb_gbs(1e9, 1.0), 1.0, 1e-12);
    assert_true(isnan(gvb_gbs(1e9, 0)));
    assert_true(isnan(gvb_gbs(1e9, -1)));
    assert_double_equal(gvb_pct_of(2700, 3000), 90.0, 1e-12);
    assert_true(isnan(gvb_pct_of(1, 0)));
    assert_double_equal(gvb_retained_pct(3000, 750), 25.0, 1e-12);
    assert_double_equal(gvb_drop_pct(3000, 750), 75.0, 1e-12);
    assert_double_equal(gvb_drop_pct(10, 12), -20.0, 1e-12); /* faster when contended */
    assert_double_equal(gvb_increase_pct(200, 300), 50.0, 1e-12);
    assert_true(isnan(gvb_drop_pct(0, 1)));
    assert_true(isnan(gvb_drop_pct(1, NAN)));
}

static void test_pcie_link_rate(void **state)
{
    (void)state;
    /* GT/s x width x encoding / 8 per direction */
    assert_double_equal(gvb_pcie_link_gbs(5, 16), 32.0 * 16 * 128.0 / 130.0 / 8, 1e-12);
    assert_double_equal(gvb_pcie_link_gbs(5, 16), 63.015, 0.001);
    assert_double_equal(gvb_pcie_link_gbs(4, 16), 31.508, 0.001);
    assert_double_equal(gvb_pcie_link_gbs(3, 16), 15.754, 0.001);
    assert_double_equal(gvb_pcie_link_gbs(3, 8), 7.877, 0.001);
    assert_double_equal(gvb_pcie_link_gbs(1, 16), 4.0, 1e-12);  /* 2.5 GT/s 8b/10b */
    assert_double_equal(gvb_pcie_link_gbs(2, 16), 8.0, 1e-12);
    assert_double_equal(gvb_pcie_link_gbs(6, 16), 64.0 * 16 * 242.0 / 256.0 / 8, 1e-12);
    assert_double_equal(gvb_pcie_link_gbs(0, 16), 0, 0);
    assert_double_equal(gvb_pcie_link_gbs(7, 16), 0, 0);
    assert_double_equal(gvb_pcie_link_gbs(5, 0), 0, 0);
}

static void test_saturation_point(void **state)
{
    (void)state;
    const double flat[] = {3000, 2990, 3005, 2995}; /* one tenant saturates */
    assert_int_equal(gvb_saturation_point(flat, 4, 0.95), 1);
    const double half[] = {1500, 2950, 3000, 2990}; /* each tenant capped at 50 % */
    assert_int_equal(gvb_saturation_point(half, 4, 0.95), 2);
    const double ramp[] = {700, 1400, 2100, 2800};
    assert_int_equal(gvb_saturation_point(ramp, 4, 0.95), 4);
    const double edge[] = {95, 100}; /* exactly 95 % counts */
    assert_int_equal(gvb_saturation_point(edge, 2, 0.95), 1);
    const double bad[] = {NAN, 0};
    assert_int_equal(gvb_saturation_point(bad, 2, 0.95), 0);
    assert_int_equal(gvb_saturation_point(flat, 0, 0.95), 0);
    const double with_nan[] = {NAN, 1000, 990};
    assert_int_equal(gvb_saturation_point(with_nan, 3, 0.95), 2);
}

static void test_hit_fraction(void **state)
{
    (void)state;
    assert_double_equal(gvb_hit_fraction(200, 200, 600), 1.0, 1e-12);
    assert_double_equal(gvb_hit_fraction(600, 200, 600), 0.0, 1e-12);
    assert_double_equal(gvb_hit_fraction(300, 200, 600), 0.75, 1e-12);
    assert_double_equal(gvb_hit_fraction(150, 200, 600), 1.0, 0); /* clamped */
    assert_double_equal(gvb_hit_fraction(900, 200, 600), 0.0, 0);
    assert_true(isnan(gvb_hit_fraction(300, 600, 600)));
    assert_true(isnan(gvb_hit_fraction(300, 700, 600)));
    assert_true(isnan(gvb_hit_fraction(NAN, 200, 600)));
    /* H200 under MPS: contended 812 ns against 355 ns all-miss: no hit rate to read */
    assert_false(gvb_hit_proxy_readable(812.7, 355.1));
    assert_true(gvb_hit_proxy_readable(162.5, 356.6));
    assert_true(gvb_hit_proxy_readable(355.1, 355.1));
    assert_false(gvb_hit_proxy_readable(NAN, 355.1));
}

static void test_pow2_floor(void **state)
{
    (void)state;
    assert_int_equal(gvb_pow2_floor(0), 0);
    assert_int_equal(gvb_pow2_floor(1), 1);
    assert_int_equal(gvb_pow2_floor(3), 2);
    assert_int_equal(gvb_pow2_floor(4096), 4096);
    assert_int_equal(gvb_pow2_floor(52428800 / 4), 8388608); /* H100 L2 / 4 -> 8 MiB */
    assert_true(gvb_pow2_floor(UINT64_MAX) == (1ull << 63));
}

static void test_busy_periods(void **state)
{
    (void)state;
    const uint64_t t[] = {0, 1000, 2000, 3000, 50000, 51000, 52000, 200000};
    double s[8], e[8];
    assert_int_equal(gvb_busy_periods(t, 8, 5000, s, e, 8), 3);
    assert_double_equal(s[0], 0, 0);
    assert_double_equal(e[0], 3000, 0);
    assert_double_equal(s[1], 50000, 0);
    assert_double_equal(e[1], 52000, 0);
    assert_double_equal(s[2], 200000, 0);
    assert_double_equal(e[2], 200000, 0);
    /* cap: only the first period is written, the count is still 3 */
    double s1[1] = {-1}, e1[1] = {-1};
    assert_int_equal(gvb_busy_periods(t, 8, 5000, s1, e1, 1), 3);
    assert_double_equal(e1[0], 3000, 0);
    assert_int_equal(gvb_busy_periods(t, 0, 5000, s, e, 8), 0);
    assert_int_equal(gvb_busy_periods(t, 4, 5000, s, e, 8), 1);
}

static void test_handover_time_sliced(void **state)
{
    (void)state;
    /* A and B alternate time slices with 50 and 60 us hand-overs; A's slice is split at a
     * kernel boundary (a continuation, not a hand-over); given out of order. */
    gvb_period p[] = {
        {4060, 5000, 0}, {0, 1000, 0}, {1005, 2000, 0}, {2050, 4000, 1}, {5030, 6000, 1},
    };
    double gaps[8];
    size_t conc = 99;
    size_t k = gvb_handover_gaps(p, 5, 2, gaps, 8, &conc);
    assert_int_equal(k, 3);
    assert_int_equal(conc, 0);
    assert_double_equal(gaps[0], 50, 0);  /* A ends 2000, B starts 2050 */
    assert_double_equal(gaps[1], 60, 0);  /* B ends 4000, A starts 4060 */
    assert_double_equal(gaps[2], 30, 0);  /* A ends 5000, B starts 5030 */
}

static void test_handover_concurrent(void **state)
{
    (void)state;
    /* MPS-like: both tenants run side by side; no hand-over to time */
    gvb_period p[] = {{0, 10, 0}, {1, 11, 1}, {12, 22, 0}, {13, 23, 1}, {24, 30, 0}};
    double gaps[8];
    size_t conc = 0;
    assert_int_equal(gvb_handover_gaps(p, 5, 2, gaps, 8, &conc), 0);
    assert_int_equal(conc, 4);
    /* a lone tenant: nothing at all */
    gvb_period q[] = {{0, 10, 0}, {20, 30, 0}};
    assert_int_equal(gvb_handover_gaps(q, 2, 2, gaps, 8, &conc), 0);
    assert_int_equal(conc, 0);
    /* three tenants round-robin: each hand-over is from the last one active */
    gvb_period r[] = {{0, 10, 0}, {15, 25, 1}, {27, 40, 2}, {41, 50, 0}};
    assert_int_equal(gvb_handover_gaps(r, 4, 3, gaps, 8, &conc), 3);
    assert_double_equal(gaps[0], 5, 0);
    assert_double_equal(gaps[1], 2, 0);
    assert_double_equal(gaps[2], 1, 0);
    /* cap: counted but not written beyond it */
    gvb_period s[] = {{0, 10, 0}, {15, 25, 1}, {27, 40, 0}};
    double one[1];
    assert_int_equal(gvb_handover_gaps(s, 3, 2, one, 1, NULL), 2);
    assert_double_equal(one[0], 5, 0);
}

/* An OK result of two tenants whose GPU clocks share one base, as SCHED-001's reduce reads it */
static void sched_result(gvb_result *r)
{
    memset(r, 0, sizeof *r);
    r->status = GVB_OK;
    r->tenants = 2;
    gvb_kv_set_num(&r->extras, "t0.gt_base_ns", 0);
    gvb_kv_set_num(&r->extras, "t1.gt_base_ns", 0);
}

/* SCHED-001's reduce: tenants that ran side by side are a SKIP with the reason, not a 0 */
static void test_sched_001_side_by_side_skips(void **state)
{
    (void)state;
    gvb_result r;
    sched_result(&r);
    gvb_series t[2] = {{0}, {0}};
    /* busy periods (start, end), overlapping every time */
    const double a[] = {0, 10, 12, 22, 24, 30}, b[] = {1, 11, 13, 23};
    for (size_t i = 0; i < 6; i++)
        gvb_series_push(&t[0], a[i]);
    for (size_t i = 0; i < 4; i++)
        gvb_series_push(&t[1], b[i]);
    gvb_impl_sched_001.reduce(&r, t, 2);
    assert_int_equal(r.status, GVB_SKIP);
    assert_false(r.has_value);
    assert_non_null(strstr(r.reason, "ran side by side"));
    assert_int_equal(r.samples.n, 0);
    gvb_result_free(&r);
    /* hand-overs: OK with the gaps as samples */
    sched_result(&r);
    gvb_series u[2] = {{0}, {0}};
    const double c[] = {0, 1000, 3000, 4000}, d[] = {1050, 2000};
    for (size_t i = 0; i < 4; i++)
        gvb_series_push(&u[0], c[i]);
    for (size_t i = 0; i < 2; i++)
        gvb_series_push(&u[1], d[i]);
    gvb_impl_sched_001.reduce(&r, u, 2);
    assert_int_equal(r.status, GVB_OK);
    assert_int_equal(r.samples.n, 2);
    for (int i = 0; i < 2; i++) {
        gvb_series_free(&t[i]);
        gvb_series_free(&u[i]);
    }
    gvb_result_free(&r);
}

static void test_concurrency_efficiency(void **state)
{
    (void)state;
    /* 4 kernels of 0.5 ms: serial 2 ms; side by side 0.5 ms -> 100 %; serialized -> 25 % */
    assert_double_equal(gvb_concurrency_efficiency_pct(2.0, 0.5, 4), 100.0, 1e-12);
    assert_double_equal(gvb_concurrency_efficiency_pct(2.0, 2.0, 4), 25.0, 1e-12);
    assert_double_equal(gvb_concurrency_efficiency_pct(2.0, 1.0, 4), 50.0, 1e-12);
    assert_true(isnan(gvb_concurrency_efficiency_pct(2.0, 0, 4)));
    assert_true(isnan(gvb_concurrency_efficiency_pct(2.0, 1.0, 0)));
}

static void test_jain_of_bandwidths(void **state)
{
    (void)state;
    /* the fairness index BW-002 takes per round: equal shares 1, one tenant starved 0.75 */
    const double fair[] = {750, 750, 750, 750};
    assert_double_equal(gvb_jain_index(fair, 4), 1.0, 1e-12);
    const double starved[] = {1000, 1000, 1000, 0};
    assert_double_equal(gvb_jain_index(starved, 4), 0.75, 1e-12);
}

int run_extended_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bandwidth_and_percentages),
        cmocka_unit_test(test_pcie_link_rate),
        cmocka_unit_test(test_saturation_point),
        cmocka_unit_test(test_hit_fraction),
        cmocka_unit_test(test_pow2_floor),
        cmocka_unit_test(test_busy_periods),
        cmocka_unit_test(test_handover_time_sliced),
        cmocka_unit_test(test_handover_concurrent),
        cmocka_unit_test(test_concurrency_efficiency),
        cmocka_unit_test(test_sched_001_side_by_side_skips),
        cmocka_unit_test(test_jain_of_bandwidths),
    };
    return cmocka_run_group_tests_name("extended", tests, NULL, NULL);
}
