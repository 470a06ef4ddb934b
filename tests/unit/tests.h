/* Unit test groups (cmocka). Each test_*.c defines one group runner. */
#ifndef GVB_TESTS_H
#define GVB_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

/* cmocka 1.1 has no double comparison (assert_float_equal works in float). */
static inline void gvb_assert_near(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#undef assert_double_equal
#define assert_double_equal(a, b, eps) gvb_assert_near((a), (b), (eps), __FILE__, __LINE__)

/* A subcommand's argv for its parser: cmd, then the NULL-terminated words; *argc the count.
 * Static storage (one command line at a time, 63 words at most). */
static inline char **gvb_test_argv(const char *cmd, const char *const *words, int *argc)
{
    static char *argv[64];
    int n = 0;
    argv[n++] = (char *)cmd;
    while (*words && n < 63)
        argv[n++] = (char *)*words++;
    argv[n] = NULL;
    *argc = n;
    return argv;
}

int run_stats_tests(void);
int run_options_tests(void);
int run_protocol_tests(void);
int run_catalog_tests(void);
int run_report_tests(void);
int run_env_tests(void);
int run_report_model_tests(void);
int run_busbw_tests(void);
int run_frag_tests(void);
int run_child_tests(void);
int run_llm_tests(void);
int run_extended_tests(void);
int run_isolation_tests(void);
int run_calib_tests(void);
int run_validate_tests(void);
int run_systems_tests(void);
int run_cublas_dl_tests(void);
int run_grouped_tests(void);
int run_tenant_group_tests(void);
int run_claim_tests(void);
int run_worker_tests(void);
int run_hardening_tests(void);
int run_contend_tests(void);
int run_workload_tests(void);
int run_serve_tests(void);

#endif
