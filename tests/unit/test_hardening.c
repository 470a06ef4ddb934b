/* Regression tests for issue 20 (inputs that crashed or misled, files that followed planted
 * symlinks): each reproduces one audit finding and failed before its fix. The command-line
 * ones are in tests/cli/test_hardening.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/options.h"
#include "core/protocol.h"
#include "core/result.h"
#include "core/sanitize.h"
#include "metrics/metric_util.h"
#include "report/doc.h"
#include "report/report.h"
#include "stats/stats.h"
#include "systems/system.h"
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

/* 3. Terminal escapes and broken characters from outside become '?', length kept; tab and
 * valid UTF-8 (accents, CJK, emoji) pass. */
static void test_sanitize_text(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        {"plain\ttab", "plain\ttab"},
        {"esc \x1b[2J bel \x07 cr \r nl \n del \x7f", "esc ?[2J bel ? cr ? nl ? del ?"},
        {"csi \xc2\x9b" "31m", "csi ??31m"},                 /* U+009B, the 8-bit CSI */
        {"nbsp \xc2\xa0 \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", "nbsp \xc2\xa0 \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"},
        {"cut \xe6\x97", "cut ??"},                       /* a character cut by a copy */
        {"overlong \xc0\xaf", "overlong ??"},
        {"surrogate \xed\xa0\x80", "surrogate ???"},
        {"lone \x80 \xff", "lone ? ?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        assert_string_equal(gvb_sanitize_text(buf), cases[i].out);
    }
    /* a tenant's text message arrives cleaned */
    char line[] = "XT note \x1b]0;owned\x07 done";
    gvb_msg m;
    assert_int_equal(gvb_proto_parse(line, &m), 0);
    assert_string_equal(m.text, "?]0;owned? done");
}

/* 3. The Markdown code fence is longer than any run of backticks inside: an argument with a
 * line of three backticks cannot close it and let raw HTML follow. */
static void test_md_fence_holds_backticks(void **state)
{
    (void)state;
    gvb_doc d = {0};
    gvb_doc_code(&d, "run --env 'x:A=1\n```\n<img src=x onerror=alert(1)>'");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(gvb_doc_write_md(f, &d), 0);
    fclose(f);
    assert_non_null(strstr(out, "````\nrun --env"));
    assert_non_null(strstr(out, "alert(1)>'\n````\n"));
    free(out);
    gvb_doc_free(&d);
}

/* A results file with one result, the given top-level fields and result fields spliced in. */
static char *results_file(const char *top, const char *result)
{
    char *path = strdup("/tmp/gvb-hardening-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{\"tool\": \"gpu-virt-bench\", %s, \"gpu\": {\"name\": \"G\"}, "
               "\"results\": [{\"system\": \"native\", \"metric\": \"OH-001\", "
               "\"direction\": \"lower\", \"status\": \"OK\", \"samples\": [1, 2, 3, 4], "
               "\"replicates\": [2, 2]%s%s}]}",
            top, *result ? ", " : "", result);
    fclose(f);
    return path;
}

static int reads(const char *top, const char *result, char *err, size_t errlen)
{
    char *path = results_file(top, result);
    gvb_run run;
    int rc = gvb_json_read(path, &run, err, errlen);
    if (rc == 0)
        gvb_run_free(&run);
    unlink(path);
    free(path);
    return rc;
}

/* 5. Numbers the reader used to cast out of range (undefined, or wrapped to a valid value)
 * are refused, each with a one-line reason; valid ones still read. */
static void test_reader_refuses_out_of_range(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(reads("\"schema_version\": 1", "", err, sizeof err), 0);
    assert_int_equal(reads("\"schema_version\": 1, \"config\": {\"seed\": \"18446744073709551615\"}", "\"tenants\": 4", err, sizeof err), 0);
    assert_int_equal(reads("\"schema_version\": 1, \"config\": {\"seed\": 42}", "", err, sizeof err), 0);
    static const struct { const char *top, *result, *why; } bad[] = {
        {"\"schema_version\": 4294967297", "", "schema version 4294967297"},
        {"\"schema_version\": 1.5", "", "schema version 1.5"},
        {"\"schema_version\": \"1\"", "", "schema version missing"},
        {"\"schema_version\": 1, \"config\": {\"seed\": -1}", "", "config.seed"},
        {"\"schema_version\": 1, \"config\": {\"seed\": 1e300}", "", "config.seed"},
        {"\"schema_version\": 1, \"config\": {\"seed\": 18446744073709551616.0}", "", "config.seed"},
        {"\"schema_version\": 1, \"config\": {\"seed\": \"-1\"}", "", "config.seed"},
        {"\"schema_version\": 1, \"config\": {\"seed\": \"99999999999999999999\"}", "", "config.seed"},
        {"\"schema_version\": 1, \"config\": {\"seed\": \"12abc\"}", "", "config.seed"},
        {"\"schema_version\": 1", "\"tenants\": 4294967297", "malformed"},
        {"\"schema_version\": 1", "\"tenants\": -1", "malformed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(reads(bad[i].top, bad[i].result, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
    }
    /* a replicate count of 1e300 is not a group (and not a float-cast overflow) */
    assert_int_equal(reads("\"schema_version\": 1", "\"replicates\": [1e300, 4]", err, sizeof err), 0);
}

/* 3. Strings read from a file arrive cleaned: names, reasons, extras' keys and texts, argv. */
static void test_reader_cleans_strings(void **state)
{
    (void)state;
    char *path = results_file("\"schema_version\": 1, \"argv\": [\"run\", \"\\u001b]0;x\\u0007\"]",
                              "\"name\": \"n\\u001b[31m\", \"category\": \"a,b\\nc\", "
                              "\"reason\": \"r\\r\\u009b\", \"extras\": {\"k\\u001b\": \"v\\u0007\"}");
    gvb_run run;
    char err[256];
    assert_int_equal(gvb_json_read(path, &run, err, sizeof err), 0);
    const gvb_result *r = &run.results[0];
    assert_string_equal(r->name, "n?[31m");
    assert_string_equal(r->category, "a,b?c");
    assert_string_equal(r->reason, "r???");
    assert_string_equal(run.argv[1], "?]0;x?");
    assert_string_equal(gvb_kv_text(&r->extras, "k?"), "v?");
    /* CSV quotes the category like every other text field */
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    gvb_csv_write(f, &run);
    fclose(f);
    assert_non_null(strstr(out, ",\"a,b?c\","));
    free(out);
    gvb_run_free(&run);
    unlink(path);
    free(path);
}

/* ---- 4. command lines that were accepted --------------------------------------------------- */

static int parse_run(const char *const *args, char *err, size_t errlen)
{
    static gvb_options o;
    char *argv[16] = {(char *)"run"};
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    gvb_options_defaults(&o);
    return gvb_options_parse(argc, argv, &o, err, errlen);
}

static void test_bad_command_lines_refused(void **state)
{
    (void)state;
    char err[512];
    static const struct { const char *args[8]; const char *why; } bad[] = {
        /* --env for a system that is not measured, or a name no shell would set */
        {{"--systems", "native", "--env", "hami:CUDA_DEVICE_SM_LIMIT=50"}, "system 'hami' is not selected"},
        {{"--preload", "f=/l.so", "--env", "f:KEY=1"}, "system 'f' is not selected"},
        {{"--systems", "native", "--env", "native:1X=2"}, "'1X' is not a variable name"},
        {{"--systems", "native", "--env", "native:A-B=2"}, "'A-B' is not a variable name"},
        /* --calib with nothing in it, like --calib "" */
        {{"--systems", "calib", "--calib", ",,,"}, "--calib: empty spec"},
        {{"--systems", "calib", "--calib", " , "}, "--calib: empty spec"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(parse_run(bad[i].args, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
    }
    const char *good[][8] = {
        {"--systems", "native@a,native@b", "--env", "native:A_1=x"},
        {"--systems", "native@a", "--env", "native@a:_B=1=2"},
        {"--systems", "f", "--preload", "f=/l.so", "--env", "f:KEY="},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (parse_run(good[i], err, sizeof err) != 0)
            fail_msg("case %zu refused: %s", i, err);

    /* a --metrics list past 4095 characters was cut there: the unknown entry at its end
     * went unseen */
    static char list[6000];
    memset(list, ' ', 4200); /* blanks before an entry are allowed */
    memcpy(list, "OH-001,", 7);
    snprintf(list + 4200, sizeof list - 4200, "XX-999");
    assert_int_equal(gvb_check_metric_list(list, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown metric 'XX-999'"));
    assert_int_equal(gvb_check_metric_list("OH-*,SELF-001", err, sizeof err), 0);
}

/* ---- 2. files at predictable names ---------------------------------------------------------- */

static char *read_all(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static int write_hello(FILE *f, const void *ctx)
{
    (void)ctx;
    return fputs("hello\n", f) < 0 ? -1 : 0;
}

/* A symlink planted at PATH.tmp (the old temporary name) is not followed: its target keeps
 * its content, PATH gets the text, no temporary file is left. */
static void test_atomic_write_ignores_planted_tmp(void **state)
{
    (void)state;
    char dir[] = "/tmp/gvb-hardening-dir-XXXXXX", victim[128], out[128], tmp[160];
    assert_non_null(mkdtemp(dir));
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(out, sizeof out, "%s/report.md", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *v = fopen(victim, "w");
    fputs("precious\n", v);
    fclose(v);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(gvb_write_file_atomic(out, write_hello, NULL), 0);
    assert_string_equal(read_all(victim), "precious\n");
    assert_string_equal(read_all(out), "hello\n");
    struct stat st;
    assert_int_equal(lstat(tmp, &st), 0); /* still the planted link, untouched */
    assert_true(S_ISLNK(st.st_mode));
    /* the written file has a plain file's mode (0666 less the umask), not mkstemp's 0600 */
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask);
    unlink(tmp);
    unlink(out);
    unlink(victim);
    assert_int_equal(rmdir(dir), 0); /* nothing else left behind */
}

/* HAMi's lock directory at its fixed path is used only when nobody else can have planted it. */
static void test_shared_dir_check(void **state)
{
    (void)state;
    char dir[] = "/tmp/gvb-hardening-dir-XXXXXX", p[160], why[256];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/vgpulock", dir);
    assert_int_equal(gvb_shared_dir_check(p, why, sizeof why), 0); /* absent: created */
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(gvb_shared_dir_check(p, why, sizeof why), 0); /* ours: used */
    rmdir(p);
    int fd = open(p, O_CREAT | O_WRONLY, 0666); /* a 0666 file */
    close(fd);
    chmod(p, 0666);
    assert_int_equal(gvb_shared_dir_check(p, why, sizeof why), -1);
    assert_non_null(strstr(why, "not a directory"));
    unlink(p);
    assert_int_equal(symlink(dir, p), 0); /* a link to a directory */
    assert_int_equal(gvb_shared_dir_check(p, why, sizeof why), -1);
    assert_non_null(strstr(why, "symbolic link"));
    unlink(p);
    if (geteuid() == 0) { /* another user's directory (only root can make one here) */
        assert_int_equal(mkdir(p, 0777), 0);
        assert_int_equal(chown(p, 65534, 65534), 0);
        assert_int_equal(gvb_shared_dir_check(p, why, sizeof why), -1);
        assert_non_null(strstr(why, "another user"));
        rmdir(p);
    }
    rmdir(dir);
}

/* The tenants' shared page: tenant 0 never truncates and uses an object already at the
 * predictable name; one of ours (a crashed run's) is replaced, anyone else's refused. */
static void test_shared_page_exclusive(void **state)
{
    (void)state;
    gvb_worker w = {.metric = gvb_metric_find("IS-005"), .tenant = 0};
    char name[64], path[96];
    snprintf(name, sizeof name, "/gvb-%d-IS-005", (int)getppid());
    snprintf(path, sizeof path, "/dev/shm%s", name);
    shm_unlink(name);
    int planted = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
    assert_true(planted >= 0);
    fchmod(planted, 0666);
    assert_int_equal(write(planted, "planted", 7), 7);
    gvb_shared *sh = gvb_shared_open(&w);
    assert_non_null(sh); /* ours: replaced by a fresh page */
    char back[8] = {0};
    assert_int_equal(pread(planted, back, 7, 0), 7); /* the planted object was not truncated */
    assert_string_equal(back, "planted");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    gvb_shared_close(sh, &w);
    close(planted);

    /* the other tenants refuse a page others could write */
    gvb_worker t1 = {.metric = w.metric, .tenant = 1};
    planted = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_int_equal(ftruncate(planted, 4096), 0);
    fchmod(planted, 0666);
    assert_null(gvb_shared_open(&t1));
    if (geteuid() == 0) { /* another user's object: tenant 0 refuses it */
        assert_int_equal(fchown(planted, 65534, 65534), 0);
        assert_null(gvb_shared_open(&w));
    }
    close(planted);
    shm_unlink(name);
}

int run_hardening_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replicate_counts_that_overflow),
        cmocka_unit_test(test_sanitize_text),
        cmocka_unit_test(test_md_fence_holds_backticks),
        cmocka_unit_test(test_reader_refuses_out_of_range),
        cmocka_unit_test(test_reader_cleans_strings),
        cmocka_unit_test(test_bad_command_lines_refused),
        cmocka_unit_test(test_atomic_write_ignores_planted_tmp),
        cmocka_unit_test(test_shared_dir_check),
        cmocka_unit_test(test_shared_page_exclusive),
    };
    return cmocka_run_group_tests_name("hardening", tests, NULL, NULL);
}
