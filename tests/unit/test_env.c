/* Environment composition for tenants. */
#include <string.h>

#include "core/env.h"
#include "systems/system.h"
#include "tests.h"

static void test_env_edit(void **state)
{
    (void)state;
    char *base[] = {"PATH=/bin", "LD_PRELOAD=/x.so", "CUDA_MPS_PIPE_DIRECTORY=/tmp/p", "A=1", NULL};
    gvb_env e;
    assert_int_equal(gvb_env_init(&e, base), 0);
    assert_string_equal(gvb_env_get(&e, "A"), "1");
    assert_null(gvb_env_get(&e, "AB"));
    gvb_env_set(&e, "A", "2");
    gvb_env_setf(&e, "B", "%d", 7);
    assert_string_equal(gvb_env_get(&e, "A"), "2");
    assert_string_equal(gvb_env_get(&e, "B"), "7");
    gvb_env_strip_layers(&e);
    assert_null(gvb_env_get(&e, "LD_PRELOAD"));
    assert_null(gvb_env_get(&e, "CUDA_MPS_PIPE_DIRECTORY"));
    assert_string_equal(gvb_env_get(&e, "PATH"), "/bin");
    size_t n = 0;
    while (e.vars[n])
        n++;
    assert_int_equal(n, e.n); /* NULL-terminated for execve */
    assert_int_equal(n, 3);
    gvb_env_free(&e);
}

static void test_system_resolve(void **state)
{
    (void)state;
    gvb_options o;
    gvb_options_defaults(&o);
    gvb_system s;
    char err[256];
    assert_int_equal(gvb_system_resolve("native", &o, &s, err, sizeof err), 0);
    assert_string_equal(s.ops->name, "native");
    assert_int_equal(gvb_system_resolve("nonesuch", &o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown system 'nonesuch'"));
    assert_null(strstr(err, "fake")); /* hidden from the list of known systems */
}

int run_env_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_edit),
        cmocka_unit_test(test_system_resolve),
    };
    return cmocka_run_group_tests_name("env", tests, NULL, NULL);
}
