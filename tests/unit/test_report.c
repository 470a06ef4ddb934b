/* Writers and the reader: JSON round trip, CSV quoting, text summary, comparison labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "report/report.h"
#include "tests.h"

static void make_run(gvb_run *run)
{
    memset(run, 0, sizeof *run);
    run->schema_version = GVB_SCHEMA_VERSION;
    strcpy(run->tool_version, "test");
    strcpy(run->started_at, "2026-11-24T00:00:00Z");
    gvb_kv_set_text(&run->gpu, "name", "NVIDIA H100 80GB HBM3");
    gvb_kv_set_num(&run->gpu, "sm_count", 132);
    gvb_kv_set_text(&run->config, "seed", "77");
    gvb_system_record *s = gvb_run_add_system(run, "native", "native");
    gvb_kv_set_text(&s->activation, "status", "OK");
    gvb_result *r = gvb_run_add_result(run);
    strcpy(r->system, "native");
    strcpy(r->metric, "OH-001");
    strcpy(r->name, "Kernel Launch Latency");
    strcpy(r->unit, "us");
    strcpy(r->category, "overhead");
    r->direction = GVB_LOWER;
    r->tenants = 1;
    r->status = GVB_OK;
    for (int i = 0; i < 50; i++)
        gvb_series_push(&r->samples, 10 + i * 0.1);
    gvb_series *e = gvb_result_series(r, "enqueue_us");
    gvb_series_push(e, 4.0);
    gvb_series_push(e, 4.5);
    gvb_kv_set_num(&r->extras, "bytes", 4096);
    gvb_kv_set_text(&r->extras, "kernel", "empty, \"quoted\"");
    gvb_result_finish(r, 77);
    gvb_result *f = gvb_run_add_result(run);
    strcpy(f->system, "native");
    strcpy(f->metric, "IS-010");
    strcpy(f->name, "Fault Isolation");
    strcpy(f->unit, "pass/fail");
    strcpy(f->category, "isolation");
    f->direction = GVB_PASS;
    f->status = GVB_FAIL;
    strcpy(f->reason, "tenant 1 crashed, with \"quotes\", and commas");
    gvb_result_finish(f, 77);
}

static char *write_tmp(int (*fn)(FILE *, const gvb_run *), const gvb_run *run)
{
    char *path = strdup("/tmp/gvb-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(gvb_write_atomic(path, fn, run), 0);
    return path;
}

static void test_json_round_trip(void **state)
{
    (void)state;
    gvb_run run, back;
    make_run(&run);
    char *path = write_tmp(gvb_json_write, &run);
    char err[256];
    assert_int_equal(gvb_json_read(path, &back, err, sizeof err), 0);
    assert_int_equal(back.n_results, 2);
    const gvb_result *a = &run.results[0], *b = &back.results[0];
    assert_string_equal(b->metric, "OH-001");
    assert_int_equal(b->status, GVB_OK);
    assert_int_equal(b->samples.n, 50);
    assert_double_equal(b->value, a->value, 1e-9);
    assert_double_equal(b->stats.p95, a->stats.p95, 1e-9);
    /* the CI is computed when asked for, from the same seed: the same interval */
    double lo, hi;
    assert_true(isnan(b->stats.ci_lo));
    gvb_result_ci(b, &lo, &hi);
    assert_double_equal(lo, a->stats.ci_lo, 1e-9);
    assert_double_equal(hi, a->stats.ci_hi, 1e-9);
    assert_int_equal(b->n_series, 1);
    assert_int_equal(b->series[0].n, 2);
    assert_string_equal(gvb_kv_text(&b->extras, "kernel"), "empty, \"quoted\"");
    assert_double_equal(gvb_kv_get(&b->extras, "bytes")->num, 4096, 0);
    assert_int_equal(back.results[1].status, GVB_FAIL);
    assert_false(back.results[1].has_value);
    assert_int_equal(back.results[1].direction, GVB_PASS);
    assert_string_equal(gvb_kv_text(&back.gpu, "name"), "NVIDIA H100 80GB HBM3");
    unlink(path);
    free(path);
    gvb_run_free(&run);
    gvb_run_free(&back);
}

static void test_json_rejects(void **state)
{
    (void)state;
    char err[256];
    gvb_run run;
    char path[] = "/tmp/gvb-bad-XXXXXX";
    int fd = mkstemp(path);
    dprintf(fd, "{\"tool\": \"other\", \"results\": []}");
    close(fd);
    assert_int_equal(gvb_json_read(path, &run, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a gpu-virt-bench results file"));
    fd = open(path, O_WRONLY | O_TRUNC);
    dprintf(fd, "{\"tool\": \"gpu-virt-bench\", \"schema_version\": 99, \"results\": []}");
    close(fd);
    assert_int_equal(gvb_json_read(path, &run, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema version 99"));
    fd = open(path, O_WRONLY | O_TRUNC);
    dprintf(fd, "{ truncated");
    close(fd);
    assert_int_equal(gvb_json_read(path, &run, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a results file"));
    assert_int_equal(gvb_json_read("/nonexistent/x.json", &run, err, sizeof err), -1);
    unlink(path);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_csv_and_text(void **state)
{
    (void)state;
    gvb_run run;
    make_run(&run);
    char *path = write_tmp(gvb_csv_write, &run);
    char *csv = slurp(path);
    assert_non_null(strstr(csv, "system,metric,name,category,unit,direction,tenants,status,value"));
    assert_non_null(strstr(csv, "native,OH-001,Kernel Launch Latency,overhead,us,lower,1,OK,12.45,50,"));
    assert_non_null(strstr(csv, "\"tenant 1 crashed, with \"\"quotes\"\", and commas\""));
    assert_non_null(strstr(csv, "native,IS-010,Fault Isolation,isolation,pass/fail,pass,0,FAIL,,0,"));
    unlink(path);
    free(path);
    path = write_tmp(gvb_text_write, &run);
    char *txt = slurp(path);
    assert_non_null(strstr(txt, "1 OK, 0 SKIP, 1 FAIL, 0 INERT"));
    assert_non_null(strstr(txt, "NVIDIA H100 80GB HBM3"));
    unlink(path);
    free(path);
    gvb_run_free(&run);
}

static void test_compare_labels(void **state)
{
    (void)state;
    assert_int_equal(gvb_cmp_classify(1.10, 1.20, GVB_LOWER, 0.05), GVB_CMP_WORSE);
    assert_int_equal(gvb_cmp_classify(1.10, 1.20, GVB_HIGHER, 0.05), GVB_CMP_BETTER);
    assert_int_equal(gvb_cmp_classify(0.80, 0.90, GVB_LOWER, 0.05), GVB_CMP_BETTER);
    assert_int_equal(gvb_cmp_classify(0.99, 1.01, GVB_LOWER, 0.05), GVB_CMP_SAME);
    assert_int_equal(gvb_cmp_classify(0.80, 1.30, GVB_LOWER, 0.05), GVB_CMP_UNSURE);
    assert_int_equal(gvb_cmp_classify(NAN, NAN, GVB_LOWER, 0.05), GVB_CMP_UNSURE);
    assert_int_equal(gvb_cmp_classify(1.0, 1.0, GVB_LOWER, 0.05), GVB_CMP_SAME);
    /* significant but negligible: SAME, not a regression */
    assert_int_equal(gvb_cmp_classify(1.001, 1.003, GVB_LOWER, 0.05), GVB_CMP_SAME);
    assert_int_equal(gvb_cmp_classify(1.02, 1.08, GVB_LOWER, 0.05), GVB_CMP_WORSE);
    /* one process group on each side: not testable, and the reason depends on whether the
     * metric runs one group by design (ERR-003) or the run chose --replicates 1 (OH-001) */
    gvb_result a = {0}, b = {0};
    gvb_cmp_entry e;
    a.status = b.status = GVB_OK;
    a.direction = b.direction = GVB_LOWER;
    for (int i = 0; i < 20; i++) {
        gvb_series_push(&a.samples, 10 + i % 3);
        gvb_series_push(&b.samples, 11 + i % 3);
    }
    gvb_result_finish(&a, 1);
    gvb_result_finish(&b, 1);
    snprintf(a.metric, sizeof a.metric, "OH-001");
    gvb_compare_one(&a, &b, &e);
    assert_int_equal(e.label, GVB_CMP_UNSURE);
    assert_non_null(strstr(e.why, "run with --replicates >= 2"));
    snprintf(a.metric, sizeof a.metric, "ERR-003");
    gvb_compare_one(&a, &b, &e);
    assert_non_null(strstr(e.why, "one process group by design"));
    snprintf(a.metric, sizeof a.metric, "IS-005"); /* one group by design since 2026-12-03 */
    gvb_compare_one(&a, &b, &e);
    assert_non_null(strstr(e.why, "by design"));
    /* a workload figure in other units (--metric-name): not compared, said why */
    snprintf(a.metric, sizeof a.metric, "WL-002");
    snprintf(a.unit, sizeof a.unit, "tokens/s");
    snprintf(b.unit, sizeof b.unit, "ms");
    gvb_compare_one(&a, &b, &e);
    assert_int_equal(e.label, GVB_CMP_UNSURE);
    assert_non_null(strstr(e.why, "unit differs"));
    gvb_result_free(&a);
    gvb_result_free(&b);
}

int run_report_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_csv_and_text),
        cmocka_unit_test(test_compare_labels),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
