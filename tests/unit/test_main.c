/* Runs every unit test group; the exit status is the number of failed tests. */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_stats_tests();
    failed += run_options_tests();
    failed += run_protocol_tests();
    failed += run_catalog_tests();
    failed += run_report_tests();
    failed += run_env_tests();
    failed += run_report_model_tests();
    failed += run_busbw_tests();
    failed += run_frag_tests();
    failed += run_child_tests();
    failed += run_llm_tests();
    failed += run_extended_tests();
    failed += run_isolation_tests();
    failed += run_calib_tests();
    failed += run_validate_tests();
    failed += run_systems_tests();
    failed += run_cublas_dl_tests();
    failed += run_grouped_tests();
    failed += run_tenant_group_tests();
    failed += run_worker_tests();
    failed += run_claim_tests();
    failed += run_hardening_tests();
    failed += run_contend_tests();
    failed += run_workload_tests();
    failed += run_serve_tests();
    return failed > 125 ? 125 : failed;
}
