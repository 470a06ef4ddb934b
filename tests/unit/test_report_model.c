/* The comparison model's rules on constructed samples: no claim between identical
 * distributions, the right winner and direction for a clear shift (lower- and higher-is-better,
 * ratio and difference), models and INERT systems never ranked, mixed GPUs rejected, per-file
 * baselines, recommendation outcomes, and the renderers' escaping. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"
#include "tests.h"

/* Normal samples (Box-Muller over the project's seeded generator). */
static void fill_normal(gvb_series *s, uint64_t seed, double mean, double sd, int n)
{
    gvb_rng rng;
    gvb_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        double u1 = gvb_rng_unit(&rng), u2 = gvb_rng_unit(&rng);
        double z = sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
        gvb_series_push(s, mean + sd * z);
    }
}

static gvb_result *add(gvb_run *run, const char *sys, const char *metric, gvb_direction dir,
                       uint64_t seed, double mean, double sd, int n)
{
    gvb_result *r = gvb_run_add_result(run);
    snprintf(r->system, sizeof r->system, "%s", sys);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    const gvb_metric_def *d = gvb_metric_find(metric);
    snprintf(r->name, sizeof r->name, "%s", d ? d->name : metric);
    snprintf(r->unit, sizeof r->unit, "%s", d ? d->unit : "us");
    snprintf(r->category, sizeof r->category, "%s",
             d ? gvb_category_name(d->category) : "overhead");
    r->direction = dir;
    r->tenants = 1;
    r->status = GVB_OK;
    fill_normal(&r->samples, seed, mean, sd, n);
    /* three replicates of equal size (claims need >= 2 on both sides) */
    gvb_series_push(&r->replicate_sizes, n / 3);
    gvb_series_push(&r->replicate_sizes, n / 3);
    gvb_series_push(&r->replicate_sizes, n - 2 * (n / 3));
    gvb_result_finish(r, 7);
    return r;
}

/* Sets r's replicates to `sizes` (count k) and recomputes its statistics. */
static void set_replicates(gvb_result *r, const double *sizes, size_t k)
{
    gvb_series_free(&r->replicate_sizes);
    for (size_t i = 0; i < k; i++)
        gvb_series_push(&r->replicate_sizes, sizes[i]);
    gvb_result_finish(r, 7);
}

static void new_run(gvb_run *run, const char *gpu)
{
    memset(run, 0, sizeof *run);
    run->schema_version = GVB_SCHEMA_VERSION;
    strcpy(run->tool_version, "test");
    strcpy(run->started_at, "2026-11-24T00:00:00Z");
    strcpy(run->finished_at, "2026-11-24T00:01:00Z");
    gvb_kv_set_text(&run->gpu, "name", "%s", gpu);
    gvb_kv_set_text(&run->config, "seed", "11");
}

static void add_system(gvb_run *run, const char *name, const char *kind, const char *status)
{
    gvb_system_record *s = gvb_run_add_system(run, name, kind);
    gvb_kv_set_text(&s->activation, "status", "%s", status);
}

static gvb_result one(const char *metric, gvb_direction dir, uint64_t seed, double mean,
                      double sd, int n)
{
    gvb_run tmp = {0};
    gvb_result *r = add(&tmp, "x", metric, dir, seed, mean, sd, n);
    gvb_result out = *r; /* takes the samples over */
    free(tmp.results);
    return out;
}

static void test_identical_distributions_no_claim(void **state)
{
    (void)state;
    /* the same samples in another order within each replicate: never a claim, the ratio is
     * exactly 1 and nothing could be detected but no change */
    gvb_result a = one("OH-001", GVB_LOWER, 100, 10.0, 0.5, 99);
    gvb_result b = one("OH-001", GVB_LOWER, 100, 10.0, 0.5, 99);
    for (size_t g = 0; g < 3; g++) {
        double *v = b.samples.v + 33 * g;
        for (size_t i = 0; i < 33 / 2; i++) {
            double t = v[i];
            v[i] = v[32 - i];
            v[32 - i] = t;
        }
    }
    gvb_effect e;
    gvb_effect_compute(&a, &b, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_SAME);
    assert_double_equal(e.est, 1.0, 1e-12);
    assert_true(e.lo <= 1 && e.hi >= 1 && e.mde == 0);
    gvb_result_free(&a);
    gvb_result_free(&b);
    /* 200 pairs drawn from one distribution, 3 replicates each: the 97.5 % interval excludes
     * 1 by chance in about 2.5 % of them (5 of 200); never in more than 6 % (12 of 200) */
    for (int n = 10; n <= 100; n *= 10) {
        int claims = 0;
        for (int i = 0; i < 200; i++) {
            gvb_result x = one("OH-001", GVB_LOWER, 1000 + i, 10.0, 0.5, n);
            gvb_result y = one("OH-001", GVB_LOWER, 5000 + i, 10.0, 0.5, n);
            gvb_effect_compute(&x, &y, 1, &e);
            assert_true(e.is_ratio);
            assert_int_not_equal(e.verdict, GVB_EFF_UNTESTED);
            claims += e.verdict != GVB_EFF_SAME;
            gvb_result_free(&x);
            gvb_result_free(&y);
        }
        print_message("identical distributions, n = %d: %d of 200 pairs claimed\n", n, claims);
        assert_true(claims <= 12);
    }
}

/* One replicate on either side: the difference is real in these samples, but with one
 * process per system nothing says it is not the processes' own variation: not testable. Old
 * files without replicates read as one group, so the same holds for them. */
static void test_one_replicate_not_testable(void **state)
{
    (void)state;
    gvb_result slow = one("OH-001", GVB_LOWER, 1, 12.0, 0.5, 100);
    gvb_result fast = one("OH-001", GVB_LOWER, 2, 10.0, 0.5, 100);
    const double all[] = {100};
    set_replicates(&slow, all, 1);
    gvb_effect e;
    gvb_effect_compute(&slow, &fast, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    assert_non_null(strstr(e.why, "one process per system"));
    assert_non_null(strstr(e.why, "--replicates >= 2"));
    gvb_effect_compute(&fast, &slow, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    set_replicates(&slow, NULL, 0); /* a file from before replicates */
    gvb_effect_compute(&slow, &fast, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    const double two[] = {40, 60};
    set_replicates(&slow, two, 2); /* and with two it is claimed */
    gvb_effect_compute(&slow, &fast, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_WORSE);
    gvb_result_free(&slow);
    gvb_result_free(&fast);
}

/* The bug replicates fix: two systems of the same population of processes whose medians
 * differ +-15 % between processes. Pooled, a one-stage bootstrap calls the 5 % gap between
 * them significant; the model, resampling the replicates, does not. */
static void test_process_effect_no_claim(void **state)
{
    (void)state;
    const double ca[] = {8.5, 10.0, 11.5}, cb[] = {8.7, 10.5, 11.3};
    gvb_result a = one("OH-001", GVB_LOWER, 1, 0, 0, 0), b = one("OH-001", GVB_LOWER, 1, 0, 0, 0);
    for (int k = 0; k < 3; k++) {
        fill_normal(&a.samples, 10 + (uint64_t)k, ca[k], 0.1, 100);
        fill_normal(&b.samples, 20 + (uint64_t)k, cb[k], 0.1, 100);
    }
    const double three[] = {100, 100, 100};
    set_replicates(&a, three, 3);
    set_replicates(&b, three, 3);
    double ratio, lo, hi;
    gvb_bootstrap_ratio_ci(a.samples.v, a.samples.n, b.samples.v, b.samples.n, 5, 2000, 0.95,
                           &ratio, &lo, &hi);
    assert_true(hi < 1); /* the one-stage test would claim it */
    gvb_effect e;
    gvb_effect_compute(&a, &b, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_SAME);
    assert_true(e.lo < 1 && e.hi > 1);
    gvb_result_free(&a);
    gvb_result_free(&b);
}

static void test_shift_lower_is_better(void **state)
{
    (void)state;
    gvb_result slow = one("OH-001", GVB_LOWER, 1, 12.0, 0.5, 100);
    gvb_result fast = one("OH-001", GVB_LOWER, 2, 10.0, 0.5, 100);
    gvb_effect e;
    gvb_effect_compute(&slow, &fast, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_WORSE);
    assert_true(e.is_ratio);
    assert_double_equal(e.est, 1.2, 0.03);
    assert_true(e.lo > 1 && e.lo <= e.est && e.est <= e.hi);
    gvb_effect_compute(&fast, &slow, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_BETTER);
    assert_true(e.hi < 1);
    gvb_result_free(&slow);
    gvb_result_free(&fast);
}

static void test_shift_higher_is_better(void **state)
{
    (void)state;
    gvb_result hi = one("IS-001", GVB_HIGHER, 3, 95.0, 1.0, 50);
    gvb_result lo = one("IS-001", GVB_HIGHER, 4, 80.0, 1.0, 50);
    gvb_effect e;
    gvb_effect_compute(&hi, &lo, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_BETTER);
    assert_true(e.lo > 1);
    gvb_effect_compute(&lo, &hi, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_WORSE);
    gvb_result_free(&hi);
    gvb_result_free(&lo);
}

static void test_values_around_zero_use_difference(void **state)
{
    (void)state;
    gvb_result a = one("IS-009", GVB_LOWER, 5, 3.0, 0.5, 60);
    gvb_result b = one("IS-009", GVB_LOWER, 6, 0.0, 0.5, 60);
    gvb_effect e;
    gvb_effect_compute(&a, &b, 1, &e);
    assert_false(e.is_ratio);
    assert_int_equal(e.verdict, GVB_EFF_WORSE);
    assert_double_equal(e.est, 3.0, 0.4);
    assert_true(e.lo > 0);
    gvb_result c = one("IS-009", GVB_LOWER, 7, 0.0, 0.5, 60);
    gvb_effect_compute(&c, &b, 1, &e);
    assert_false(e.is_ratio);
    assert_int_equal(e.verdict, GVB_EFF_SAME);
    assert_true(e.lo < 0 && e.hi > 0);
    gvb_result_free(&a);
    gvb_result_free(&b);
    gvb_result_free(&c);
}

static void test_untestable(void **state)
{
    (void)state;
    gvb_result a = one("OH-001", GVB_LOWER, 8, 10, 1, 1);
    gvb_result b = one("OH-001", GVB_LOWER, 9, 10, 1, 50);
    gvb_effect e;
    gvb_effect_compute(&a, &b, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    assert_non_null(strstr(e.why, "one process per system"));
    gvb_effect_compute(NULL, &b, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    gvb_result c = one("IS-005", GVB_PASS, 10, 1, 0, 3);
    gvb_effect_compute(&c, &c, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    /* a primary value that is not the samples' median (an index over tenants) and has no
     * per-replicate values: nothing to compare */
    gvb_result d = one("IS-008", GVB_HIGHER, 11, 10, 1, 50);
    d.value = 0.99;
    gvb_effect_compute(&d, &b, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_UNTESTED);
    assert_non_null(strstr(e.why, "no per-replicate values"));
    /* with its replicates' own values it is compared on those, not on the samples */
    gvb_series *rv = gvb_result_series(&d, "replicate_values");
    gvb_result d2 = one("IS-008", GVB_HIGHER, 12, 10, 1, 50);
    d2.value = 0.90;
    gvb_series *rv2 = gvb_result_series(&d2, "replicate_values");
    for (int k = 0; k < 3; k++) {
        gvb_series_push(rv, 0.99 + 0.001 * k);
        gvb_series_push(rv2, 0.90 + 0.001 * k);
    }
    gvb_effect_compute(&d, &d2, 1, &e);
    assert_int_equal(e.verdict, GVB_EFF_BETTER);
    assert_double_equal(e.est, 1.1, 0.001);
    gvb_result_free(&d2);
    assert_int_equal(gvb_pass_outcome(&c), 1);
    c.value = 0;
    assert_int_equal(gvb_pass_outcome(&c), 0);
    gvb_result_free(&a);
    gvb_result_free(&b);
    gvb_result_free(&c);
    gvb_result_free(&d);
}

/* native, hami (slower), mps (same as native on OH-001, clearly best on OH-002), a model and an
 * INERT layer whose numbers are far better than everyone's. */
static void build_run(gvb_run *run)
{
    new_run(run, "NVIDIA H100 80GB HBM3");
    add_system(run, "native", "native", "OK");
    add_system(run, "hami", "hami", "OK");
    add_system(run, "mps", "mps", "OK");
    add_system(run, "mig-ideal", "model", "OK");
    add_system(run, "fcsp", "preload", "INERT");
    add(run, "native", "OH-001", GVB_LOWER, 21, 10, 0.3, 100);
    add(run, "hami", "OH-001", GVB_LOWER, 22, 12, 0.3, 100);
    add(run, "mps", "OH-001", GVB_LOWER, 23, 10, 0.3, 100);
    add(run, "mig-ideal", "OH-001", GVB_LOWER, 24, 5, 0.3, 100);
    add(run, "fcsp", "OH-001", GVB_LOWER, 25, 4, 0.3, 100);
    add(run, "native", "OH-002", GVB_LOWER, 31, 80, 2, 100);
    add(run, "hami", "OH-002", GVB_LOWER, 32, 95, 2, 100);
    add(run, "mps", "OH-002", GVB_LOWER, 33, 60, 2, 100);
    add(run, "mig-ideal", "OH-002", GVB_LOWER, 34, 10, 2, 100);
    add(run, "native", "IS-001", GVB_HIGHER, 41, 90, 0.5, 20);
    add(run, "hami", "IS-001", GVB_HIGHER, 42, 98, 0.5, 20);
    add(run, "mps", "IS-001", GVB_HIGHER, 43, 85, 0.5, 20);
    add(run, "mig-ideal", "IS-001", GVB_HIGHER, 44, 100, 0.1, 20);
}

static int sys_index(const gvb_model *m, const char *label)
{
    for (int i = 0; i < m->n_systems; i++)
        if (strcmp(m->systems[i].label, label) == 0)
            return i;
    return -1;
}

static void test_best_and_labels(void **state)
{
    (void)state;
    gvb_run run;
    build_run(&run);
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"a.json"};
    gvb_model m;
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(m.n_systems, 5);
    assert_string_equal(m.systems[0].label, "native");
    int hami = sys_index(&m, "hami"), mps = sys_index(&m, "mps");
    int model = sys_index(&m, "mig-ideal (model)"), inert = sys_index(&m, "fcsp (INERT)");
    assert_true(hami > 0 && mps > 0 && model > 0 && inert > 0);
    assert_false(gvb_msys_claimable(&m.systems[model]));
    assert_false(gvb_msys_claimable(&m.systems[inert]));

    /* OH-001: native and mps are one distribution -> no winner, although the model and the
     * INERT layer have far lower numbers */
    const gvb_mmetric *oh1 = &m.metrics[gvb_model_metric(&m, "OH-001")];
    assert_int_equal(oh1->best.kind, GVB_BEST_SAME);
    assert_true(oh1->best.best == 0 || oh1->best.best == mps);
    assert_int_equal(oh1->cells[hami].vs_base.verdict, GVB_EFF_WORSE);
    assert_int_equal(oh1->cells[mps].vs_base.verdict, GVB_EFF_SAME);
    assert_int_equal(oh1->cells[model].vs_base.verdict, GVB_EFF_UNTESTED);
    assert_int_equal(oh1->cells[inert].vs_base.verdict, GVB_EFF_UNTESTED);

    /* OH-002 (lower is better): mps clearly best, against native as runner-up */
    const gvb_mmetric *oh2 = &m.metrics[gvb_model_metric(&m, "OH-002")];
    assert_int_equal(oh2->best.kind, GVB_BEST_CLAIMED);
    assert_int_equal(oh2->best.best, mps);
    assert_int_equal(oh2->best.runner_up, 0);
    assert_int_equal(oh2->best.vs_runner_up.verdict, GVB_EFF_BETTER);
    assert_true(oh2->best.vs_runner_up.hi < 1);

    /* IS-001 (higher is better): hami best, the model's 100 % never counts */
    const gvb_mmetric *is1 = &m.metrics[gvb_model_metric(&m, "IS-001")];
    assert_int_equal(is1->best.kind, GVB_BEST_CLAIMED);
    assert_int_equal(is1->best.best, hami);
    assert_true(is1->best.vs_runner_up.lo > 1);
    assert_int_equal(is1->cells[hami].vs_base.verdict, GVB_EFF_BETTER);
    assert_int_equal(is1->cells[mps].vs_base.verdict, GVB_EFF_WORSE);

    /* per system against native */
    assert_int_equal(m.systems[hami].worse, 2);
    assert_int_equal(m.systems[hami].better, 1);
    assert_int_equal(m.systems[mps].better, 1);
    assert_int_equal(m.systems[mps].same, 1);

    /* every table names the model and the INERT system with their labels, and never ranks them */
    gvb_doc d;
    assert_int_equal(gvb_report_doc(&d, &m), 0);
    int tables = 0;
    for (size_t i = 0; i < d.n; i++) {
        const gvb_doc_block *b = &d.b[i];
        if (b->kind != GVB_DOC_TABLE || strcmp(b->cells[b->cols - 2].text, "Best") != 0)
            continue;
        tables++;
        int seen_model = 0, seen_inert = 0;
        for (size_t c = 0; c < b->cols; c++) {
            seen_model |= strcmp(b->cells[c].text, "mig-ideal (model)") == 0;
            seen_inert |= strcmp(b->cells[c].text, "fcsp (INERT)") == 0;
        }
        assert_true(seen_model && seen_inert);
        for (size_t r = 1; r < b->n_cells / b->cols; r++) {
            const char *best = b->cells[r * b->cols + b->cols - 2].text;
            assert_null(strstr(best, "model"));
            assert_null(strstr(best, "INERT"));
            assert_null(strstr(best, "mig-ideal"));
            assert_null(strstr(best, "fcsp"));
        }
    }
    assert_int_equal(tables, 2); /* overhead, isolation */
    gvb_doc_free(&d);
    gvb_model_free(&m);
    gvb_run_free(&run);
}

static void test_mixed_gpus_rejected(void **state)
{
    (void)state;
    gvb_run a, b;
    new_run(&a, "NVIDIA H100 80GB HBM3");
    new_run(&b, "NVIDIA A100-SXM4-80GB");
    add_system(&a, "native", "native", "OK");
    add_system(&b, "native", "native", "OK");
    add(&a, "native", "OH-001", GVB_LOWER, 1, 10, 1, 10);
    add(&b, "native", "OH-001", GVB_LOWER, 2, 10, 1, 10);
    const gvb_run *runs[] = {&a, &b};
    const char *paths[] = {"h100.json", "a100.json"};
    gvb_model m;
    char err[512];
    assert_int_equal(gvb_model_build(&m, runs, paths, 2, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "different GPU models"));
    assert_non_null(strstr(err, "A100"));
    assert_non_null(strstr(err, "h100.json"));
    assert_null(strchr(err, '\n'));
    gvb_run_free(&a);
    gvb_run_free(&b);
}

/* Two runs of one GPU model: a with native (and a_layer when given), b with native and mps. */
static void two_files(gvb_run *a, gvb_run *b, const char *gpu, const char *a_layer)
{
    new_run(a, gpu);
    new_run(b, gpu);
    add_system(a, "native", "native", "OK");
    if (a_layer)
        add_system(a, a_layer, a_layer, "OK");
    add_system(b, "native", "native", "OK");
    add_system(b, "mps", "mps", "OK");
}

static void test_files_merge_with_own_baseline(void **state)
{
    (void)state;
    gvb_run a, b;
    two_files(&a, &b, "NVIDIA H100 80GB HBM3", "hami");
    add(&a, "native", "OH-001", GVB_LOWER, 1, 10, 0.3, 50);
    add(&a, "hami", "OH-001", GVB_LOWER, 2, 12, 0.3, 50);
    /* node b is slower overall; mps equals its own native */
    add(&b, "native", "OH-001", GVB_LOWER, 3, 14, 0.3, 50);
    add(&b, "mps", "OH-001", GVB_LOWER, 4, 14, 0.3, 50);
    const gvb_run *runs[] = {&a, &b};
    const char *paths[] = {"a.json", "b.json"};
    gvb_model m;
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 2, NULL, NULL, err, sizeof err), 0);
    int n2 = sys_index(&m, "native@2"), mps = sys_index(&m, "mps");
    assert_true(n2 > 0 && mps > 0);
    assert_int_equal(m.systems[mps].baseline, n2);
    assert_int_equal(m.systems[n2].baseline, 0);
    const gvb_mmetric *oh1 = &m.metrics[0];
    assert_int_equal(oh1->cells[mps].vs_base.verdict, GVB_EFF_SAME);
    assert_int_equal(oh1->cells[n2].vs_base.verdict, GVB_EFF_WORSE);
    gvb_model_free(&m);
    gvb_run_free(&a);
    gvb_run_free(&b);
}

static void test_recommendations(void **state)
{
    (void)state;
    gvb_run run;
    build_run(&run);
    /* latency use case (OH-001): hami slower, mps best; allocation (OH-002): mps wins;
     * isolation: an IS-005 check that hami passes and mps fails, plus IS-009 won by mps */
    gvb_result *p = add(&run, "hami", "IS-005", GVB_PASS, 51, 1, 0, 3);
    p->value = 1;
    p = add(&run, "mps", "IS-005", GVB_PASS, 52, 1, 0, 3);
    p->value = 0;
    add(&run, "hami", "IS-009", GVB_LOWER, 53, 20, 1, 50);
    add(&run, "mps", "IS-009", GVB_LOWER, 54, 10, 1, 50);
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"a.json"};
    gvb_model m;
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    int hami = sys_index(&m, "hami"), mps = sys_index(&m, "mps");
    for (size_t i = 0; i < gvb_n_usecases; i++) {
        const gvb_mrec *r = &m.recs[i];
        if (!strcmp(r->uc->id, "allocation")) {
            assert_int_equal(r->outcome, GVB_REC_PICK);
            assert_int_equal(r->pick, mps);
        } else if (!strcmp(r->uc->id, "isolation")) {
            /* mps wins IS-009 but fails IS-005, hami wins IS-005: no single choice */
            assert_int_equal(r->outcome, GVB_REC_SPLIT);
            assert_int_equal(r->wins[hami], 1);
            assert_int_equal(r->wins[mps], 1);
            assert_int_equal(r->fails[mps], 1);
        } else if (!strcmp(r->uc->id, "faults")) {
            assert_int_equal(r->outcome, GVB_REC_NO_DATA);
        }
    }
    gvb_model_free(&m);
    gvb_run_free(&run);

    /* identical layers: no recommendation */
    gvb_run same;
    new_run(&same, "gpu");
    add_system(&same, "native", "native", "OK");
    add_system(&same, "hami", "hami", "OK");
    add_system(&same, "mps", "mps", "OK");
    add(&same, "hami", "OH-002", GVB_LOWER, 61, 80, 2, 100);
    add(&same, "mps", "OH-002", GVB_LOWER, 61, 80, 2, 100); /* the same samples */
    runs[0] = &same;
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    for (size_t i = 0; i < gvb_n_usecases; i++)
        if (!strcmp(m.recs[i].uc->id, "allocation"))
            assert_int_equal(m.recs[i].outcome, GVB_REC_NONE_SIGNIFICANT);
    gvb_model_free(&m);
    gvb_run_free(&same);
}

static void test_suspect_results_not_claimed(void **state)
{
    (void)state;
    gvb_run run;
    new_run(&run, "gpu");
    add_system(&run, "native", "native", "OK");
    add_system(&run, "hami", "hami", "OK");
    add(&run, "native", "LLM-001", GVB_HIGHER, 1, 370, 3, 30);
    gvb_result *r = add(&run, "hami", "LLM-001", GVB_HIGHER, 2, 1030, 3, 30);
    gvb_kv_set_num(&r->extras, "pct_of_peak", 104);
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"a.json"};
    gvb_model m;
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(m.n_warns, 1);
    assert_int_equal(m.warns[0].kind, GVB_WARN_ABOVE_PEAK);
    assert_int_equal(m.metrics[0].cells[1].vs_base.verdict, GVB_EFF_UNTESTED);
    assert_int_equal(m.metrics[0].best.kind, GVB_BEST_NONE);
    gvb_model_free(&m);
    gvb_run_free(&run);
}

/* Identical samples are suspect unless the metric declares them deterministic (IS-001's
 * search at 2 MiB resolution gives the same answer every trial). */
static void test_identical_samples_unless_deterministic(void **state)
{
    (void)state;
    for (int declared = 0; declared < 2; declared++) {
        gvb_run run;
        new_run(&run, "gpu");
        add_system(&run, "native", "native", "OK");
        gvb_result *r = add(&run, "native", "IS-001", GVB_HIGHER, 2, 99.35, 0, 20);
        if (declared)
            gvb_kv_set_text(&r->extras, "deterministic", "search at 2 MiB resolution");
        const gvb_run *runs[] = {&run};
        const char *paths[] = {"a.json"};
        gvb_model m;
        char err[256];
        assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
        int identical = 0;
        for (size_t i = 0; i < m.n_warns; i++)
            identical += m.warns[i].kind == GVB_WARN_IDENTICAL;
        assert_int_equal(identical, declared ? 0 : 1);
        gvb_model_free(&m);
        gvb_run_free(&run);
    }
}

static char *render(int (*fn)(FILE *, const gvb_doc *), const gvb_doc *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, d);
    fclose(f);
    return buf;
}

/* ---- "Promised and delivered" -------------------------------------------------------------- */

/* A result whose three replicates have the values v[0..2] (three samples each). */
static gvb_result *add_reps(gvb_run *run, const char *sys, const char *metric, const double *v)
{
    gvb_result *r = add(run, sys, metric, GVB_HIGHER, 1, 0, 0, 0);
    gvb_series_free(&r->samples);
    gvb_series_free(&r->replicate_sizes);
    for (int i = 0; i < 9; i++)
        gvb_series_push(&r->samples, v[i / 3]);
    for (int i = 0; i < 3; i++)
        gvb_series_push(&r->replicate_sizes, 3);
    gvb_result_finish(r, 7);
    return r;
}

/* native and hami, the run's limits as given (0: none), each with `metric` at the replicate
 * values nat[] and lay[]; the model and its document are built. */
static void promise_model(gvb_run *run, gvb_model *m, gvb_doc *d, double mem, double pct,
                          const char *metric, const double *nat, const double *lay)
{
    new_run(run, "NVIDIA H100 80GB HBM3");
    if (mem > 0)
        gvb_kv_set_num(&run->config, "memory_limit_bytes", mem);
    if (pct > 0)
        gvb_kv_set_num(&run->config, "compute_limit_pct", pct);
    add_system(run, "native", "native", "OK");
    add_system(run, "hami", "hami", "OK");
    add_reps(run, "native", metric, nat);
    add_reps(run, "hami", metric, lay);
    const gvb_run *runs[] = {run};
    const char *paths[] = {"p.json"};
    char err[256];
    assert_int_equal(gvb_model_build(m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(gvb_report_doc(d, m), 0);
}

static void promise_free(gvb_run *run, gvb_model *m, gvb_doc *d)
{
    gvb_doc_free(d);
    gvb_model_free(m);
    gvb_run_free(run);
}

/* The cell of the "Promised and delivered" table at (row, col), or NULL without the section. */
static const char *promise_cell(const gvb_doc *d, size_t row, size_t col)
{
    for (size_t i = 0; i + 2 < d->n; i++)
        if (d->b[i].kind == GVB_DOC_HEADING && strcmp(d->b[i].text, "Promised and delivered") == 0) {
            const gvb_doc_block *t = &d->b[i + 2];
            assert_int_equal(t->kind, GVB_DOC_TABLE);
            return row * t->cols + col < t->n_cells ? t->cells[row * t->cols + col].text : NULL;
        }
    return NULL;
}

/* Two files whose workload figure has different units (--metric-name tokens/s and ms: two
 * programs' figures): the second file's results are suspect, warned about, never claimed */
static void test_unit_differs(void **state)
{
    (void)state;
    gvb_run a, b;
    two_files(&a, &b, "NVIDIA H200", NULL);
    const double x[] = {100, 101, 99}, y[] = {50, 51, 49};
    snprintf(add_reps(&a, "native", "WL-002", x)->unit, 16, "tokens/s");
    snprintf(add_reps(&b, "native", "WL-002", y)->unit, 16, "ms");
    snprintf(add_reps(&b, "mps", "WL-002", x)->unit, 16, "ms");
    const gvb_run *runs[] = {&a, &b};
    const char *paths[] = {"a.json", "b.json"};
    gvb_model m;
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 2, NULL, NULL, err, sizeof err), 0);
    const gvb_mmetric *wl = &m.metrics[0];
    assert_string_equal(wl->unit, "tokens/s");
    int n2 = sys_index(&m, "native@2"), mps = sys_index(&m, "mps");
    assert_false(wl->cells[0].suspect);
    assert_true(wl->cells[n2].suspect && wl->cells[mps].suspect);
    assert_true(wl->cells[mps].vs_base.verdict == GVB_EFF_UNTESTED);
    size_t n = 0;
    for (size_t i = 0; i < m.n_warns; i++)
        n += m.warns[i].kind == GVB_WARN_UNIT_DIFFERS && !strcmp(m.warns[i].key, "tokens/s");
    assert_int_equal(n, 2);
    gvb_model_free(&m);
    gvb_run_free(&a);
    gvb_run_free(&b);
}

/* 4 GiB promised, IS-001 finds 3.5 GiB: less than promised, by an interval wholly below */
static void test_promise_memory_less(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {99.3, 99.3, 99.3}, lay[] = {87.4, 87.5, 87.6};
    promise_model(&run, &m, &d, 4294967296.0, 0, "IS-001", nat, lay);
    assert_int_equal(m.n_promises, 1);
    const gvb_mpromise *p = &m.promises[0];
    assert_string_equal(m.systems[p->sys].label, "hami");
    assert_double_equal(p->memory_bytes, 4294967296.0, 0);
    assert_string_equal(p->memory_from, "config memory_limit_bytes");
    assert_true(p->compute_pct == 0);
    assert_int_equal(p->memory.kept, GVB_KEPT_LESS);
    assert_true(p->memory.interval && p->memory.hi < 100 && p->memory.lo > 87);
    assert_double_equal(p->memory.est, 87.5, 0.01);
    assert_double_equal(p->usable_bytes / 1048576.0, 3584, 0.5);
    const char *cell = promise_cell(&d, 1, 1);
    assert_non_null(cell);
    assert_non_null(strstr(cell, "4096 MiB promised, 3584 MiB usable: 87.5 % of the promise"));
    assert_non_null(strstr(cell, "less than promised"));
    assert_string_equal(promise_cell(&d, 1, 2), "no limit");
    promise_free(&run, &m, &d);
}

/* 50 % promised, a throughput at 66 % of native with a tight interval: more than promised */
static void test_promise_throughput_more(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {300, 301, 299}, lay[] = {198, 198.5, 197.6};
    promise_model(&run, &m, &d, 0, 50, "LLM-001", nat, lay);
    assert_int_equal(m.n_promises, 1);
    const gvb_mpromise *p = &m.promises[0];
    assert_double_equal(p->compute_pct, 50, 0);
    assert_int_equal(p->n_tput, 1);
    assert_int_equal(p->tput[0].kept, GVB_KEPT_MORE);
    assert_true(p->tput[0].interval && p->tput[0].lo > 50);
    assert_double_equal(p->tput[0].est, 66, 0.5);
    const char *cell = promise_cell(&d, 1, 3);
    assert_non_null(cell);
    assert_non_null(strstr(cell, "LLM-001: 66 % delivered for 50 % promised (97.5 % CI "));
    assert_non_null(strstr(cell, "of native): more than promised"));
    /* IS-003 not measured: said so, with the promise */
    assert_string_equal(promise_cell(&d, 1, 2), "50 % promised; IS-003 not measured");
    promise_free(&run, &m, &d);
}

/* A rate is a unit ending in /s or FLOPS, higher is better; a user's img/step is none */
static void test_metric_is_throughput(void **state)
{
    (void)state;
    assert_true(gvb_metric_is_throughput("GB/s", GVB_HIGHER));
    assert_true(gvb_metric_is_throughput("tokens/s", GVB_HIGHER));
    assert_true(gvb_metric_is_throughput("TFLOPS", GVB_HIGHER));
    assert_false(gvb_metric_is_throughput("tokens/s", GVB_LOWER));
    assert_false(gvb_metric_is_throughput("img/step", GVB_HIGHER));
    assert_false(gvb_metric_is_throughput("tok/sample", GVB_HIGHER));
    assert_false(gvb_metric_is_throughput("s", GVB_HIGHER));
    assert_false(gvb_metric_is_throughput("", GVB_HIGHER));
}

/* A workload's figure in tokens/s under a 50 % limit: the 2-tenant WL-002 (its native's two
 * tenants share the GPU too) is no share of the GPU and is left out; WL-005, alone, is in */
static void test_promise_throughput_one_tenant(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    new_run(&run, "NVIDIA H200");
    gvb_kv_set_num(&run.config, "compute_limit_pct", 50);
    add_system(&run, "native", "native", "OK");
    add_system(&run, "mps", "mps", "OK");
    const double nat2[] = {1735, 1740, 1730}, lay2[] = {2536, 2540, 2530};
    const double nat1[] = {3470, 3480, 3460}, lay1[] = {2941, 2950, 2930};
    gvb_result *r[4] = {add_reps(&run, "native", "WL-002", nat2), add_reps(&run, "mps", "WL-002", lay2),
                        add_reps(&run, "native", "WL-005", nat1), add_reps(&run, "mps", "WL-005", lay1)};
    for (int i = 0; i < 4; i++) {
        snprintf(r[i]->unit, sizeof r[i]->unit, "tokens/s");
        r[i]->tenants = i < 2 ? 2 : 1;
    }
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"p.json"};
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(gvb_report_doc(&d, &m), 0);
    const gvb_mpromise *p = &m.promises[0];
    assert_int_equal(p->n_tput, 1);
    assert_string_equal(m.metrics[p->tput[0].metric].id, "WL-005");
    assert_double_equal(p->tput[0].est, 84.7, 0.5);
    const char *cell = promise_cell(&d, 1, 3);
    assert_non_null(strstr(cell, "WL-005: 84.7 % delivered for 50 % promised"));
    assert_null(strstr(cell, "WL-002"));
    promise_free(&run, &m, &d);
}

/* 50 % promised, a throughput whose interval holds 50 %: as promised, whatever its estimate */
static void test_promise_within_interval(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {300, 300, 300}, lay[] = {120, 180, 150};
    promise_model(&run, &m, &d, 0, 50, "LLM-001", nat, lay);
    const gvb_mdeliv *t = &m.promises[0].tput[0];
    assert_true(t->interval && t->lo < 50 && t->hi > 50);
    assert_int_equal(t->kept, GVB_KEPT_AS);
    assert_non_null(strstr(promise_cell(&d, 1, 3), "as promised (within the interval)"));
    promise_free(&run, &m, &d);
}

/* IS-003's share: the one achieved share of old files (by the value), or a range over
 * kernel shapes when per-shape shares exist (shapes on both sides: mixed) */
static void test_promise_compute_share(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {99.9, 99.9, 99.9}, lay[] = {62, 63, 64};
    promise_model(&run, &m, &d, 0, 50, "IS-003", nat, lay);
    const gvb_mpromise *p = &m.promises[0];
    assert_int_equal(p->compute.kept, GVB_KEPT_UNKNOWN); /* an accuracy alone has no side */
    promise_free(&run, &m, &d);

    promise_model(&run, &m, &d, 0, 50, "IS-003", nat, lay);
    gvb_model_free(&m);
    gvb_doc_free(&d);
    gvb_result *r = &run.results[1];
    assert_string_equal(r->system, "hami");
    gvb_kv_set_num(&r->extras, "achieved_share_unsync_pct", 69); /* the fixtures' old name */
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"p.json"};
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(gvb_report_doc(&d, &m), 0);
    p = &m.promises[0];
    assert_int_equal(p->shapes, 1);
    assert_int_equal(p->compute.kept, GVB_KEPT_MORE);
    assert_non_null(strstr(promise_cell(&d, 1, 2), "69 % delivered for 50 % promised (IS-003, "
                                                   "one kernel shape measured"));
    gvb_doc_free(&d);
    gvb_model_free(&m);
    /* one value, no interval: 1.5 pp from the promise is not evidence of "more" */
    gvb_kv_set_num(&r->extras, "achieved_share_unsync_pct", 51.5);
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(m.promises[0].compute.kept, GVB_KEPT_AS);
    gvb_model_free(&m);
    gvb_kv_set_num(&r->extras, "achieved_share_unsync_pct", 44.0);
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(m.promises[0].compute.kept, GVB_KEPT_LESS);
    gvb_model_free(&m);

    gvb_kv_set_num(&r->extras, "shape.small.share_pct", 31);
    gvb_kv_set_num(&r->extras, "shape.big.share_pct", 66);
    gvb_kv_set_num(&r->extras, "target_pct", 40); /* what IS-003 measured against wins */
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(gvb_report_doc(&d, &m), 0);
    p = &m.promises[0];
    assert_double_equal(p->compute_pct, 40, 0);
    assert_int_equal(p->shapes, 2);
    assert_int_equal(p->compute.kept, GVB_KEPT_MIXED);
    assert_non_null(strstr(promise_cell(&d, 1, 2), "31 to 66 % delivered for 40 % promised "
                                                   "(IS-003, over 2 kernel shapes): depends on "
                                                   "kernel shape (farthest: big, 26 pp)"));
    promise_free(&run, &m, &d);
}

/* IS-003 over kernel shapes as the metric writes them (series, one value per replicate that
 * measured the shape): every shape within 5 pp holds; all beyond on one side is more (or
 * less) for every shape; one shape 6 pp off makes the share depend on the shape */
static void test_promise_compute_shape_verdict(void **state)
{
    (void)state;
    static const struct {
        double big, sub, wave;
        gvb_kept kept;
        const char *words;
        const char *unenforced; /* the shapes more than 10 pp above the promise, or NULL */
    } cases[] = {
        {50.2, 54.9, 46.0, GVB_KEPT_AS, "46 to 54.9 % delivered for 50 % promised (IS-003, over 3 "
                                        "kernel shapes): holds within 5 pp for every shape "
                                        "(farthest: 1ms_sub, 4.9 pp)", NULL},
        {56, 99, 79, GVB_KEPT_MORE, "more than promised for every shape (farthest: 1ms_sub, 49 pp)",
         "; compute limit not enforced for 1ms_sub, 1ms_wave (more than 10 pp above)"},
        {30, 44.5, 40, GVB_KEPT_LESS, "less than promised for every shape (farthest: "
                                      "10us_62waves, 20 pp)", NULL},
        {50, 51, 60.5, GVB_KEPT_MIXED, "depends on kernel shape (farthest: 1ms_wave, 10.5 pp)",
         "not enforced for 1ms_wave (more"},
        {50, 51, 59.9, GVB_KEPT_MIXED, "depends on kernel shape (farthest: 1ms_wave, 9.9 pp)", NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gvb_run run;
        gvb_model m;
        gvb_doc d;
        const double nat[] = {99.9, 99.9, 99.9}, lay[] = {62, 63, 64};
        promise_model(&run, &m, &d, 0, 50, "IS-003", nat, lay);
        gvb_doc_free(&d);
        gvb_model_free(&m);
        gvb_result *r = &run.results[1];
        gvb_series *s = gvb_result_series(r, "shape.10us_62waves.share_pct");
        gvb_series_push(s, cases[c].big - 1); /* a median of three replicates */
        gvb_series_push(s, cases[c].big);
        gvb_series_push(s, cases[c].big + 40);
        gvb_series_push(gvb_result_series(r, "shape.1ms_sub.share_pct"), cases[c].sub);
        gvb_series_push(gvb_result_series(r, "shape.1ms_wave.share_pct"), cases[c].wave);
        gvb_series_push(gvb_result_series(r, "shape.1ms_wave.sync_share_pct"), 1.0); /* not a share */
        const gvb_run *runs[] = {&run};
        const char *paths[] = {"p.json"};
        char err[256];
        assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
        assert_int_equal(gvb_report_doc(&d, &m), 0);
        assert_int_equal(m.promises[0].shapes, 3);
        assert_int_equal(m.promises[0].compute.kept, cases[c].kept);
        const char *cell = promise_cell(&d, 1, 2);
        assert_non_null(cell);
        if (!strstr(cell, cases[c].words))
            fail_msg("case %zu: %s", c, cell);
        if (cases[c].unenforced ? !strstr(cell, cases[c].unenforced)
                                : strstr(cell, "not enforced for") != NULL)
            fail_msg("case %zu, not enforced: %s", c, cell);
        promise_free(&run, &m, &d);
    }
}

/* The activation proof's saturating kernel at 100 % of native under a 50 % limit: the compute
 * cell says the limit was not enforced for that kernel; 55 % is within the proof's slack */
static void test_promise_proof_not_enforced(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {99.9, 99.9, 99.9}, lay[] = {62, 63, 64};
    for (int k = 0; k < 2; k++) {
        promise_model(&run, &m, &d, 0, 50, "IS-003", nat, lay);
        gvb_doc_free(&d);
        gvb_model_free(&m);
        gvb_kv_set_num(&run.systems[1].activation, "compute_share_pct", k == 0 ? 100.0 : 55.0);
        gvb_kv_set_num(&run.results[1].extras, "achieved_unsync_pct", 63);
        const gvb_run *runs[] = {&run};
        const char *paths[] = {"p.json"};
        char err[256];
        assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
        assert_int_equal(gvb_report_doc(&d, &m), 0);
        assert_int_equal(m.promises[0].proof_not_enforced, k == 0);
        const char *cell = promise_cell(&d, 1, 2);
        assert_non_null(cell);
        if (k == 0)
            assert_non_null(strstr(cell, "activation proof: 100 % of native for its kernel: "
                                         "compute limit not enforced for that kernel"));
        else
            assert_null(strstr(cell, "not enforced"));
        promise_free(&run, &m, &d);
    }
}

/* IS-003 of one shape: the delivered share is the median of every replicate's achieved share
 * (series), not the last replicate's extra */
static void test_promise_compute_median_of_replicates(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {99.9, 99.9, 99.9}, lay[] = {50, 52, 55};
    promise_model(&run, &m, &d, 0, 50, "IS-003", nat, lay);
    gvb_doc_free(&d);
    gvb_model_free(&m);
    gvb_kv_set_num(&run.results[1].extras, "achieved_unsync_pct", 26.6); /* the last one */
    gvb_series *s = gvb_result_series(&run.results[1], "achieved_unsync_pct");
    gvb_series_push(s, 23.2);
    gvb_series_push(s, 24.5);
    gvb_series_push(s, 26.6);
    const gvb_run *runs[] = {&run};
    const char *paths[] = {"p.json"};
    char err[256];
    assert_int_equal(gvb_model_build(&m, runs, paths, 1, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(gvb_report_doc(&d, &m), 0);
    assert_double_equal(m.promises[0].compute.est, 24.5, 1e-9);
    const char *cell = promise_cell(&d, 1, 2);
    assert_non_null(cell);
    assert_non_null(strstr(cell, "24.5 % delivered for 50 % promised"));
    promise_free(&run, &m, &d);
}

/* No system with a limit: no section, not even its heading */
static void test_promise_none_without_limits(void **state)
{
    (void)state;
    gvb_run run;
    gvb_model m;
    gvb_doc d;
    const double nat[] = {300, 301, 299}, lay[] = {198, 198.5, 197.6};
    promise_model(&run, &m, &d, 0, 0, "LLM-001", nat, lay);
    assert_int_equal(m.n_promises, 0);
    for (size_t i = 0; i < d.n; i++)
        assert_true(d.b[i].kind != GVB_DOC_HEADING ||
                    strcmp(d.b[i].text, "Promised and delivered") != 0);
    promise_free(&run, &m, &d);
    /* a compute share of 100 % promises nothing */
    promise_model(&run, &m, &d, 0, 100, "LLM-001", nat, lay);
    assert_int_equal(m.n_promises, 0);
    assert_null(promise_cell(&d, 1, 3));
    promise_free(&run, &m, &d);
}

static void test_renderers_escape(void **state)
{
    (void)state;
    gvb_doc d = {0};
    gvb_doc_heading(&d, 2, "x", "A <b> & 'c'");
    gvb_doc_table(&d, 2);
    gvb_doc_cell(&d, 0, "k");
    gvb_doc_cell(&d, GVB_CELL_NUM, "v");
    gvb_doc_cell(&d, 0, "a|b");
    gvb_doc_cell(&d, GVB_CELL_STRONG, "<script>");
    char *md = render(gvb_doc_write_md, &d);
    assert_non_null(strstr(md, "## A \\<b\\> & 'c'"));
    assert_non_null(strstr(md, "| a\\|b | **\\<script\\>** |"));
    assert_non_null(strstr(md, "|---|---:|"));
    free(md);
    char *txt = render(gvb_doc_write_txt, &d);
    assert_non_null(strstr(txt, "a|b  <script>"));
    free(txt);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gvb_html_escape(f, "<script>\"x\" & 'y'</script>");
    fclose(f);
    assert_string_equal(buf, "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
    free(buf);
    gvb_doc_free(&d);
}

static void test_format_names(void **state)
{
    (void)state;
    gvb_report_format f;
    assert_int_equal(gvb_report_format_parse("md", &f), 0);
    assert_int_equal(f, GVB_REPORT_MD);
    assert_int_equal(gvb_report_format_parse("html", &f), 0);
    assert_int_equal(f, GVB_REPORT_HTML);
    assert_int_equal(gvb_report_format_parse("pdf", &f), -1);
    assert_int_equal(gvb_report_format_from_path("out/report.json", &f), 0);
    assert_int_equal(f, GVB_REPORT_JSON);
    assert_int_equal(gvb_report_format_from_path("out.d/report", &f), -1);
}

int run_report_model_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_distributions_no_claim),
        cmocka_unit_test(test_one_replicate_not_testable),
        cmocka_unit_test(test_process_effect_no_claim),
        cmocka_unit_test(test_shift_lower_is_better),
        cmocka_unit_test(test_shift_higher_is_better),
        cmocka_unit_test(test_values_around_zero_use_difference),
        cmocka_unit_test(test_untestable),
        cmocka_unit_test(test_best_and_labels),
        cmocka_unit_test(test_mixed_gpus_rejected),
        cmocka_unit_test(test_files_merge_with_own_baseline),
        cmocka_unit_test(test_recommendations),
        cmocka_unit_test(test_suspect_results_not_claimed),
        cmocka_unit_test(test_identical_samples_unless_deterministic),
        cmocka_unit_test(test_promise_memory_less),
        cmocka_unit_test(test_promise_throughput_more),
        cmocka_unit_test(test_promise_throughput_one_tenant),
        cmocka_unit_test(test_metric_is_throughput),
        cmocka_unit_test(test_unit_differs),
        cmocka_unit_test(test_promise_within_interval),
        cmocka_unit_test(test_promise_compute_share),
        cmocka_unit_test(test_promise_compute_shape_verdict),
        cmocka_unit_test(test_promise_none_without_limits),
        cmocka_unit_test(test_promise_proof_not_enforced),
        cmocka_unit_test(test_promise_compute_median_of_replicates),
        cmocka_unit_test(test_renderers_escape),
        cmocka_unit_test(test_format_names),
    };
    return cmocka_run_group_tests_name("report_model", tests, NULL, NULL);
}
