/* The calibration layer's pure part (spec, memory accounting, duty bucket), --calib, system
 * instances (KIND@LABEL) and the calib system's activation-proof judgement. */
#include <string.h>

#include "calib/calib_account.h"
#include "core/options.h"
#include "systems/system.h"
#include "tests.h"

static void test_spec(void **state)
{
    (void)state;
    gvb_calib_spec s;
    char err[256];
    assert_int_equal(gvb_calib_spec_parse("launch_us=20,alloc_us=50,mem=3g,duty=50", &s, err,
                                          sizeof err),
                     0);
    assert_double_equal(s.launch_us, 20, 0);
    assert_double_equal(s.alloc_us, 50, 0);
    assert_true(s.mem == 3ull << 30);
    assert_int_equal(s.duty, 50);
    assert_int_equal(gvb_calib_spec_parse("alloc_us=0.5", &s, err, sizeof err), 0);
    assert_double_equal(s.alloc_us, 0.5, 0);
    assert_double_equal(s.launch_us, 0, 0);
    assert_true(s.mem == 0);
    assert_int_equal(s.duty, 0);
    assert_int_equal(gvb_calib_spec_parse("mem=3072", &s, err, sizeof err), 0); /* MiB */
    assert_true(s.mem == 3ull << 30);
    assert_int_equal(gvb_calib_spec_parse("", &s, err, sizeof err), 0); /* no effects */
    assert_int_equal(gvb_calib_spec_parse(NULL, &s, err, sizeof err), 0);
    static const char *const bad[] = {
        "launch_us", "launch_us=", "=5", "launch=5", "launch_us=-1", "launch_us=+1",
        "launch_us=2e6", "launch_us=nan", "launch_us=5us", "duty=0", "duty=101", "duty=50.5",
        "mem=0", "mem=3x", "launch_us=1,launch_us=2", "LAUNCH_US=1", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        assert_int_equal(gvb_calib_spec_parse(bad[i], &s, err, sizeof err), -1);
        assert_true(strlen(err) > 10);
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(gvb_calib_spec_parse("bogus=1", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown key 'bogus'"));
}

static void test_acct_cap(void **state)
{
    (void)state;
    gvb_calib_acct a;
    gvb_calib_acct_init(&a, 3ull << 30);
    gvb_calib_acct_set_charge(&a, 80ull << 30, (80ull << 30) - (500ull << 20));
    assert_true(a.charge == 500ull << 20);
    uint64_t f, t;
    gvb_calib_acct_meminfo(&a, &f, &t);
    assert_true(t == 3ull << 30);
    assert_true(f == (3ull << 30) - (500ull << 20));
    /* fill with 64 MiB until refused: exactly floor((cap - charge) / 64 MiB) fit */
    uint64_t chunk = 64ull << 20, ptr = 1ull << 40;
    int n = 0;
    while (gvb_calib_acct_reserve(&a, chunk) == 0) {
        assert_int_equal(gvb_calib_acct_track(&a, ptr + (uint64_t)n * chunk, chunk), 0);
        n++;
    }
    assert_int_equal(n, (int)(((3ull << 30) - (500ull << 20)) / chunk));
    gvb_calib_acct_meminfo(&a, &f, &t);
    assert_true(f == (3ull << 30) - (500ull << 20) - (uint64_t)n * chunk);
    /* the remainder fits exactly, one byte more does not */
    assert_int_equal(gvb_calib_acct_reserve(&a, f + 1), -1);
    assert_int_equal(gvb_calib_acct_reserve(&a, f), 0);
    gvb_calib_acct_unreserve(&a, f);
    /* frees return exactly their size; unknown pointers return nothing */
    assert_true(gvb_calib_acct_release(&a, ptr) == chunk);
    assert_true(gvb_calib_acct_release(&a, ptr) == 0);
    assert_true(gvb_calib_acct_release(&a, 12345) == 0);
    for (int i = 1; i < n; i++)
        assert_true(gvb_calib_acct_release(&a, ptr + (uint64_t)i * chunk) == chunk);
    assert_true(a.live == 0 && a.n_live == 0);
    gvb_calib_acct_meminfo(&a, &f, &t);
    assert_true(f == (3ull << 30) - (500ull << 20));
    /* a request larger than the cap never wraps around */
    assert_int_equal(gvb_calib_acct_reserve(&a, UINT64_MAX), -1);
    gvb_calib_acct_free(&a);
}

static void test_acct_table(void **state)
{
    (void)state;
    /* no cap: everything is tracked; many pointers with shared low bits, freed in a
     * scattered order, must each come back with their own size (probe chains survive
     * deletions) */
    gvb_calib_acct a;
    gvb_calib_acct_init(&a, 0);
    enum { N = 20000 };
    for (uint64_t i = 0; i < N; i++) {
        assert_int_equal(gvb_calib_acct_reserve(&a, i + 1), 0);
        assert_int_equal(gvb_calib_acct_track(&a, (i + 1) << 21, i + 1), 0);
    }
    assert_true(a.n_live == N);
    assert_true(a.live == (uint64_t)N * (N + 1) / 2);
    for (uint64_t k = 0; k < N; k++) {
        uint64_t i = (k * 7919) % N; /* a permutation: 7919 is prime, N is not its multiple */
        assert_true(gvb_calib_acct_release(&a, (i + 1) << 21) == i + 1);
    }
    assert_true(a.n_live == 0 && a.live == 0);
    /* a failed allocation gives its reservation back */
    assert_int_equal(gvb_calib_acct_reserve(&a, 100), 0);
    gvb_calib_acct_unreserve(&a, 100);
    assert_true(a.live == 0);
    /* a pointer tracked twice (its free was missed) is charged once */
    assert_int_equal(gvb_calib_acct_reserve(&a, 10), 0);
    assert_int_equal(gvb_calib_acct_track(&a, 4096, 10), 0);
    assert_int_equal(gvb_calib_acct_reserve(&a, 20), 0);
    assert_int_equal(gvb_calib_acct_track(&a, 4096, 20), 0);
    assert_true(a.live == 20 && a.n_live == 1);
    gvb_calib_acct_free(&a);
}

/* A saturating launch+sync loop under the bucket: busy / wall must equal the duty. */
static double simulate_duty(int duty, double kernel_s, double host_gap_s, double seconds)
{
    gvb_calib_duty d;
    gvb_calib_duty_init(&d, duty, GVB_CALIB_DUTY_WINDOW_S);
    double now = 0, busy = 0;
    while (now < seconds) {
        now += kernel_s;
        busy += kernel_s;
        now += gvb_calib_duty_spend(&d, now, kernel_s);
        now += host_gap_s;
    }
    return busy / now;
}

static void test_duty(void **state)
{
    (void)state;
    assert_double_equal(simulate_duty(50, 1e-3, 0, 10), 0.50, 0.002);
    assert_double_equal(simulate_duty(25, 50e-6, 0, 10), 0.25, 0.002);
    assert_double_equal(simulate_duty(90, 5e-3, 0, 10), 0.90, 0.002);
    /* a tenant that idles on its own more than the duty asks is not slowed down */
    assert_double_equal(simulate_duty(50, 1e-3, 3e-3, 10), 0.25, 0.002);
    /* 100 % (or none) never sleeps */
    gvb_calib_duty d;
    gvb_calib_duty_init(&d, 100, GVB_CALIB_DUTY_WINDOW_S);
    assert_double_equal(gvb_calib_duty_spend(&d, 1.0, 0.5), 0, 0);
    gvb_calib_duty_init(&d, 0, GVB_CALIB_DUTY_WINDOW_S);
    assert_double_equal(gvb_calib_duty_spend(&d, 1.0, 0.5), 0, 0);
    /* after a long idle period the burst is capped at window x duty */
    gvb_calib_duty_init(&d, 50, 0.1);
    assert_double_equal(gvb_calib_duty_spend(&d, 1.0, 0.01), 0.01, 1e-12);
    assert_double_equal(gvb_calib_duty_spend(&d, 101.0, 0.06), 0.02, 1e-9);
}

/* argv as the user typed it after `run`; NULL-terminated */
#define RUN_ARGS(...) ((char *[]){"run", __VA_ARGS__, NULL})
static int parse_run(gvb_options *o, char *err, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    gvb_options_defaults(o);
    return gvb_options_parse(argc, argv, o, err, 256);
}

static void test_calib_option(void **state)
{
    (void)state;
    static gvb_options o;
    char err[256];
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "native,calib", "--calib",
                                                     "launch_us=20,mem=3g")),
                     0);
    assert_string_equal(o.calib, "launch_us=20,mem=3g");
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "calib@x", "--calib",
                                                     "duty=50")),
                     0);
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "calib")), 0);
    assert_string_equal(o.calib, "");
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "calib", "--calib",
                                                     "duty=0")),
                     -1);
    assert_non_null(strstr(err, "--calib: calibration spec: bad value '0' for duty"));
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "calib", "--calib", "")),
                     -1);
    assert_non_null(strstr(err, "empty spec"));
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--calib", "launch_us=1")), -1);
    assert_non_null(strstr(err, "add --systems calib"));
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "calibx", "--calib",
                                                     "launch_us=1")),
                     -1);
}

static void test_instances(void **state)
{
    (void)state;
    static gvb_options o;
    char err[256];
    gvb_system s;
    assert_int_equal(parse_run(&o, err, RUN_ARGS("--systems", "native@a,native@b")), 0);
    assert_int_equal(o.n_systems, 2);
    assert_int_equal(gvb_system_resolve("native@a", &o, &s, err, sizeof err), 0);
    assert_string_equal(s.name, "native@a");
    assert_ptr_equal(s.ops, &gvb_system_native);
    assert_int_equal(gvb_system_resolve("calib@2", &o, &s, err, sizeof err), 0);
    assert_ptr_equal(s.ops, &gvb_system_calib);
    assert_int_equal(gvb_system_resolve("calib", &o, &s, err, sizeof err), 0);
    assert_ptr_equal(s.ops, &gvb_system_calib);
    static const char *const bad[] = {"native@", "@a", "native@a b", "native@a/b", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(gvb_system_resolve(bad[i], &o, &s, err, sizeof err), -1);
        assert_non_null(strstr(err, "bad system instance"));
    }
    assert_int_equal(gvb_system_resolve("nativ@a", &o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown system 'nativ'"));
}

static void proof_ok(gvb_kv *p)
{
    gvb_kv_set_text(p, "proof_status", "OK");
    gvb_kv_set_text(p, "lib_path", "/x/libgvb-calib.so");
    gvb_kv_set_num(p, "lib_exists", 1);
    gvb_kv_set_num(p, "stats_found", 1);
    gvb_kv_set_num(p, "config_ok", 1);
    gvb_kv_set_num(p, "intercepted_launches", 1);
    gvb_kv_set_num(p, "intercepted_allocs", 1);
    gvb_kv_set_num(p, "meminfo_total_bytes", 3221225472.0);
}

static void test_judge(void **state)
{
    (void)state;
    gvb_calib_spec spec = {.launch_us = 20, .mem = 3ull << 30};
    char why[512];
    gvb_kv p = {0};
    proof_ok(&p);
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), 0);
    gvb_kv_set_num(&p, "meminfo_total_bytes", 85899345920.0);
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "not the cap"));
    spec.mem = 0; /* no cap configured: the physical total is right */
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), 0);
    gvb_kv_set_num(&p, "intercepted_launches", 0); /* mapped but bypassed */
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "bypass"));
    gvb_kv_set_num(&p, "stats_found", 0);
    gvb_kv_set_num(&p, "lib_exists", 0);
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "does not exist"));
    gvb_kv_set_num(&p, "lib_exists", 1);
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "not loaded by LD_PRELOAD"));
    gvb_kv_free(&p);
    proof_ok(&p);
    gvb_kv_set_num(&p, "config_ok", 0);
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "rejected GVB_CALIB"));
    gvb_kv_set_text(&p, "proof_status", "FAIL");
    gvb_kv_set_text(&p, "proof_reason", "cudaMalloc: out of memory");
    assert_int_equal(gvb_calib_judge_proof(&p, &spec, why, sizeof why), -1);
    assert_non_null(strstr(why, "cudaMalloc: out of memory"));
    gvb_kv_free(&p);
}

int run_calib_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),         cmocka_unit_test(test_acct_cap),
        cmocka_unit_test(test_acct_table),   cmocka_unit_test(test_duty),
        cmocka_unit_test(test_calib_option), cmocka_unit_test(test_instances),
        cmocka_unit_test(test_judge),
    };
    return cmocka_run_group_tests_name("calib", tests, NULL, NULL);
}
