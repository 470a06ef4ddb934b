/* LLM formulas and device peaks against known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/llm_formulas.h"
#include "stats/peak.h"
#include "tests.h"

static void test_flop_formulas(void **state)
{
    (void)state;
    assert_double_equal(gvb_gemm_flops(8192, 8192, 8192), 2.0 * 8192.0 * 8192 * 8192, 0);
    /* LLM-001 default shape: 4 x 8 x 32 x 2048^2 x 128 = 549.76 GFLOP */
    assert_double_equal(gvb_attention_flops(8, 32, 2048, 2048, 128), 549755813888.0, 0);
    /* 7B-like layer: 4 x 4096^2 + 3 x 4096 x 11008 = 202,375,168 parameters */
    assert_double_equal(gvb_decoder_layer_params(4096, 11008), 202375168.0, 0);
    assert_double_equal(gvb_decoder_step_flops(1, 4096, 11008, 512),
                        2.0 * 202375168.0 + 4.0 * 512 * 4096, 0);
    assert_double_equal(gvb_decoder_step_bytes(2, 4096, 11008, 512, 2),
                        2.0 * (202375168.0 + 2.0 * 2 * 512 * 4096), 0);
    assert_double_equal(gvb_prefill_layer_flops(512, 4096, 11008),
                        2.0 * 512 * 202375168.0 + 4.0 * 512 * 512 * 4096, 0);
}

static void test_ratios(void **state)
{
    (void)state;
    /* LLM-003: 32 tokens/step at 1.6 ms vs 1 token at 1.0 ms -> (32/1.6)/(32 x 1/1.0) = 0.625 */
    assert_double_equal(gvb_batch_scaling_ratio(32 / 1.6e-3, 32, 1 / 1.0e-3), 0.625, 1e-12);
    assert_true(isnan(gvb_batch_scaling_ratio(1, 32, 0)));
    /* LLM-010: 2 GPUs at 1.8x one GPU -> 0.9 */
    assert_double_equal(gvb_tp_scaling_ratio(180, 2, 100), 0.9, 1e-12);
    assert_double_equal(gvb_tp_scaling_ratio(400, 4, 100), 1.0, 1e-12);
    assert_true(isnan(gvb_tp_scaling_ratio(1, 0, 1)));
    /* LLM-005: pool 20 us vs raw 100 us -> -80 % */
    assert_double_equal(gvb_relative_change_pct(20, 100), -80, 1e-12);
    assert_double_equal(gvb_relative_change_pct(150, 100), 50, 1e-12);
    /* LLM-006: serial 4 ms, concurrent 1 ms -> 300 %; no overlap -> 0 % */
    assert_double_equal(gvb_speedup_pct(4, 1), 300, 1e-12);
    assert_double_equal(gvb_speedup_pct(2, 2), 0, 1e-12);
}

static void test_cv_and_error(void **state)
{
    (void)state;
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    assert_double_equal(gvb_cv(x, 8), sqrt(32.0 / 7.0) / 5.0, 1e-12);
    const double same[] = {3, 3, 3};
    assert_double_equal(gvb_cv(same, 3), 0, 0);
    assert_true(isnan(gvb_cv(x, 1)));
    const double ref[] = {3, 4}, out[] = {3, 4.5};
    assert_double_equal(gvb_rel_l2_error(out, ref, 2), 0.1, 1e-12);
    const double zero[] = {0, 0};
    assert_true(isinf(gvb_rel_l2_error(ref, zero, 2)));
    assert_double_equal(gvb_rel_l2_error(zero, zero, 2), 0, 0);
}

static void test_balanced_sequence(void **state)
{
    (void)state;
    int a[128], b[128], count[33] = {0};
    gvb_rng r1, r2;
    gvb_rng_seed(&r1, 1);
    gvb_rng_seed(&r2, 2);
    gvb_balanced_sequence(a, 128, 1, 32, &r1);
    gvb_balanced_sequence(b, 128, 1, 32, &r2);
    for (int i = 0; i < 128; i++) {
        assert_true(a[i] >= 1 && a[i] <= 32);
        count[a[i]]++;
    }
    for (int v = 1; v <= 32; v++)
        assert_int_equal(count[v], 4); /* each size exactly n / 32 times */
    assert_true(memcmp(a, b, sizeof a) != 0); /* the seed changes only the order */
    int c[5];
    gvb_rng_seed(&r1, 3);
    gvb_balanced_sequence(c, 5, 7, 7, &r1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c[i], 7);
}

static void test_attention_row_reference(void **state)
{
    (void)state;
    /* two keys, q.k = (0, ln 3) after scaling: weights 1/4 and 3/4 */
    const float q[2] = {1, 0};
    const float k[4] = {0, 5, (float)log(3.0), 7}; /* rows of ld 2: k0 = (0,5), k1 = (ln3,7) */
    const float v[4] = {4, 8, 0, 4};
    double out[2];
    gvb_attention_row_ref(q, k, v, 2, 2, 2, 1.0, out);
    assert_double_equal(out[0], 1.0, 1e-6);
    assert_double_equal(out[1], 5.0, 1e-6);
    /* only the first key (a causal row 0) */
    gvb_attention_row_ref(q, k, v, 2, 1, 2, 1.0, out);
    assert_double_equal(out[0], 4.0, 1e-12);
    assert_double_equal(out[1], 8.0, 1e-12);
}

static void test_number_formats(void **state)
{
    (void)state;
    assert_double_equal(gvb_bf16_to_f32(0x3f80), 1.0, 0);
    assert_double_equal(gvb_bf16_to_f32(0xc040), -3.0, 0);
    assert_double_equal(gvb_f16_to_f32(0x3c00), 1.0, 0);
    assert_double_equal(gvb_f16_to_f32(0xc000), -2.0, 0);
    assert_double_equal(gvb_f16_to_f32(0x7bff), 65504.0, 0);
    assert_double_equal(gvb_f16_to_f32(0x0001), ldexp(1, -24), 0);
    assert_true(isinf(gvb_f16_to_f32(0x7c00)));
    assert_double_equal(gvb_e4m3_to_f32(0x38), 1.0, 0);
    assert_double_equal(gvb_e4m3_to_f32(0x7e), 448.0, 0);
    assert_double_equal(gvb_e4m3_to_f32(0xc0), -2.0, 0);
    assert_double_equal(gvb_e4m3_to_f32(0x01), ldexp(1, -9), 0);
    assert_true(isnan(gvb_e4m3_to_f32(0x7f)));
}

static void test_peak_table_and_rule(void **state)
{
    (void)state;
    gvb_peak p;
    assert_int_equal(gvb_peak_from_table("NVIDIA H100 80GB HBM3", &p), 0);
    assert_double_equal(p.tflops[GVB_PREC_BF16], 989.4, 1e-9);
    assert_double_equal(p.tflops[GVB_PREC_FP8], 1978.9, 1e-9);
    assert_double_equal(p.tflops[GVB_PREC_FP32], 66.9, 1e-9);
    assert_double_equal(p.mem_gbps, 3350, 0);
    assert_non_null(strstr(p.source, "H100 SXM5"));
    assert_int_equal(gvb_peak_from_table("NVIDIA H100 PCIe", &p), 0);
    assert_double_equal(p.tflops[GVB_PREC_BF16], 756.5, 1e-9); /* not the SXM entry */
    assert_int_equal(gvb_peak_from_table("NVIDIA A100-SXM4-40GB", &p), 0);
    assert_double_equal(p.tflops[GVB_PREC_FP8], 0, 0); /* Ampere: no fp8 */
    assert_double_equal(p.mem_gbps, 1555, 0);
    assert_int_equal(gvb_peak_from_table("Tesla T4", &p), -1);
    assert_int_equal(gvb_peak_from_table(NULL, &p), -1);

    /* H100 SXM by rates: 132 SMs x 1980 MHz x 4096 = 1070.5 TFLOP/s bf16 (a bound above the
     * datasheet's 989.4); HBM3 2619 MHz x 2 x 5120 bit / 8 = 3352 GB/s */
    assert_int_equal(gvb_peak_from_rates(9, 0, 132, 1980000, 2619000, 5120, &p), 0);
    assert_double_equal(p.tflops[GVB_PREC_BF16], 132 * 1.98e9 * 4096 / 1e12, 1e-9);
    assert_double_equal(p.mem_gbps, 3352.32, 1e-9);
    assert_int_equal(gvb_peak_from_rates(5, 2, 10, 1e6, 1e6, 64, &p), -1);
    assert_double_equal(p.tflops[GVB_PREC_BF16], 0, 0);
    assert_non_null(strstr(p.source, "unknown"));

    assert_double_equal(gvb_pct_of_peak(494.7, 989.4), 50, 1e-9);
    assert_true(isnan(gvb_pct_of_peak(1, 0)));
    assert_int_equal(gvb_above_peak(989.4, 989.4), 0);
    assert_int_equal(gvb_above_peak(989.5, 989.4), 1);
    assert_int_equal(gvb_above_peak(20000, 0), 0); /* unknown peak: no verdict */
    assert_string_equal(gvb_precision_name(GVB_PREC_TF32), "tf32");
}

int run_llm_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flop_formulas),
        cmocka_unit_test(test_ratios),
        cmocka_unit_test(test_cv_and_error),
        cmocka_unit_test(test_balanced_sequence),
        cmocka_unit_test(test_attention_row_reference),
        cmocka_unit_test(test_number_formats),
        cmocka_unit_test(test_peak_table_and_rule),
    };
    return cmocka_run_group_tests_name("llm", tests, NULL, NULL);
}
