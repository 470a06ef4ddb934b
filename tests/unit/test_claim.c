/* The claim rule (stats/claim.h) on constructed replicate values: Student t quantiles against
 * published tables, a true difference found, A/A data not claimed (at the rate the level
 * promises, by simulation), pairing removing a drift that unpaired cannot, differences for
 * values of both signs, and bad input. Also the interleaved order and the ETA of the runner,
 * and the baseline decided by kind (native@b is native). */
#include <math.h>
#include <string.h>

#include "core/runner.h"
#include "core/worker.h"
#include "metrics/metric_util.h"
#include "stats/claim.h"
#include "stats/stats.h"
#include "systems/system.h"
#include "tests.h"

static void test_t_quantiles(void **state)
{
    (void)state;
    /* two-sided 95 % and 99 % quantiles, from standard tables */
    static const double tab[][3] = {{1, 12.706, 63.657}, {2, 4.303, 9.925}, {3, 3.182, 5.841},
                                    {4, 2.776, 4.604},   {9, 2.262, 3.250}, {30, 2.042, 2.750}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        assert_double_equal(gvb_t_quantile(tab[i][0], 0.95), tab[i][1], 1e-3);
        assert_double_equal(gvb_t_quantile(tab[i][0], 0.99), tab[i][2], 1e-3);
    }
    assert_double_equal(gvb_t_quantile(1e6, 0.95), 1.960, 1e-3);
    assert_double_equal(gvb_t_cdf(0, 3), 0.5, 1e-12);
    assert_double_equal(gvb_t_cdf(-2, 2) + gvb_t_cdf(2, 2), 1.0, 1e-12);
    /* df = 1 is Cauchy: P(T <= 1) = 3/4 */
    assert_double_equal(gvb_t_cdf(1, 1), 0.75, 1e-9);
    assert_true(isnan(gvb_t_quantile(0, 0.95)) && isnan(gvb_t_quantile(3, 1.0)));
}

static void test_true_difference_found(void **state)
{
    (void)state;
    /* 3 paired rounds, b 20 % slower than a with a couple of % of noise each round */
    const double a[] = {10.0, 10.3, 9.8}, b[] = {12.1, 12.3, 11.7};
    gvb_claim c;
    assert_int_equal(gvb_claim_test(b, 3, a, 3, 1, 0.99, &c), 0);
    assert_true(c.paired && c.is_ratio && c.differs);
    assert_double_equal(c.df, 2, 0);
    assert_true(c.lo > 1 && c.est > 1.18 && c.est < 1.22);
    /* the interval is exp(mean +- t sd / sqrt(n)) of the log ratios */
    double d[3], m = 0, v = 0;
    for (int i = 0; i < 3; i++)
        m += (d[i] = log(b[i] / a[i])) / 3;
    for (int i = 0; i < 3; i++)
        v += (d[i] - m) * (d[i] - m) / 2;
    double h = 9.9248 * sqrt(v / 3);
    assert_double_equal(log(c.hi / c.est), h, 1e-4);
    assert_double_equal(c.mde, expm1(h), 1e-4);
    /* the same data at 95 %: a narrower interval */
    gvb_claim c95;
    gvb_claim_test(b, 3, a, 3, 1, 0.95, &c95);
    assert_true(c95.mde < c.mde && c95.differs);
}

static void test_identical_and_constant(void **state)
{
    (void)state;
    const double a[] = {5, 5, 5}, b[] = {7, 7, 7};
    gvb_claim c;
    assert_int_equal(gvb_claim_test(a, 3, a, 3, 1, 0.99, &c), 0);
    assert_false(c.differs);
    assert_double_equal(c.est, 1, 0);
    assert_double_equal(c.mde, 0, 0);
    /* every replicate says 7 against 5: that is a claim */
    assert_int_equal(gvb_claim_test(b, 3, a, 3, 1, 0.99, &c), 0);
    assert_true(c.differs && c.lo > 1);
    /* ... but not from 2 replicates: a value in steps repeats by chance 1 time in 4 */
    assert_int_equal(gvb_claim_test(b, 2, a, 2, 1, 0.99, &c), 0);
    assert_false(c.differs);
    assert_int_equal(gvb_claim_test(b, 2, a, 2, 0, 0.99, &c), 0);
    assert_false(c.differs);
    /* values near 1 that differ only below rounding are no difference (log scale) */
    const double one[] = {1, 1}, one_eps[] = {1 + 0x1p-52, 1 + 0x1p-52};
    assert_int_equal(gvb_claim_test(one_eps, 2, one, 2, 1, 0.99, &c), 0);
    assert_false(c.differs);
}

/* A/A: both sides the same process, 3 paired rounds, a round effect (host speed) common to
 * both and a process effect of its own on each replicate. Of many such comparisons the share
 * claimed must be what the level promises (1 - level), not the 37 % the old rule showed. */
static void test_aa_false_claims(void **state)
{
    (void)state;
    gvb_rng rng;
    gvb_rng_seed(&rng, 42);
    int claims = 0, claims_unpaired = 0, trials = 20000;
    for (int t = 0; t < trials; t++) {
        double a[3], b[3];
        for (int k = 0; k < 3; k++) {
            double round = 1.0 + 0.3 * gvb_rng_unit(&rng); /* up to 30 % drift between rounds */
            /* Box-Muller normals for the process effects (2 %) */
            double u1 = gvb_rng_unit(&rng) + 1e-12, u2 = gvb_rng_unit(&rng);
            double z1 = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
            double z2 = sqrt(-2 * log(u1)) * sin(2 * M_PI * u2);
            a[k] = 100 * round * exp(0.02 * z1);
            b[k] = 100 * round * exp(0.02 * z2);
        }
        gvb_claim c;
        assert_int_equal(gvb_claim_test(b, 3, a, 3, 1, GVB_CLAIM_LEVEL, &c), 0);
        claims += c.differs;
        assert_int_equal(gvb_claim_test(b, 3, a, 3, 0, GVB_CLAIM_LEVEL, &c), 0);
        claims_unpaired += c.differs;
    }
    double rate = (double)claims / trials, want = 1 - GVB_CLAIM_LEVEL;
    double sd = sqrt(want * (1 - want) / trials); /* binomial */
    print_message("A/A: %d of %d paired comparisons claimed (%.2f %%, level promises %.2f %%)\n",
                  claims, trials, 100 * rate, 100 * want);
    assert_true(fabs(rate - want) < 4 * sd);
    /* unpaired, the drift inflates the variance: fewer claims, never more than the level */
    assert_true((double)claims_unpaired / trials < want + 4 * sd);
}

/* A drift between rounds hides a 5 % effect from the unpaired test; pairing finds it. */
static void test_pairing_removes_drift(void **state)
{
    (void)state;
    const double round[] = {1.0, 1.25, 0.9, 1.1};
    double a[4], b[4];
    for (int k = 0; k < 4; k++) {
        a[k] = 10 * round[k] * (1 + 0.002 * (k % 2));
        b[k] = 10.5 * round[k] * (1 - 0.002 * (k % 2));
    }
    gvb_claim p, u;
    assert_int_equal(gvb_claim_test(b, 4, a, 4, 1, 0.99, &p), 0);
    assert_int_equal(gvb_claim_test(b, 4, a, 4, 0, 0.99, &u), 0);
    assert_true(p.differs && p.lo > 1.03 && p.hi < 1.07);
    assert_false(u.differs);
    assert_true(u.mde > 5 * p.mde);
}

static void test_difference_scale_and_bad_input(void **state)
{
    (void)state;
    /* values of both signs: a difference a - b */
    const double a[] = {-2.0, 0.5, -1.0}, b[] = {3.0, 5.5, 4.0};
    gvb_claim c;
    assert_int_equal(gvb_claim_test(a, 3, b, 3, 1, 0.99, &c), 0);
    assert_false(c.is_ratio);
    assert_double_equal(c.est, -5.0, 1e-12);
    assert_true(c.differs && c.hi < 0);
    assert_double_equal(c.mde, 0, 1e-12); /* the same -5 in every round */
    const double one[] = {1.0}, nanv[] = {1.0, NAN}, two[] = {1.0, 2.0}, three[] = {1, 2, 3};
    assert_int_equal(gvb_claim_test(one, 1, two, 2, 0, 0.99, &c), -1);
    assert_int_equal(gvb_claim_test(nanv, 2, two, 2, 0, 0.99, &c), -1);
    assert_int_equal(gvb_claim_test(two, 2, three, 3, 1, 0.99, &c), -1); /* paired, unequal */
    assert_int_equal(gvb_claim_test(two, 2, two, 2, 1, 1.5, &c), -1);
    /* Welch with unequal counts works and is unpaired */
    assert_int_equal(gvb_claim_test(two, 2, three, 3, 0, 0.99, &c), 0);
    assert_false(c.paired);
}

static void test_round_order(void **state)
{
    (void)state;
    /* over n rounds every system takes every position once, for any metric index */
    for (int n = 1; n <= 5; n++) {
        for (int mi = 0; mi < 3; mi++) {
            int seen[5][5] = {{0}};
            for (int k = 0; k < n; k++) {
                int order[5], used[5] = {0};
                gvb_round_order(n, mi, k, order);
                for (int p = 0; p < n; p++) {
                    assert_true(order[p] >= 0 && order[p] < n);
                    assert_false(used[order[p]]);
                    used[order[p]] = 1;
                    seen[order[p]][p]++;
                }
            }
            for (int s = 0; s < n; s++)
                for (int p = 0; p < n; p++)
                    assert_int_equal(seen[s][p], 1);
        }
    }
    /* consecutive rounds of two systems alternate which goes first */
    int o0[2], o1[2];
    gvb_round_order(2, 0, 0, o0);
    gvb_round_order(2, 0, 1, o1);
    assert_int_equal(o0[0], o1[1]);
}

static void test_eta(void **state)
{
    (void)state;
    double s[3] = {0};
    int n[3] = {0}, left[3] = {4, 4, 2};
    assert_true(isnan(gvb_eta_estimate(s, n, left, 3))); /* nothing finished yet */
    s[0] = 6;
    n[0] = 2;
    left[0] = 2; /* 3 s a slot: metric 0 has 2 left (6 s), the others at the mean (18 s) */
    assert_double_equal(gvb_eta_estimate(s, n, left, 3), 6 + 4 * 3 + 2 * 3, 1e-12);
    s[1] = 10;
    n[1] = 1;
    left[1] = 3; /* metric 1: 10 s a slot; the mean slot is now 16 / 3 s */
    assert_double_equal(gvb_eta_estimate(s, n, left, 3), 2 * 3 + 3 * 10 + 2 * 16.0 / 3, 1e-12);
    left[0] = left[1] = left[2] = 0;
    assert_double_equal(gvb_eta_estimate(s, n, left, 3), 0, 0);
}

/* native@LABEL is native everywhere: its kind, the worker's test, with a memory limit. */
static void test_baseline_by_kind(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    o.memory_limit = 4ull << 30;
    gvb_system s;
    char err[256];
    assert_int_equal(gvb_system_resolve("native@b", &o, &s, err, sizeof err), 0);
    assert_string_equal(gvb_system_kind(&s), "native");
    assert_true(gvb_kind_is_baseline(gvb_system_kind(&s)));
    assert_int_equal(gvb_system_resolve("mps@b", &o, &s, err, sizeof err), 0);
    assert_false(gvb_kind_is_baseline(gvb_system_kind(&s)));
    /* the worker gets the kind beside the name, and the metrics ask the kind */
    char *argv[] = {"__worker", "--metric=IS-001", "--system=native@b", "--kind=native",
                    "--memory-limit=4294967296", NULL};
    gvb_worker w;
    assert_int_equal(gvb_worker_parse(5, argv, &w), 0);
    assert_string_equal(w.system, "native@b");
    assert_true(w.memory_limit == 4ull << 30);
    assert_true(gvb_is_native(&w));
    char *layer[] = {"__worker", "--metric=IS-001", "--system=native", "--kind=hami", NULL};
    assert_int_equal(gvb_worker_parse(4, layer, &w), 0);
    assert_false(gvb_is_native(&w)); /* a name is not a kind */
    char *bad[] = {"__worker", "--metric=NOPE-1", NULL};
    assert_int_equal(gvb_worker_parse(2, bad, &w), -1);
}

int run_claim_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_quantiles),
        cmocka_unit_test(test_true_difference_found),
        cmocka_unit_test(test_identical_and_constant),
        cmocka_unit_test(test_aa_false_claims),
        cmocka_unit_test(test_pairing_removes_drift),
        cmocka_unit_test(test_difference_scale_and_bad_input),
        cmocka_unit_test(test_round_order),
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_baseline_by_kind),
    };
    return cmocka_run_group_tests_name("claim", tests, NULL, NULL);
}
