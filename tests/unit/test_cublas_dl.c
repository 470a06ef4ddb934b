/* The cuBLAS / cuBLASLt dlopen loader: one process-wide result however many threads ask first,
 * every entry point resolved when the libraries are there, a "cuBLAS not available" reason
 * (never a crash) when they are not. No GPU needed: nothing here creates a handle. */
#include <pthread.h>
#include <string.h>

#include "gpu/blas.h"
#include "gpu/cublas_dl.h"
#include "tests.h"

#define RACERS 8

static void *race_get(void *out)
{
    *(const gvb_cublas **)out = gvb_cublas_get(NULL, 0);
    return NULL;
}

/* Runs first in its group, so the racing threads are the process's first users. */
static void test_first_use_from_threads(void **state)
{
    (void)state;
    pthread_t th[RACERS];
    const gvb_cublas *got[RACERS];
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_get, &got[i]), 0);
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 1; i < RACERS; i++)
        assert_ptr_equal(got[i], got[0]);
    assert_ptr_equal(gvb_cublas_get(NULL, 0), got[0]);
}

static void test_resolved_or_reason(void **state)
{
    (void)state;
    char why[512] = "";
    const gvb_cublas *c = gvb_cublas_get(why, sizeof why);
    char blas_why[512] = "";
    int avail = gvb_blas_available(blas_why, sizeof blas_why);
    if (!c) {
        assert_int_equal(strncmp(why, "cuBLAS not available: ", 22), 0);
        assert_int_equal(avail, -1);
        assert_string_equal(blas_why, why);
        assert_string_equal(gvb_blas_error(GVB_BLAS_UNAVAILABLE), why);
        return;
    }
    assert_int_equal(avail, 0);
#define CHECK_MEMBER(member, sym, lib) assert_non_null(c->member);
    GVB_CUBLAS_FUNCS(CHECK_MEMBER)
#undef CHECK_MEMBER
    /* host-only calls, through both libraries' symbols */
    const char *name = c->status_string(CUBLAS_STATUS_NOT_SUPPORTED);
    assert_non_null(name);
    assert_true(strlen(name) > 0);
    assert_string_equal(gvb_blas_error(CUBLAS_STATUS_NOT_SUPPORTED), name);
    cublasLtMatrixLayout_t layout;
    assert_int_equal(c->lt_matrix_layout_create(&layout, CUDA_R_16BF, 64, 32, 64),
                     CUBLAS_STATUS_SUCCESS);
    assert_int_equal(c->lt_matrix_layout_destroy(layout), CUBLAS_STATUS_SUCCESS);
}

int run_cublas_dl_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_from_threads),
        cmocka_unit_test(test_resolved_or_reason),
    };
    return cmocka_run_group_tests_name("cublas_dl", tests, NULL, NULL);
}
