/* The formulas behind the LLM metrics (docs/metrics/llm.md), one small pure function each so
 * that every derived number is tested: FLOP and byte counts, the ratios the metrics report,
 * the batch-size sequence of LLM-009, reference math for correctness checks and the decoding
 * of the 16- and 8-bit number formats read back from the GPU. Pure C, no CUDA. */
#ifndef GVB_LLM_FORMULAS_H
#define GVB_LLM_FORMULAS_H

#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"

/* 2 M N K: one multiply and one add per inner-product term. */
double gvb_gemm_flops(double m, double n, double k);

/* Attention: S = Q K^T (2 Sq Sk D per head) and O = P V (2 Sq Sk D per head), so
 * 4 B H Sq Sk D. Softmax, scaling and masking are not counted (they are O(Sq Sk), not
 * O(Sq Sk D)); a causal mask is counted as the full square because the GEMMs compute it. */
double gvb_attention_flops(double batch, double heads, double sq, double sk, double head_dim);

/* Weights of one decoder layer (7B-like: fused QKV, output projection, gated MLP):
 * 4 h^2 + 3 h f parameters. */
double gvb_decoder_layer_params(double hidden, double ffn);

/* One decode step of one layer at batch b over kv_len cached tokens:
 * 2 b params + 4 b kv_len h (q.K and p.V over every head). */
double gvb_decoder_step_flops(double batch, double hidden, double ffn, double kv_len);

/* Bytes one decode step of one layer must move from DRAM at least: every weight once plus
 * the K and V caches read once (elem_bytes per element). A lower bound on real traffic. */
double gvb_decoder_step_bytes(double batch, double hidden, double ffn, double kv_len,
                              double elem_bytes);

/* Prefill of p tokens through one layer: 2 p params + attention over the full p x p square. */
double gvb_prefill_layer_flops(double tokens, double hidden, double ffn);

/* LLM-003: tokens/s at B_max / (B_max x tokens/s at batch 1). With step times this is
 * t(1) / t(B_max): 1 = a batch of B_max costs no more than a batch of 1. */
double gvb_batch_scaling_ratio(double tps_bmax, double bmax, double tps_1);

/* LLM-010: throughput on G GPUs / (G x throughput on one GPU). */
double gvb_tp_scaling_ratio(double thr_g, double g, double thr_1);

/* LLM-005: (value - base) / base x 100; negative = value smaller (the pool faster). */
double gvb_relative_change_pct(double value, double base);

/* LLM-006: (t_serial / t_concurrent - 1) x 100; 0 = no gain, (K-1) x 100 = K streams
 * fully overlapped. */
double gvb_speedup_pct(double t_serial, double t_concurrent);

/* Coefficient of variation, sample standard deviation (n-1) / |mean|; NAN for n < 2 or a
 * zero mean. */
double gvb_cv(const double *x, size_t n);

/* ||out - ref|| / ||ref|| (2-norms); INFINITY when ref is all zero and out is not. */
double gvb_rel_l2_error(const double *out, const double *ref, size_t n);

/* n batch sizes, each of lo..hi equally often (n / (hi-lo+1) times; the first n % count
 * values once more), in a seeded random order. The multiset depends only on n, lo, hi, so
 * two systems see the same batch sizes, only in a different order. */
void gvb_balanced_sequence(int *out, size_t n, int lo, int hi, gvb_rng *rng);

/* One attention output row in double: out[d] = sum_j softmax(scale q.k_j)_j v_j[d] over the
 * first n_keys rows of K and V (row stride ld elements). */
void gvb_attention_row_ref(const float *q, const float *k, const float *v, size_t ld, int n_keys,
                           int head_dim, double scale, double *out);

/* Number formats as the GPU stores them. */
float gvb_bf16_to_f32(uint16_t bits);
float gvb_f16_to_f32(uint16_t bits);
float gvb_e4m3_to_f32(uint8_t bits); /* OCP FP8 E4M3 (no infinities; 0x7f/0xff are NaN) */

#endif
