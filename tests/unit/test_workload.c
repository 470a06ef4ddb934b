/* `workload`'s pure parts: its command line, the spec file its tenants read, and the figures
 * read from a program's output. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/options.h"
#include "core/result.h"
#include "core/workload_spec.h"
#include "stats/formulas.h"
#include "tests.h"

static int parse(gvb_options *o, gvb_workload_args *a, char *err, const char *const *words)
{
    int n;
    char **argv = gvb_test_argv("workload", words, &n);
    gvb_options_defaults(o);
    return gvb_workload_parse(n, argv, o, a, err, 256);
}

static void test_parse(void **state)
{
    (void)state;
    static gvb_options o;
    static gvb_workload_args a;
    char err[256];
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--systems", "native,mps", "--tenants", "3",
                     "--metric-regex=tok/s: ([0-9.]+)", "--replicates", "5", "--", "sh", "-c",
                     "echo 1", NULL}), 0);
    assert_string_equal(a.metric, "WL-002");
    assert_string_equal(a.regex, "tok/s: ([0-9.]+)");
    assert_int_equal(a.argc, 3);
    assert_non_null(strstr(a.argv[0], "/sh")); /* resolved through PATH */
    assert_string_equal(a.argv[2], "echo 1");
    assert_null(a.argv[3]);
    assert_int_equal(o.processes, 3);
    assert_int_equal(o.replicates, 5);
    assert_int_equal(o.n_systems, 2);
    /* run's option after -- belongs to the program */
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--metric-regex", "x=([0-9]+)",
                     "--metric-better", "lower", "--", "true", "--tenants", "9", NULL}), 0);
    assert_string_equal(a.metric, "WL-003");
    assert_int_equal(o.processes, 1);
    assert_string_equal(a.argv[1], "--tenants");
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--", "/bin/true", NULL}), 0);
    assert_string_equal(a.metric, "WL-001");
    assert_string_equal(a.argv[0], "/bin/true");
    assert_true(a.duration_s == 0 && o.deadline_s == 0);
    /* a soak: the tenant's deadline follows the duration unless given */
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--duration", "600", "--", "true", NULL}), 0);
    assert_true(a.duration_s == 600 && o.deadline_s == 900);
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--duration=60", "--deadline", "100", "--",
                     "true", NULL}), 0);
    assert_true(a.duration_s == 60 && o.deadline_s == 100);
    /* refused, with the reason */
    static const struct {
        const char *words[8];
        const char *why;
    } bad[] = {
        {{"--tenants", "65", "--", "true"}, "--tenants must be 1..64"},
        {{"--tenants", "2x", "--", "true"}, "--tenants must be 1..64"},
        {{"--tenants", "--", "true"}, "--tenants has no value"},
        {{"--metric-regex", "", "--", "true"}, "--metric-regex is empty"},
        {{"--processes", "4", "--", "true"}, "use --tenants"},
        {{"--min-time=1", "--", "true"}, "--min-time does not apply"},
        {{"--duration", "0", "--", "true"}, "--duration is seconds"},
        {{"--duration", "1e9", "--", "true"}, "at most a week"},
        {{"--duration", "60", "--deadline", "30", "--", "true"}, "must exceed --duration"},
        {{"--metric-regex", "(", "--", "true"}, "--metric-regex '('"},
        {{"--metric-units", "(", "--", "true"}, "--metric-units '('"},
        {{"--metric-units", "(a)(b)", "--", "true"}, "--metric-units '(a)(b)': 2 capture groups"},
        {{"--metric-units", "", "--", "true"}, "--metric-units is empty"},
        {{"--metric-better", "lower", "--", "true"}, "needs --metric-regex"},
        {{"--metrics", "OH-001", "--", "true"}, "built-in metrics"},
        {{"--", "/no/such/prog"}, "no executable program '/no/such/prog'"},
        {{"--", "/etc"}, "no executable program '/etc'"},
        {{"--systems", "native"}, "after --"},
        {{"--systems", "native"}, "or a built-in one: --builtin llm-serve"},
        {{"--builtin", "llm-chat"}, "unknown built-in workload 'llm-chat' (known: llm-serve)"},
        {{"--builtin", "llm-serve", "--", "true"}, "give it or -- COMMAND, not both"},
        {{"--builtin", "llm-serve", "--"}, "not both"},
        {{"--builtin"}, "--builtin has no value"},
        {{"--frob", "--", "true"}, "frob"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(parse(&o, &a, err, bad[i].words), -1);
        if (!strstr(err, bad[i].why))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].why);
    }
}

/* --builtin llm-serve: this program's `serve` with run's seed, the tokens/s figure (or the one
 * asked for), and the memory per tenant once the limits are known */
static void test_builtin(void **state)
{
    (void)state;
    static gvb_options o;
    static gvb_workload_args a;
    char err[256], self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--builtin", "llm-serve", "--systems",
                     "native,mps", "--seed", "7", NULL}), 0);
    assert_string_equal(a.builtin, "llm-serve");
    assert_int_equal(a.argc, 4);
    assert_string_equal(a.argv[0], self); /* this very program */
    assert_string_equal(a.argv[1], "serve");
    assert_string_equal(a.argv[2], "--seed");
    assert_string_equal(a.argv[3], "7");
    assert_null(a.argv[4]);
    assert_string_equal(a.regex, "tokens/s: ([0-9.]+)");
    assert_string_equal(a.units, "requests, ([0-9]+) output tokens"); /* serve's summary line */
    assert_string_equal(a.metric, "WL-002"); /* a figure, higher is better */
    assert_null(a.alone);
    /* several tenants: measured alone too; another figure of serve's when asked */
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--builtin=llm-serve", "--tenants", "2",
                     "--metric-regex", "ttft_ms p50: ([0-9.]+)", "--metric-better", "lower", NULL}), 0);
    assert_string_equal(a.regex, "ttft_ms p50: ([0-9.]+)");
    assert_string_equal(a.metric, "WL-003");
    assert_string_equal(a.alone, "WL-006");
    assert_string_equal(gvb_workload_alone(a.metric), a.alone); /* the slowdown's pairing */
    assert_string_equal(gvb_workload_alone("WL-001"), "WL-004");
    assert_null(gvb_workload_alone("WL-005"));
    assert_int_equal(o.processes, 2);
    /* the memory: the per-tenant limit; else with tenants an equal share of the device's */
    assert_int_equal(gvb_workload_builtin_memory(&a, 0, 0, 2), 0); /* unknown device: none */
    assert_int_equal(a.argc, 4);
    assert_int_equal(gvb_workload_builtin_memory(&a, 0, 80.0 * (1 << 30), 1), 0); /* alone: none */
    assert_int_equal(a.argc, 4);
    assert_int_equal(gvb_workload_builtin_memory(&a, 0, 80.0 * (1 << 30), 2), 0);
    assert_int_equal(a.argc, 6);
    assert_string_equal(a.argv[4], "--memory");
    assert_string_equal(a.argv[5], "40960");
    assert_null(a.argv[6]);
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--builtin", "llm-serve",
                     "--memory-limit", "16g", NULL}), 0);
    assert_int_equal(gvb_workload_builtin_memory(&a, o.memory_limit, 80.0 * (1 << 30), 2), 0);
    assert_string_equal(a.argv[5], "16384");
    /* a COMMAND gets nothing added */
    assert_int_equal(parse(&o, &a, err, (const char *[]){"--", "true", NULL}), 0);
    assert_null(a.builtin);
    assert_int_equal(gvb_workload_builtin_memory(&a, UINT64_C(1) << 34, 0, 2), 0);
    assert_int_equal(a.argc, 1);
}

static void test_spec_round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/gvb-wl-spec.XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {"/usr/bin/python3", "serve.py", "--prompt", "a b\tc", "", NULL};
    assert_int_equal(gvb_workload_spec_write(path, "tok/s: ([0-9.]+)", "tokens: ([0-9]+)", 90.5,
                                             argv, 5, err, sizeof err), 0);
    gvb_workload_spec s;
    assert_int_equal(gvb_workload_spec_read(path, &s, err, sizeof err), 0);
    assert_string_equal(s.regex, "tok/s: ([0-9.]+)");
    assert_string_equal(s.units, "tokens: ([0-9]+)");
    assert_true(s.duration_s == 90.5);
    assert_int_equal(s.argc, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.argv[i], argv[i]);
    assert_null(s.argv[5]);
    gvb_workload_spec_free(&s);
    /* not a spec, truncated, missing: refused */
    FILE *f = fopen(path, "w");
    fputs("GVBWL3", f); /* no NUL: truncated */
    fclose(f);
    assert_int_equal(gvb_workload_spec_read(path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a workload spec"));
    f = fopen(path, "w");
    fwrite("GVBWL3\0re\0un\0" "0\0", 1, 15, f); /* regexes, a duration, no command */
    fclose(f);
    assert_int_equal(gvb_workload_spec_read(path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "without a command"));
    f = fopen(path, "w");
    fwrite("GVBWL3\0re\0\0-1\0true\0", 1, 19, f); /* a negative duration */
    fclose(f);
    assert_int_equal(gvb_workload_spec_read(path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad duration"));
    unlink(path);
    assert_int_equal(gvb_workload_spec_read(path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
    assert_int_equal(gvb_workload_spec_write(path, "", "", 0, argv, 0, err, sizeof err), -1);
}

static void test_figures(void **state)
{
    (void)state;
    char err[256];
    regex_t re;
    assert_int_equal(gvb_workload_regex(&re, "tok/s: ([0-9.eE+-]+)", err, sizeof err), 0);
    const char *out = "loading\ntok/s: 12.5\nstep 2 tok/s: 1e3 (fast)\ntok/s: nan\ntok/s: .\n"
                      "tok/s: -4\nno\ntok/s: 7";
    double v[8];
    assert_int_equal(gvb_workload_figures(&re, out, v, 8), 4); /* nan and '.' are no numbers */
    assert_true(v[0] == 12.5 && v[1] == 1000 && v[2] == -4 && v[3] == 7);
    assert_int_equal(gvb_workload_figures(&re, out, v, 2), 4); /* all counted, two kept */
    assert_int_equal(gvb_workload_figures(&re, "", v, 8), 0);
    regfree(&re);
    /* no group: the whole match */
    assert_int_equal(gvb_workload_regex(&re, "[0-9]+$", err, sizeof err), 0);
    assert_int_equal(gvb_workload_figures(&re, "a 3\nb 44\n", v, 8), 2);
    assert_true(v[0] == 3 && v[1] == 44);
    regfree(&re);
    assert_int_equal(gvb_workload_regex(&re, "(a)(b)", err, sizeof err), -1);
    assert_non_null(strstr(err, "2 capture groups"));
    assert_string_equal(gvb_text_tail("one\ntwo\nthree", 7), "three");
    assert_string_equal(gvb_text_tail("short", 40), "short");
}

/* The monitor's view of a replicate's programs, summarized by the workload's reduce: peak
 * memory and mean SM utilization while holding memory per tenant; a soak's memory trend. */
static void push(gvb_result *r, const char *name, const double *v, size_t n)
{
    gvb_series *s = gvb_result_series(r, name);
    for (size_t i = 0; i < n; i++)
        gvb_series_push(s, v[i]);
}

static void test_gpu_use(void **state)
{
    (void)state;
    const gvb_metric_def *def = gvb_metric_find("WL-002");
    assert_non_null(def);
    assert_true(def->impl->monitor); /* the runner starts the monitor in every replicate */
    static gvb_result r;
    memset(&r, 0, sizeof r);
    r.direction = GVB_HIGHER;
    r.tenants = 2;
    const double M = 1 << 20;
    /* 0.5 s apart; tenant 0 leaks 100 MiB a sample while it runs (twice, 0 between the runs),
     * tenant 1 holds 50 MiB flat; SM utilization is NAN where NVML had none */
    double t[] = {0, 0.5, 1, 1.5, 2, 2.5, 3};
    double u0[] = {0, 100 * M, 200 * M, 0, 100 * M, 200 * M, 300 * M};
    double u1[] = {50 * M, 50 * M, 50 * M, 50 * M, 50 * M, 50 * M, 0};
    double s0[] = {0, 80, 90, 0, 70, NAN, 60};
    double s1[] = {10, 10, 10, 10, 10, 10, 0};
    push(&r, "monitor.time_s", t, 7);
    push(&r, "monitor.t0.used_bytes", u0, 7);
    push(&r, "monitor.t1.used_bytes", u1, 7);
    push(&r, "monitor.t0.sm_util_pct", s0, 7);
    push(&r, "monitor.t1.sm_util_pct", s1, 7);
    gvb_kv_set_num(&r.extras, "t0.runs", 2);
    gvb_kv_set_num(&r.extras, "t1.runs", 2);
    gvb_series per[2] = {0};
    gvb_series_push(&per[0], 100);
    gvb_series_push(&per[1], 120);
    def->impl->reduce(&r, per, 2);
    const gvb_series *peak = gvb_series_lookup(&r, "peak_used_mib");
    assert_non_null(peak);
    assert_int_equal(peak->n, 2);
    assert_double_equal(peak->v[0], 300, 1e-9);
    assert_double_equal(peak->v[1], 50, 1e-9);
    const gvb_series *sm = gvb_series_lookup(&r, "sm_util_pct");
    assert_non_null(sm);
    assert_double_equal(sm->v[0], (80 + 90 + 70 + 60) / 4.0, 1e-9); /* held memory, known */
    assert_double_equal(sm->v[1], 10, 1e-9);
    /* slopes: tenant 0 over its 5 held samples, tenant 1 flat; the median of the two */
    double x0[] = {0.5, 1, 2, 2.5, 3}, y0[] = {100, 200, 100, 200, 300};
    double want = (60 * gvb_ls_slope(x0, y0, 5) + 0) / 2;
    assert_double_equal(gvb_kv_num(&r.extras, "memory_trend_mib_per_min"), want, 1e-9);
    gvb_result_free(&r);
    gvb_series_free(&per[0]);
    gvb_series_free(&per[1]);

    /* one run (no soak): no memory trend; no monitor series at all: nothing invented */
    memset(&r, 0, sizeof r);
    r.direction = GVB_HIGHER;
    r.tenants = 1;
    gvb_kv_set_num(&r.extras, "runs", 1);
    gvb_series one = {0};
    gvb_series_push(&one, 5);
    def->impl->reduce(&r, &one, 1);
    assert_null(gvb_series_lookup(&r, "peak_used_mib"));
    assert_null(gvb_series_lookup(&r, "sm_util_pct"));
    assert_true(isnan(gvb_kv_num(&r.extras, "memory_trend_mib_per_min")));
    gvb_result_free(&r);
    gvb_series_free(&one);
}

/* The GPU's energy per unit of work: the replicate's energy over every tenant's units; none
 * when a tenant printed no units or the energy is unknown (no GPU hold). */
static void test_energy_per_unit(void **state)
{
    (void)state;
    const gvb_metric_def *def = gvb_metric_find("WL-001");
    static gvb_result r;
    for (int c = 0; c < 4; c++) {
        memset(&r, 0, sizeof r);
        r.direction = GVB_LOWER;
        r.tenants = 2;
        if (c != 1)
            gvb_kv_set_num(&r.extras, "energy_j", 100);
        gvb_kv_set_num(&r.extras, "t0.units", c == 3 ? 0 : 30);
        if (c != 2)
            gvb_kv_set_num(&r.extras, "t1.units", c == 3 ? 0 : 20);
        gvb_series per[2] = {0};
        gvb_series_push(&per[0], 1.5);
        gvb_series_push(&per[1], 1.7);
        def->impl->reduce(&r, per, 2);
        const gvb_series *e = gvb_series_lookup(&r, "energy_per_unit_j");
        if (c == 0) {
            assert_non_null(e);
            assert_double_equal(e->v[0], 2.0, 1e-12); /* 100 J / 50 units */
            assert_double_equal(gvb_kv_num(&r.extras, "units_total"), 50, 0);
        } else { /* no energy; a tenant without units; 0 units in all */
            assert_null(e);
            assert_true(isnan(gvb_kv_num(&r.extras, "energy_per_unit_j")));
        }
        gvb_result_free(&r);
        gvb_series_free(&per[0]);
        gvb_series_free(&per[1]);
    }
}

int run_workload_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_spec_round_trip),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_gpu_use),
        cmocka_unit_test(test_energy_per_unit),
    };
    return cmocka_run_group_tests_name("workload", tests, NULL, NULL);
}
