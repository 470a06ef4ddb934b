/* Option parsing, sizes and metric selection, including bad input. */
#include <string.h>

#include "core/options.h"
#include "core/worker.h"
#include "tests.h"

static int parse(gvb_options *o, char *err, const char **args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"run";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    gvb_options_defaults(o);
    return gvb_options_parse(argc, argv, o, err, 256);
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t b;
    assert_int_equal(gvb_parse_size("4g", &b), 0);
    assert_true(b == 4ull << 30);
    assert_int_equal(gvb_parse_size("4G", &b), 0);
    assert_true(b == 4ull << 30);
    assert_int_equal(gvb_parse_size("4096m", &b), 0);
    assert_true(b == 4ull << 30);
    assert_int_equal(gvb_parse_size("4096", &b), 0); /* bare number: MiB, as the older tool */
    assert_true(b == 4ull << 30);
    assert_int_equal(gvb_parse_size("512MiB", &b), 0);
    assert_true(b == 512ull << 20);
    assert_int_equal(gvb_parse_size("1.5g", &b), 0);
    assert_true(b == 3ull << 29);
    assert_int_equal(gvb_parse_size("100b", &b), 0);
    assert_true(b == 100);
    assert_int_equal(gvb_parse_size("2KB", &b), 0);
    assert_true(b == 2048);
    const char *bad[] = {"4x", "-1g", "0", "", "g", "4gg", "4 g", "+4g", "nan", "inf", "1e30g", "0.1b", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(gvb_parse_size(bad[i], &b), -1);
}

static void test_defaults_and_old_flags(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){NULL}), 0);
    assert_int_equal(o.n_systems, 1);
    assert_string_equal(o.systems[0], "native");
    assert_int_equal(o.iterations, 100);
    assert_int_equal(o.warmup, 10);
    assert_int_equal(o.processes, 4);
    assert_int_equal(parse(&o, err,
                           (const char *[]){"--system", "hami", "--memory-limit", "2048",
                                            "--compute-limit", "30", "--json-only", "--verbose",
                                            "--compare", "old.json", "--output", "out", NULL}),
                     0);
    assert_string_equal(o.systems[0], "hami");
    assert_true(o.memory_limit == 2048ull << 20);
    assert_int_equal(o.compute_limit, 30);
    assert_true(o.json_only && o.verbose);
    assert_string_equal(o.compare, "old.json");
    assert_string_equal(o.output, "out");
}

static void test_systems_list_and_quick(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){"--systems", "native,hami,mps", "--quick", NULL}), 0);
    assert_int_equal(o.n_systems, 3);
    assert_string_equal(o.systems[2], "mps");
    assert_int_equal(o.iterations, 30);
    assert_int_equal(o.warmup, 3);
    /* explicit iterations win over --quick */
    assert_int_equal(parse(&o, err, (const char *[]){"--quick", "--iterations", "7", NULL}), 0);
    assert_int_equal(o.iterations, 7);
    /* duplicates collapse */
    assert_int_equal(parse(&o, err, (const char *[]){"--systems", "native,native", NULL}), 0);
    assert_int_equal(o.n_systems, 1);
}

static void test_replicates(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){NULL}), 0);
    assert_int_equal(o.replicates, 3);
    assert_int_equal(gvb_replicate_iterations(&o), 34); /* 100 total over 3, rounded up */
    assert_int_equal(parse(&o, err, (const char *[]){"--quick", NULL}), 0);
    assert_int_equal(o.replicates, 1);
    assert_int_equal(gvb_replicate_iterations(&o), 30);
    /* explicit replicates win over --quick; iterations are the total, rounded up per replicate */
    assert_int_equal(parse(&o, err, (const char *[]){"--quick", "--replicates", "4", NULL}), 0);
    assert_int_equal(o.replicates, 4);
    assert_int_equal(gvb_replicate_iterations(&o), 8); /* ceil(30 / 4) */
    assert_int_equal(parse(&o, err, (const char *[]){"--replicates", "3", "--iterations", "90",
                                                     NULL}),
                     0);
    assert_int_equal(gvb_replicate_iterations(&o), 30);
    /* per metric: a cheap per-call latency takes 10 x the iterations, split the same way;
     * a one-replicate metric runs once with all of them */
    assert_int_equal(parse(&o, err, (const char *[]){NULL}), 0);
    const gvb_metric_def *oh1 = gvb_metric_find("OH-001"), *err3 = gvb_metric_find("ERR-003"),
                         *bw1 = gvb_metric_find("BW-001");
    assert_int_equal(oh1->impl->iterations_scale, 10);
    assert_int_equal(gvb_metric_replicates(&o, oh1), 3);
    assert_int_equal(gvb_metric_iterations(&o, oh1), 334); /* ceil(1000 / 3) */
    assert_int_equal(gvb_metric_replicates(&o, bw1), 3);
    assert_int_equal(gvb_metric_iterations(&o, bw1), 34);
    assert_int_equal(gvb_metric_replicates(&o, err3), 1);
    assert_int_equal(gvb_metric_iterations(&o, err3), 100);
    /* IS-005's checks have no timing in them: one group; IS-010's race a kill and a fault,
     * so each replicate is another chance to see an intermittent failure */
    assert_int_equal(gvb_metric_replicates(&o, gvb_metric_find("IS-005")), 1);
    assert_int_equal(gvb_metric_replicates(&o, gvb_metric_find("IS-010")), 3);
    assert_int_equal(gvb_metric_replicates(&o, NULL), 3);
    assert_int_equal(parse(&o, err, (const char *[]){"--quick", NULL}), 0);
    assert_int_equal(gvb_metric_iterations(&o, oh1), 300);
    /* a worker's share of a count meant for the whole metric (fault processes, FRAG trials) */
    gvb_worker w = {.replicates = 2};
    assert_int_equal(gvb_replicate_share(&w, 10), 5);
    assert_int_equal(gvb_replicate_share(&w, 3), 2);
    w.replicates = 3;
    assert_int_equal(gvb_replicate_share(&w, 10), 4);
    w.replicates = 0; /* a worker started without --replicates is one group */
    assert_int_equal(gvb_replicate_share(&w, 10), 10);
    w.replicates = 3; /* floors per group, and windows split the same way */
    assert_int_equal(gvb_replicate_share_min(&w, 10, 3), 4);
    assert_int_equal(gvb_replicate_share_min(&w, 5, 3), 3);
    /* rounded down: 10 over 3 groups is 3 each (9 in all), not 4 (12) */
    assert_int_equal(gvb_replicate_share_down(&w, 10, 3), 3);
    assert_int_equal(gvb_replicate_share_down(&w, 10, 2), 3);
    assert_int_equal(gvb_replicate_share_down(&w, 5, 3), 3);
    w.replicates = 2;
    assert_int_equal(gvb_replicate_share_down(&w, 10, 3), 5);
    w.replicates = 0;
    assert_int_equal(gvb_replicate_share_down(&w, 10, 3), 10);
    w.replicates = 3;
    assert_true(fabs(gvb_replicate_window_s(&w, 3.0, 0.5) - 1.0) < 1e-12);
    assert_true(fabs(gvb_replicate_window_s(&w, 1.2, 0.5) - 0.5) < 1e-12);
    w.replicates = 0;
    assert_true(fabs(gvb_replicate_window_s(&w, 1.2, 0.5) - 1.2) < 1e-12);
    /* a set of 7 items over 3 replicates: each item in exactly one group, 3/2/2 of them */
    w.replicates = 3;
    int owned[3] = {0}, times[7] = {0};
    for (w.replicate = 0; w.replicate < 3; w.replicate++)
        for (int i = 0; i < 7; i++)
            if (gvb_replicate_owns(&w, i))
                owned[w.replicate]++, times[i]++;
    assert_true(owned[0] == 3 && owned[1] == 2 && owned[2] == 2);
    for (int i = 0; i < 7; i++)
        assert_int_equal(times[i], 1);
    assert_false(gvb_replicate_owns(&w, -1));
    w.replicates = 0; /* one group: it owns everything */
    w.replicate = 0;
    assert_true(gvb_replicate_owns(&w, 0) && gvb_replicate_owns(&w, 6));
    assert_int_equal(parse(&o, err, (const char *[]){"--replicates", "0", NULL}), -1);
    assert_non_null(strstr(err, "--replicates"));
    assert_int_equal(parse(&o, err, (const char *[]){"--replicates", "65", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--replicates", "2x", NULL}), -1);
}

static void test_bad_values(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){"--iterations", "0", NULL}), -1);
    assert_non_null(strstr(err, "--iterations"));
    assert_int_equal(parse(&o, err, (const char *[]){"--iterations", "-5", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--iterations", "10x", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--warmup", "-1", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--processes", "0", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--compute-limit", "101", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--memory-limit", "4x", NULL}), -1);
    assert_non_null(strstr(err, "4x"));
    assert_int_equal(parse(&o, err, (const char *[]){"--memory-limit", "-1g", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--bogus", NULL}), -1);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(parse(&o, err, (const char *[]){"--iterations", NULL}), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(parse(&o, err, (const char *[]){"stray", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--category", "gpu", NULL}), -1);
    assert_non_null(strstr(err, "unknown category 'gpu'"));
    assert_int_equal(parse(&o, err, (const char *[]){"--preload", "noequals", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--env", "fcsp=KEY", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--deadline", "0", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--seed", "-1", NULL}), -1);
    assert_int_equal(parse(&o, err, (const char *[]){"--systems", ",", NULL}), -1);
}

static void test_preload_env_specs(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){"--preload", "fcsp=/opt/l.so", "--env",
                                                     "fcsp:KEY=a=b", "--systems", "fcsp", NULL}),
                     0);
    assert_int_equal(o.n_preloads, 1);
    assert_string_equal(o.preloads[0].name, "fcsp");
    assert_string_equal(o.preloads[0].path, "/opt/l.so");
    assert_int_equal(o.n_extra_env, 1);
    assert_string_equal(o.extra_env[0].system, "fcsp");
    assert_string_equal(o.extra_env[0].assignment, "KEY=a=b");
}

/* --hami-lib and --preload name files that must exist; a bare name is the loader's to find */
static void test_check_files(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    assert_int_equal(parse(&o, err, (const char *[]){"--hami-lib", "/dev/null", "--preload",
                                                     "z=libz.so.1", NULL}),
                     0);
    assert_int_equal(gvb_options_check_files(&o, err, sizeof err), 0);
    assert_int_equal(parse(&o, err, (const char *[]){"--hami-lib", "/nonexistent/libvgpu.so", NULL}), 0);
    assert_int_equal(gvb_options_check_files(&o, err, sizeof err), -1);
    assert_string_equal(err, "--hami-lib: cannot read '/nonexistent/libvgpu.so': No such file or directory");
    assert_int_equal(parse(&o, err, (const char *[]){"--preload", "a=/dev/null", "--preload",
                                                     "b=./nonexistent.so", NULL}),
                     0);
    assert_int_equal(gvb_options_check_files(&o, err, sizeof err), -1);
    assert_non_null(strstr(err, "--preload b: cannot read './nonexistent.so'"));
}

/* --limits auto fills only what was not given: 1/4 of the GPU's memory (MiB), 50 % compute */
static void test_auto_limits(void **state)
{
    (void)state;
    gvb_options o;
    char err[256], line[384];
    assert_int_equal(parse(&o, err, (const char *[]){"--limits", "auto", NULL}), 0);
    assert_int_equal(o.auto_limits, 1);
    assert_true(o.memory_limit == 0 && o.compute_limit == 0); /* nothing before the probe */
    gvb_options_auto_limits(&o, 85029158912.0, line, sizeof line); /* not a multiple of 4 MiB */
    assert_true(o.memory_limit == 20272ull << 20);                 /* 21257289728 B, MiB down */
    assert_int_equal(o.compute_limit, 50);
    assert_string_equal(line, "limits per tenant (--limits auto): 19.8 GiB memory (1/4 of the "
                              "GPU's 79.2 GiB), 50 % compute (auto)");
    assert_int_equal(parse(&o, err, (const char *[]){"--limits", "auto", "--memory-limit", "4g",
                                                     "--compute-limit", "30", NULL}),
                     0);
    gvb_options_auto_limits(&o, 85029158912.0, line, sizeof line);
    assert_true(o.memory_limit == 4ull << 30);
    assert_int_equal(o.compute_limit, 30);
    assert_non_null(strstr(line, "4.0 GiB memory (--memory-limit), 30 % compute (--compute-limit)"));
    assert_int_equal(parse(&o, err, (const char *[]){"--limits", "auto", NULL}), 0);
    gvb_options_auto_limits(&o, 0, line, sizeof line);
    assert_true(o.memory_limit == 0);
    assert_non_null(strstr(line, "no memory limit (the GPU's memory is unknown)"));
    assert_int_equal(parse(&o, err, (const char *[]){"--limits", "half", NULL}), -1);
    assert_non_null(strstr(err, "only 'auto'"));
    assert_int_equal(parse(&o, err, (const char *[]){NULL}), 0);
    assert_int_equal(o.auto_limits, 0); /* `run` alone keeps its defaults: no limits */
}

static int select_codes(gvb_options *o, const gvb_metric_def **m, char *err)
{
    return gvb_select_metrics(o, m, GVB_METRIC_COUNT, err, 256);
}

static void test_selection(void **state)
{
    (void)state;
    gvb_options o;
    char err[256];
    const gvb_metric_def *m[GVB_METRIC_COUNT];
    parse(&o, err, (const char *[]){NULL});
    assert_int_equal(select_codes(&o, m, err), 56); /* self-tests hidden */
    parse(&o, err, (const char *[]){"--metrics", "OH-*", NULL});
    assert_int_equal(select_codes(&o, m, err), 10);
    assert_string_equal(m[0]->code, "OH-001");
    parse(&o, err, (const char *[]){"--metrics", "*", NULL});
    assert_int_equal(select_codes(&o, m, err), 56);
    parse(&o, err, (const char *[]){"--metrics", "oh-001,IS-*", NULL});
    assert_int_equal(select_codes(&o, m, err), 11);
    parse(&o, err, (const char *[]){"--category", "nccl", "--metrics", "LLM-010", NULL});
    assert_int_equal(select_codes(&o, m, err), 5); /* union, catalog order */
    assert_string_equal(m[0]->code, "LLM-010");
    parse(&o, err, (const char *[]){"--category", "overhead,isolation", NULL});
    assert_int_equal(select_codes(&o, m, err), 20);
    parse(&o, err, (const char *[]){"--metrics", "SELF-*", NULL});
    assert_int_equal(select_codes(&o, m, err), 7);
    parse(&o, err, (const char *[]){"--metrics", "OH-001,XX-999", NULL});
    assert_int_equal(select_codes(&o, m, err), -1);
    assert_non_null(strstr(err, "unknown metric 'XX-999'"));
}

int run_options_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_defaults_and_old_flags),
        cmocka_unit_test(test_systems_list_and_quick),
        cmocka_unit_test(test_replicates),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_preload_env_specs),
        cmocka_unit_test(test_check_files),
        cmocka_unit_test(test_auto_limits),
        cmocka_unit_test(test_selection),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
