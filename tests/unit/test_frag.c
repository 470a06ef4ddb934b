/* The fragmentation pattern: deterministic from its seed, within its budget, well formed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/frag.h"
#include "tests.h"

static void check_plan(const gvb_frag_plan *p, uint64_t usable)
{
    uint64_t *size = calloc(p->n_slots, sizeof *size);
    assert_non_null(size);
    uint64_t held = 0, peak = 0;
    size_t allocs = 0, frees = 0;
    for (size_t i = 0; i < p->n_ops; i++) {
        const gvb_frag_op *o = &p->ops[i];
        assert_true(o->slot < p->n_slots);
        if (o->alloc) {
            assert_int_equal(size[o->slot], 0); /* each slot allocated once, while free */
            assert_true(o->bytes >= GVB_FRAG_GRAIN && o->bytes % GVB_FRAG_GRAIN == 0);
            size[o->slot] = o->bytes;
            held += o->bytes;
            allocs++;
        } else {
            assert_true(size[o->slot] > 0); /* frees only live slots */
            held -= size[o->slot];
            size[o->slot] = 0;
            frees++;
        }
        if (held > peak)
            peak = held;
    }
    assert_true(peak == p->peak);
    assert_true(held == p->held_end);
    assert_true((double)peak <= GVB_FRAG_FILL * (double)usable * 1.001);
    assert_true((double)peak >= GVB_FRAG_FILL * (double)usable * 0.95);
    /* about half of the last fill is left, in many blocks */
    assert_true((double)held > 0.2 * (double)usable && (double)held < 0.7 * (double)usable);
    assert_true(p->live_end > 50);
    assert_true(allocs >= GVB_FRAG_BLOCKS && allocs <= (size_t)GVB_FRAG_BLOCKS * GVB_FRAG_ROUNDS);
    assert_true(frees > allocs / 2);
    free(size);
}

static void test_plan_well_formed(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1ull << 30, 3328ull << 20, 80ull << 30};
    for (size_t i = 0; i < 3; i++) {
        gvb_frag_plan p;
        assert_int_equal(gvb_frag_plan_make(&p, 42 + i, sizes[i]), 0);
        check_plan(&p, sizes[i]);
        gvb_frag_plan_free(&p);
    }
}

static void test_plan_deterministic(void **state)
{
    (void)state;
    gvb_frag_plan a, b, c;
    assert_int_equal(gvb_frag_plan_make(&a, 7, 4ull << 30), 0);
    assert_int_equal(gvb_frag_plan_make(&b, 7, 4ull << 30), 0);
    assert_int_equal(gvb_frag_plan_make(&c, 8, 4ull << 30), 0);
    assert_int_equal(a.n_ops, b.n_ops);
    assert_memory_equal(a.ops, b.ops, a.n_ops * sizeof *a.ops);
    assert_true(a.n_ops != c.n_ops || memcmp(a.ops, c.ops, a.n_ops * sizeof *a.ops) != 0);
    gvb_frag_plan_free(&a);
    gvb_frag_plan_free(&b);
    gvb_frag_plan_free(&c);
}

static void test_plan_too_small(void **state)
{
    (void)state;
    gvb_frag_plan p;
    assert_int_equal(gvb_frag_plan_make(&p, 1, 1u << 20), -1);
    assert_null(p.ops);
}

typedef struct fake_alloc {
    uint64_t limit; /* largest size that "allocates" */
    int probes, fail_at;
} fake_alloc;

static int fake_probe(void *arg, uint64_t bytes)
{
    fake_alloc *f = arg;
    if (++f->probes == f->fail_at)
        return -1;
    return bytes <= f->limit;
}

static void test_largest_search(void **state)
{
    (void)state;
    const uint64_t M = 1u << 20, step = 2 * M;
    /* the reported free memory is right: a handful of probes */
    fake_alloc f = {.limit = 80550 * M};
    assert_true(gvb_largest_search(80552 * M + 196608, step, fake_probe, &f) == 80550 * M);
    assert_true(f.probes <= 3);
    /* far below the bound (an MPS limit under a physical free count): still exact */
    fake_alloc g = {.limit = 3583 * M};
    assert_true(gvb_largest_search(80000 * M, step, fake_probe, &g) == 3582 * M);
    assert_true(g.probes <= 40);
    /* above the bound: the bound, rounded down to the step */
    fake_alloc h = {.limit = 1000 * M};
    assert_true(gvb_largest_search(101 * M, step, fake_probe, &h) == 100 * M);
    /* nothing fits */
    fake_alloc z = {.limit = M};
    assert_true(gvb_largest_search(64 * M, step, fake_probe, &z) == 0);
    /* an error stops the search */
    fake_alloc e = {.limit = 10 * M, .fail_at = 1};
    assert_true(gvb_largest_search(64 * M, step, fake_probe, &e) == 0);
    assert_int_equal(e.probes, 1);
    /* exact for every limit over a range */
    for (uint64_t lim = 0; lim < 300 * M; lim += 7 * M + 12345) {
        fake_alloc r = {.limit = lim};
        assert_true(gvb_largest_search(256 * M, step, fake_probe, &r) ==
                    (lim < 256 * M ? lim : 256 * M) / step * step);
    }
}

static void test_formulas(void **state)
{
    (void)state;
    assert_double_equal(gvb_frag_index(30, 40), 25, 1e-12);
    assert_double_equal(gvb_frag_index(40, 40), 0, 0);
    assert_double_equal(gvb_frag_index(50, 40), 0, 0); /* clamped: larger than the free count */
    assert_true(isnan(gvb_frag_index(1, 0)));
    assert_double_equal(gvb_percent(3, 4), 75, 1e-12);
    assert_true(isnan(gvb_percent(3, 0)));
}

int run_frag_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_well_formed),
        cmocka_unit_test(test_plan_deterministic),
        cmocka_unit_test(test_plan_too_small),
        cmocka_unit_test(test_largest_search),
        cmocka_unit_test(test_formulas),
    };
    return cmocka_run_group_tests_name("frag", tests, NULL, NULL);
}
