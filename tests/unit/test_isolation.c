/* Formulas of the overhead and isolation metrics against hand-computed answers, and their
 * parent-side reduce / cross-system functions on synthetic results (no GPU). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/catalog.h"
#include "core/result.h"
#include "stats/formulas.h"
#include "stats/stats.h"
#include "tests.h"

static void test_accuracy(void **state)
{
    (void)state;
    assert_double_equal(gvb_share_accuracy(50, 50), 100, 1e-12);
    assert_double_equal(gvb_share_accuracy(25, 50), 50, 1e-12);
    assert_double_equal(gvb_share_accuracy(75, 50), 50, 1e-12);
    assert_double_equal(gvb_share_accuracy(100, 50), 0, 1e-12);
    assert_double_equal(gvb_share_accuracy(150, 50), 0, 0); /* clamped, never negative */
    assert_double_equal(gvb_share_accuracy(99, 100), 99, 1e-12);
    assert_true(isnan(gvb_share_accuracy(50, 0)));
    assert_true(isnan(gvb_share_accuracy(NAN, 50)));
}

static void test_shares_and_changes(void **state)
{
    (void)state;
    /* 10 kernels of 2 ms (unconstrained) completed in 40 ms: half the GPU */
    assert_double_equal(gvb_achieved_share(10, 2e-3, 40e-3), 50, 1e-9);
    assert_true(isnan(gvb_achieved_share(10, 2e-3, 0)));
    assert_double_equal(gvb_pct_change(10, 15), 50, 1e-12);
    assert_double_equal(gvb_pct_change(10, 5), -50, 1e-12);
    assert_true(isnan(gvb_pct_change(0, 5)));
    assert_double_equal(gvb_degradation_pct(200, 150), 25, 1e-12);
    assert_double_equal(gvb_degradation_pct(200, 200), 0, 0);
    assert_double_equal(gvb_degradation_pct(200, 250), -25, 1e-12); /* faster than native */
    assert_true(isnan(gvb_degradation_pct(0, 1)));
    assert_double_equal(gvb_cpu_pct(0.05, 2.0), 2.5, 1e-12);
    /* H100 SXM: 132 SMs x 128 lanes x 2 FLOP x 1.98 GHz = 66.9 TFLOP/s */
    assert_double_equal(gvb_fp32_peak_tflops(132, 9, 0, 1980000), 66.90816, 1e-6);
    assert_double_equal(gvb_fp32_peak_tflops(108, 8, 0, 1410000), 19.49184, 1e-6); /* A100 */
    assert_true(isnan(gvb_fp32_peak_tflops(10, 5, 2, 1e6)));
}

static void test_jain(void **state)
{
    (void)state;
    const double eq[] = {3, 3, 3, 3}, one[] = {5, 0, 0, 0}, two[] = {1, 2};
    assert_double_equal(gvb_jain_index(eq, 4), 1, 1e-12);
    assert_double_equal(gvb_jain_index(one, 4), 0.25, 1e-12);
    assert_double_equal(gvb_jain_index(two, 2), 9.0 / 10.0, 1e-12);
}

static void test_ls_slope(void **state)
{
    (void)state;
    const double x[] = {1, 100, 10000}, y[] = {3 * 1 + 2, 3 * 100 + 2, 3 * 10000 + 2};
    assert_double_equal(gvb_ls_slope(x, y, 3), 3, 1e-9);
    /* scattered points: mean x 1.5, mean y 3.5;
     * sxy = (-1.5)(-2.5) + (-0.5)(-1.5) + (0.5)(1.5) + (1.5)(2.5) = 9, sxx = 5 -> 1.8 */
    const double x2[] = {0, 1, 2, 3}, y2[] = {1, 2, 5, 6};
    assert_double_equal(gvb_ls_slope(x2, y2, 4), 1.8, 1e-12);
    const double same[] = {4, 4, 4};
    assert_true(isnan(gvb_ls_slope(same, y, 3)));
    assert_true(isnan(gvb_ls_slope(x, y, 1)));
}

static void test_window_shares(void **state)
{
    (void)state;
    double sh[4];
    /* one kernel of 10 ms unconstrained work stretched over 20 ms: 50 % in both windows */
    const double s1[] = {0}, e1[] = {0.02};
    gvb_window_shares(s1, e1, 1, 0.01, 0.01, sh, 2);
    assert_double_equal(sh[0], 50, 1e-9);
    assert_double_equal(sh[1], 50, 1e-9);
    /* back-to-back full-speed kernels of 4 ms: 100 % in every window; partial overlaps add up */
    const double s2[] = {0, 0.004, 0.008, 0.012, 0.016}, e2[] = {0.004, 0.008, 0.012, 0.016, 0.020};
    gvb_window_shares(s2, e2, 5, 0.004, 0.01, sh, 2);
    assert_double_equal(sh[0], 100, 1e-9);
    assert_double_equal(sh[1], 100, 1e-9);
    /* on for 10 ms, off for 10 ms (a time-slicing limiter): 100, 0, 100 */
    const double s3[] = {0, 0.02}, e3[] = {0.01, 0.03};
    gvb_window_shares(s3, e3, 2, 0.01, 0.01, sh, 3);
    assert_double_equal(sh[0], 100, 1e-9);
    assert_double_equal(sh[1], 0, 1e-12);
    assert_double_equal(sh[2], 100, 1e-9);
    /* windows past n_win are ignored, a zero-length interval counts at its end */
    const double s4[] = {0.015, 0.5}, e4[] = {0.015, 0.6};
    gvb_window_shares(s4, e4, 2, 0.001, 0.01, sh, 2);
    assert_double_equal(sh[0], 0, 1e-12);
    assert_double_equal(sh[1], 10, 1e-9);
}

static void test_settle_overshoot_oscillation(void **state)
{
    (void)state;
    const double s[] = {100, 100, 70, 52, 48, 50, 53};
    assert_int_equal(gvb_settle_index(s, 7, 50, 0.10), 3);
    const double never[] = {50, 50, 100};
    assert_int_equal(gvb_settle_index(never, 3, 50, 0.10), 3);
    const double always[] = {50, 51};
    assert_int_equal(gvb_settle_index(always, 2, 50, 0.10), 0);
    assert_int_equal(gvb_settle_index(always, 0, 50, 0.10), 0);
    /* band edges are inside: 45 and 55 for 50 +- 10 % */
    const double edge[] = {45, 55};
    assert_int_equal(gvb_settle_index(edge, 2, 50, 0.10), 0);
    assert_double_equal(gvb_overshoot_pp(s, 7, 50), 50, 0);
    assert_double_equal(gvb_overshoot_pp(edge, 2, 60), 0, 0);
    /* 0/100 alternation: p95 - p5 = 100 - 0 over many windows -> 50 pp */
    double alt[40];
    for (int i = 0; i < 40; i++)
        alt[i] = i % 2 ? 100 : 0;
    assert_double_equal(gvb_oscillation_pp(alt, 40), 50, 1e-9);
    const double flat[] = {50, 50, 50};
    assert_double_equal(gvb_oscillation_pp(flat, 3), 0, 0);
    assert_true(isnan(gvb_oscillation_pp(flat, 0)));
}

/* ---- parent-side functions on synthetic results --------------------------------------- */

static void push_all(gvb_series *s, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gvb_series_push(s, v[i]);
}

static gvb_result *add_oh010(gvb_run *run, const char *system, const double *tput, size_t n)
{
    gvb_result *r = gvb_run_add_result(run);
    snprintf(r->metric, sizeof r->metric, "OH-010");
    snprintf(r->system, sizeof r->system, "%s", system);
    r->status = GVB_OK;
    push_all(gvb_result_series(r, "throughput_iter_s"), tput, n);
    return r;
}

static void test_oh010_cross_system(void **state)
{
    (void)state;
    const gvb_metric_impl *impl = gvb_metric_find("OH-010")->impl;
    assert_non_null(impl->cross_system);
    gvb_run run;
    memset(&run, 0, sizeof run);
    gvb_run_add_system(&run, "native", "native");
    gvb_run_add_system(&run, "hami", "hami");
    gvb_kv_set_text(&run.config, "seed", "7");
    const double nat[] = {100, 101, 99, 100, 100}, sys[] = {80, 79, 81, 80, 80};
    add_oh010(&run, "native", nat, 5);
    add_oh010(&run, "hami", sys, 5);
    for (size_t i = 0; i < run.n_results; i++)
        impl->cross_system(&run.results[i], &run);
    const gvb_result *n = &run.results[0], *h = &run.results[1];
    assert_int_equal(n->status, GVB_OK);
    assert_true(n->has_value);
    assert_double_equal(n->value, 0, 0); /* native vs itself, by definition */
    assert_int_equal(n->samples.n, 5);
    assert_double_equal(gvb_median(n->samples.v, n->samples.n), 0, 1e-12);
    assert_int_equal(h->status, GVB_OK);
    assert_double_equal(h->value, 20, 1e-9); /* (100 - 80) / 100 */
    assert_double_equal(gvb_median(h->samples.v, h->samples.n), 20, 1e-9);
    assert_non_null(gvb_kv_get(&h->extras, "degradation_ci95_lo_pct"));
    assert_string_equal(gvb_kv_text(&h->extras, "baseline_system"), "native");
    gvb_run_free(&run);

    /* no native in the invocation: SKIP with the reason, never a number */
    memset(&run, 0, sizeof run);
    gvb_run_add_system(&run, "hami", "hami");
    add_oh010(&run, "hami", sys, 5);
    impl->cross_system(&run.results[0], &run);
    assert_int_equal(run.results[0].status, GVB_SKIP);
    assert_false(run.results[0].has_value);
    assert_non_null(strstr(run.results[0].reason, "native"));
    gvb_run_free(&run);
}

static void test_is008_reduce(void **state)
{
    (void)state;
    const gvb_metric_impl *impl = gvb_metric_find("IS-008")->impl;
    gvb_result r;
    memset(&r, 0, sizeof r);
    gvb_series per[2];
    memset(per, 0, sizeof per);
    const double a[] = {10, 10, 10}, b[] = {10, 30, 10};
    push_all(&per[0], a, 3);
    push_all(&per[1], b, 2); /* one window fewer: windows common to all tenants only */
    gvb_kv_set_num(&r.extras, "t0.throughput_tflops", 10);
    gvb_kv_set_num(&r.extras, "t1.throughput_tflops", 30);
    impl->reduce(&r, per, 2);
    assert_int_equal(r.samples.n, 2);
    assert_double_equal(r.samples.v[0], 1, 1e-12);
    assert_double_equal(r.samples.v[1], 0.8, 1e-12); /* (40)^2 / (2 x 1000) */
    assert_true(r.has_value);
    assert_double_equal(r.value, 0.8, 1e-12);
    gvb_series_free(&per[0]);
    gvb_series_free(&per[1]);
    gvb_result_free(&r);
}

static void set_victim(gvb_result *r, int t, double ok, double wrong, double after, double fin,
                       const char *err)
{
    char k[64];
    snprintf(k, sizeof k, "t%d.ok_iters", t);
    gvb_kv_set_num(&r->extras, k, ok);
    snprintf(k, sizeof k, "t%d.wrong_iters", t);
    gvb_kv_set_num(&r->extras, k, wrong);
    snprintf(k, sizeof k, "t%d.ok_iters_after_events", t);
    gvb_kv_set_num(&r->extras, k, after);
    snprintf(k, sizeof k, "t%d.final_ok", t);
    gvb_kv_set_num(&r->extras, k, fin);
    snprintf(k, sizeof k, "t%d.error", t);
    gvb_kv_set_text(&r->extras, k, "%s", err);
    snprintf(k, sizeof k, "t%d.exit", t);
    gvb_kv_set_text(&r->extras, k, "exit 0");
}

static void fill_is010(gvb_result *r, double u2)
{
    memset(r, 0, sizeof *r);
    r->status = GVB_OK;
    gvb_kv_set_num(&r->extras, "t1.fault_detected", 1);
    gvb_kv_set_text(&r->extras, "t1.exit", "exit 0");
    gvb_kv_set_text(&r->extras, "t2.exit", "signal 9 (Killed)");
    gvb_kv_set_num(&r->extras, "t2.held_bytes", 1073741824.0);
    gvb_kv_set_num(&r->extras, "t0.usable_before_bytes", 10e9);
    gvb_kv_set_num(&r->extras, "t0.usable_neighbour_alive_bytes", 9e9);
    if (isfinite(u2))
        gvb_kv_set_num(&r->extras, "t0.usable_after_kill_bytes", u2);
    else /* what a tenant sends when it could not measure */
        gvb_kv_set_text(&r->extras, "t0.usable_after_kill_bytes", "cudaErrorIllegalAddress");
    set_victim(r, 0, 50, 0, 20, 1, "none");
    set_victim(r, 3, 50, 0, 20, 1, "none");
}

static void test_is010_reduce(void **state)
{
    (void)state;
    const gvb_metric_impl *impl = gvb_metric_find("IS-010")->impl;
    assert_true(impl->tolerate_tenant_death);
    gvb_series per[4];
    memset(per, 0, sizeof per);
    gvb_result r;
    fill_is010(&r, 10e9);
    impl->reduce(&r, per, 4);
    assert_int_equal(r.status, GVB_OK);
    assert_true(r.has_value);
    assert_double_equal(r.value, 1, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "check.killed_tenant_memory_released")->num, 1, 0);
    gvb_result_free(&r);

    /* the killed tenant's memory stays charged: that check fails, with its evidence */
    fill_is010(&r, 9e9);
    impl->reduce(&r, per, 4);
    assert_double_equal(r.value, 0, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "check.killed_tenant_memory_released")->num, 0, 0);
    assert_non_null(gvb_kv_text(&r.extras, "evidence.killed_tenant_memory_released"));
    gvb_result_free(&r);

    /* MPS-like: a victim's work fails after the fault; the result names the survivors */
    fill_is010(&r, NAN);
    set_victim(&r, 3, 10, 0, 0, 0, "cudaErrorIllegalAddress");
    impl->reduce(&r, per, 4);
    assert_double_equal(r.value, 0, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "check.victims_kept_correct_results")->num, 0, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "check.victims_processes_survived")->num, 1, 0);
    assert_non_null(strstr(gvb_kv_text(&r.extras, "survivors"), "correct: t0"));
    assert_non_null(strstr(gvb_kv_text(&r.extras, "evidence.killed_tenant_memory_released"),
                           "not measurable (cudaErrorIllegalAddress)"));
    gvb_result_free(&r);

    /* the kill did not happen: the metric cannot judge, FAIL with the reason */
    fill_is010(&r, 10e9);
    gvb_kv_set_text(&r.extras, "t2.exit", "exit 0");
    impl->reduce(&r, per, 4);
    assert_int_equal(r.status, GVB_FAIL);
    gvb_result_free(&r);
}

static void test_monitor_reduces(void **state)
{
    (void)state;
    /* IS-001 with the monitor: physical peak, overshoot beyond the limit */
    const gvb_metric_impl *is001 = gvb_metric_find("IS-001")->impl;
    assert_true(is001->monitor);
    gvb_result r;
    memset(&r, 0, sizeof r);
    gvb_series per[1];
    memset(per, 0, sizeof per);
    const double acc[] = {83, 83.1};
    push_all(&per[0], acc, 2);
    gvb_kv_set_num(&r.extras, "usable_bytes", 3.5e9);
    gvb_kv_set_num(&r.extras, "limit_bytes", 4e9);
    const double used[] = {0.5e9, 4.2e9, 1e9};
    push_all(gvb_result_series(&r, "monitor.t0.used_bytes"), used, 3);
    is001->reduce(&r, per, 1);
    assert_int_equal(r.samples.n, 2);
    assert_double_equal(gvb_kv_get(&r.extras, "physical_peak_bytes")->num, 4.2e9, 0);
    assert_double_equal(gvb_kv_get(&r.extras, "physical_overshoot_bytes")->num, 0.2e9, 1);
    assert_double_equal(gvb_kv_get(&r.extras, "physical_minus_usable_bytes")->num, 0.7e9, 1);
    gvb_result_free(&r);
    /* ... and without: the tenant's numbers stand, the runner's reason is kept */
    memset(&r, 0, sizeof r);
    gvb_kv_set_text(&r.extras, "monitor", "unavailable: NVML not found");
    is001->reduce(&r, per, 1);
    assert_int_equal(r.samples.n, 2);
    assert_null(gvb_kv_get(&r.extras, "physical_peak_bytes"));
    assert_string_equal(gvb_kv_text(&r.extras, "monitor"), "unavailable: NVML not found");
    assert_non_null(gvb_kv_text(&r.extras, "monitor_cross_check"));
    gvb_result_free(&r);

    /* IS-003: the monitor's SM utilization inside each loop's interval */
    const gvb_metric_impl *is003 = gvb_metric_find("IS-003")->impl;
    memset(&r, 0, sizeof r);
    gvb_kv_set_num(&r.extras, "unsync_start_s", 1.0);
    gvb_kv_set_num(&r.extras, "unsync_end_s", 2.0);
    gvb_kv_set_num(&r.extras, "sync_start_s", 2.0);
    gvb_kv_set_num(&r.extras, "sync_end_s", 3.0);
    gvb_kv_set_num(&r.extras, "achieved_unsync_pct", 48);
    const double t[] = {0.5, 1.2, 1.5, 1.8, 2.2, 2.5, 2.8}, u[] = {0, 50, 50, 56, 90, 100, 95};
    push_all(gvb_result_series(&r, "monitor.time_s"), t, 7);
    push_all(gvb_result_series(&r, "monitor.t0.sm_util_pct"), u, 7);
    is003->reduce(&r, per, 1);
    assert_double_equal(gvb_kv_get(&r.extras, "monitor_sm_util_unsync_pct")->num, 52, 1e-9);
    assert_double_equal(gvb_kv_get(&r.extras, "monitor_sm_util_sync_pct")->num, 95, 1e-9);
    assert_double_equal(gvb_kv_get(&r.extras, "monitor_minus_achieved_pp")->num, 4, 1e-9);
    gvb_result_free(&r);
    /* too few samples inside the loop: the busy samples before the kernel shapes' loops (the
     * 20 % of a sub-wave shape at 3.5 s is not the primary's utilization) */
    memset(&r, 0, sizeof r);
    gvb_kv_set_num(&r.extras, "unsync_start_s", 1.0);
    gvb_kv_set_num(&r.extras, "unsync_end_s", 1.15);
    gvb_kv_set_num(&r.extras, "shapes_start_s", 3.0);
    const double t2[] = {0.5, 1.1, 2.0, 3.5, 3.9}, u2[] = {0, 50, 60, 20, 20};
    push_all(gvb_result_series(&r, "monitor.time_s"), t2, 5);
    push_all(gvb_result_series(&r, "monitor.t0.sm_util_pct"), u2, 5);
    is003->reduce(&r, per, 1);
    assert_double_equal(gvb_kv_get(&r.extras, "monitor_sm_util_unsync_pct")->num, 55, 1e-9);
    gvb_result_free(&r);
    gvb_series_free(&per[0]);
}

static void test_victim_reduces(void **state)
{
    (void)state;
    /* IS-006: contended windows as % of the solo median */
    const gvb_metric_impl *is006 = gvb_metric_find("IS-006")->impl;
    gvb_result r;
    memset(&r, 0, sizeof r);
    gvb_series per[2];
    memset(per, 0, sizeof per);
    const double solo[] = {40, 50, 60}, cont[] = {10, 12.5, 15};
    push_all(gvb_result_series(&r, "t0.solo_tflops"), solo, 3);
    push_all(&per[0], cont, 3);
    is006->reduce(&r, per, 2);
    assert_int_equal(r.samples.n, 3);
    assert_double_equal(gvb_median(r.samples.v, r.samples.n), 25, 1e-9);
    gvb_result_free(&r);
    gvb_series_free(&per[0]);

    /* IS-009: slowdown over the solo median, and on p99 */
    const gvb_metric_impl *is009 = gvb_metric_find("IS-009")->impl;
    memset(&r, 0, sizeof r);
    const double s9[] = {10, 10, 10, 10}, c9[] = {20, 20, 30, 20};
    push_all(gvb_result_series(&r, "t0.solo_us"), s9, 4);
    push_all(&per[0], c9, 4);
    is009->reduce(&r, per, 2);
    assert_double_equal(gvb_median(r.samples.v, r.samples.n), 100, 1e-9);
    assert_double_equal(gvb_kv_get(&r.extras, "solo_median_us")->num, 10, 0);
    assert_true(gvb_kv_get(&r.extras, "p99_slowdown_pct")->num > 100);
    gvb_result_free(&r);
    gvb_series_free(&per[0]);
}

int run_isolation_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_shares_and_changes),
        cmocka_unit_test(test_jain),
        cmocka_unit_test(test_ls_slope),
        cmocka_unit_test(test_window_shares),
        cmocka_unit_test(test_settle_overshoot_oscillation),
        cmocka_unit_test(test_oh010_cross_system),
        cmocka_unit_test(test_is008_reduce),
        cmocka_unit_test(test_is010_reduce),
        cmocka_unit_test(test_monitor_reduces),
        cmocka_unit_test(test_victim_reduces),
    };
    return cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
}
