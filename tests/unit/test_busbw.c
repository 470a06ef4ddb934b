/* Collective bandwidth formulas against nccl-tests' definitions. */
#include <math.h>

#include "stats/busbw.h"
#include "tests.h"

static void test_alg_bw(void **state)
{
    (void)state;
    assert_double_equal(gvb_alg_bw(1e9, 0.5), 2e9, 1e-3);
    assert_true(isnan(gvb_alg_bw(1e9, 0)));
    assert_true(isnan(gvb_alg_bw(1e9, -1)));
}

static void test_factors(void **state)
{
    (void)state;
    /* nccl-tests: allreduce 2(n-1)/n, allgather (n-1)/n, broadcast 1 */
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_ALLREDUCE, 8), 1.75, 1e-12);
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_ALLREDUCE, 2), 1.0, 1e-12);
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_ALLGATHER, 4), 0.75, 1e-12);
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_REDUCESCATTER, 2), 0.5, 1e-12);
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_BROADCAST, 8), 1.0, 1e-12);
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_SENDRECV, 2), 1.0, 1e-12);
    /* one rank moves nothing over a bus */
    assert_double_equal(gvb_bus_bw_factor(GVB_COLL_ALLREDUCE, 1), 0.0, 0);
    assert_true(isnan(gvb_bus_bw_factor(GVB_COLL_ALLREDUCE, 0)));
}

static void test_bus_bw_example(void **state)
{
    (void)state;
    /* 1 GiB all-reduce over 8 ranks in 5 ms: algBw 214.7 GB/s, busBw 375.8 GB/s */
    double alg = gvb_alg_bw(1073741824.0, 0.005);
    assert_double_equal(alg / 1e9, 214.7483648, 1e-6);
    assert_double_equal(gvb_bus_bw(GVB_COLL_ALLREDUCE, alg, 8) / 1e9, 375.8096384, 1e-6);
    assert_string_equal(gvb_collective_name(GVB_COLL_ALLGATHER), "allgather");
}

int run_busbw_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_bw),
        cmocka_unit_test(test_factors),
        cmocka_unit_test(test_bus_bw_example),
    };
    return cmocka_run_group_tests_name("busbw", tests, NULL, NULL);
}
