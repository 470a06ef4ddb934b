/* The catalog: unique IDs numbered per category, the facts on each line consistent with each
 * other and with the implementations, and every metric documented under its own heading. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/catalog.h"
#include "tests.h"

/* "OH-001": the prefix of every metric of its category, then its number in the category. */
static void assert_code_in_category(const gvb_metric_def *m, const char *prefix, int nth)
{
    char want[32];
    snprintf(want, sizeof want, "%s-%03d", prefix, nth);
    if (strcmp(m->code, want) != 0) {
        print_error("%s: expected %s (IDs of a category share a prefix and count from 001 in "
                    "catalog order)\n", m->code, want);
        fail();
    }
}

static void test_counts(void **state)
{
    (void)state;
    int per_cat[GVB_CAT_COUNT] = {0};
    char prefix[GVB_CAT_COUNT][16] = {{0}};
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        const gvb_metric_def *m = &gvb_catalog[i];
        assert_int_equal(m->id, (int)i);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m->code, gvb_catalog[j].code);
        assert_non_null(m->impl);
        assert_true(m->category >= 0 && m->category < GVB_CAT_COUNT);
        const char *dash = strchr(m->code, '-');
        assert_non_null(dash);
        if (!prefix[m->category][0])
            snprintf(prefix[m->category], sizeof prefix[0], "%.*s", (int)(dash - m->code), m->code);
        assert_code_in_category(m, prefix[m->category], ++per_cat[m->category]);
    }
    for (int c = 0; c < GVB_CAT_COUNT; c++) {
        assert_true(per_cat[c] > 0); /* a category without metrics is a typo */
        assert_non_null(gvb_categories[c].name);
        assert_non_null(gvb_categories[c].title);
        /* every category but the hidden self-tests documents its metrics */
        assert_true((gvb_categories[c].doc == NULL) == (c == GVB_CAT_SELFTEST));
        for (int d = 0; d < c; d++)
            assert_string_not_equal(gvb_categories[c].name, gvb_categories[d].name);
    }
}

/* Each fact column is either absent or complete, and a hidden metric has none that the
 * report or the model would use. */
static void test_facts(void **state)
{
    (void)state;
    int per_usecase[GVB_UC_COUNT] = {0};
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        const gvb_metric_def *m = &gvb_catalog[i];
        assert_true((m->mig.rule == GVB_MIG_NONE) == (m->mig.what == NULL));
        assert_true((m->chart.kind == GVB_MCHART_NONE) == (m->chart.caption == NULL));
        assert_int_equal(m->uses & ~((1u << GVB_UC_COUNT) - 1), 0);
        for (int u = 0; u < GVB_UC_COUNT; u++)
            per_usecase[u] += (m->uses & gvb_usecases[u].flag) != 0;
        if (gvb_metric_hidden(m)) {
            assert_int_equal(m->uses, 0);
            assert_int_equal(m->mig.rule, GVB_MIG_NONE);
            assert_int_equal(m->chart.kind, GVB_MCHART_NONE);
        }
        /* a child subcommand is one main() can run, and one the metric runs the same way as
         * every other metric that names it */
        assert_true((m->child != NULL) == (m->impl->child_main != NULL));
        if (!m->child)
            continue;
        assert_true(strncmp(m->child, "__", 2) == 0);
        assert_ptr_equal(gvb_metric_child_find(m->child)->impl->child_main, m->impl->child_main);
    }
    for (int u = 0; u < GVB_UC_COUNT; u++) {
        assert_int_equal(gvb_usecases[u].flag, 1u << u);
        assert_true(per_usecase[u] > 0); /* a use case nothing decides is a typo */
    }
    assert_null(gvb_metric_child_find("__worker"));
    assert_ptr_equal(gvb_metric_child_find("__ctxinit"), gvb_metric_find("OH-004"));
}

/* Does the file have a line "## <code> ..." (or "## <code>" alone)? */
static int has_heading(FILE *f, const char *code)
{
    char line[512];
    size_t n = strlen(code);
    rewind(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "## ", 3) == 0 && strncmp(line + 3, code, n) == 0 &&
            !isalnum((unsigned char)line[3 + n]) && line[3 + n] != '-')
            return 1;
    return 0;
}

/* Every visible metric has its "## ID" heading in its category's docs/metrics file (the unit
 * tests run from the repository root, as make test runs them). */
static void test_documented(void **state)
{
    (void)state;
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        const gvb_metric_def *m = &gvb_catalog[i];
        const char *doc = gvb_categories[m->category].doc;
        if (!doc)
            continue;
        FILE *f = fopen(doc, "r");
        if (!f) {
            print_error("%s: cannot open %s (run from the repository root)\n", m->code, doc);
            fail();
        }
        int found = has_heading(f, m->code);
        fclose(f);
        if (!found) {
            print_error("%s has no \"## %s\" heading in %s\n", m->code, m->code, doc);
            fail();
        }
    }
}

/* The promise metrics (the report's "Promised and delivered") are metrics of the catalog */
static void test_promise_metrics(void **state)
{
    (void)state;
    for (int k = 0; k < GVB_PROMISE_COUNT; k++) {
        const char *id = gvb_promise_metric((gvb_promise_kind)k);
        assert_non_null(id);
        const gvb_metric_def *m = gvb_metric_find(id);
        assert_non_null(m);
        assert_int_equal(m->category, GVB_CAT_ISOLATION);
    }
    assert_null(gvb_promise_metric(GVB_PROMISE_COUNT));
}

static void test_lookup(void **state)
{
    (void)state;
    const gvb_metric_def *m = gvb_metric_find("oh-001");
    assert_non_null(m);
    assert_string_equal(m->name, "Kernel Launch Latency");
    assert_string_equal(m->unit, "us");
    assert_int_equal(m->direction, GVB_LOWER);
    assert_null(gvb_metric_find("OH-011"));
    gvb_category c;
    assert_int_equal(gvb_category_parse("Isolation", &c), 0);
    assert_int_equal(c, GVB_CAT_ISOLATION);
    assert_int_equal(gvb_category_parse("gpu", &c), -1);
    char buf[64];
    assert_string_equal(gvb_requires_str(GVB_REQ_GPU | GVB_REQ_MULTI_GPU, buf, sizeof buf), "gpu,gpus>=2");
    assert_string_equal(gvb_requires_str(0, buf, sizeof buf), "none");
    assert_int_equal(gvb_metric_tenants(gvb_metric_find("IS-006"), 7), 7);
    assert_int_equal(gvb_metric_tenants(gvb_metric_find("IS-009"), 7), 2);
    assert_true(gvb_metric_implemented(gvb_metric_find("OH-001")));
}

int run_catalog_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_promise_metrics),
        cmocka_unit_test(test_facts),
        cmocka_unit_test(test_documented),
    };
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
