/* The catalog: 56 metrics, unique IDs, categories as metrics.md lists them. */
#include <string.h>

#include "core/catalog.h"
#include "tests.h"

static void test_counts(void **state)
{
    (void)state;
    int per_cat[GVB_CAT_COUNT] = {0}, visible = 0;
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        per_cat[gvb_catalog[i].category]++;
        visible += !gvb_metric_hidden(&gvb_catalog[i]);
        assert_int_equal(gvb_catalog[i].id, (int)i);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(gvb_catalog[i].code, gvb_catalog[j].code);
        assert_non_null(gvb_catalog[i].impl);
    }
    assert_int_equal(visible, 56);
    const int expect[] = {10, 10, 10, 4, 4, 4, 4, 4, 3, 3};
    for (int c = 0; c < GVB_CAT_SELFTEST; c++)
        assert_int_equal(per_cat[c], expect[c]);
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
    };
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
