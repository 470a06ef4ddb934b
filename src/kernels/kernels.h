/* extern "C" launchers of the device code in src/kernels/ (one .cu per category). Each returns
 * a cudaError_t as int (0 = success). */
#ifndef GVB_KERNELS_H
#define GVB_KERNELS_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the .cu files include this header too */
#endif

/* ---- overhead.cu ---- */
int gvb_launch_empty(cudaStream_t stream);
/* y = a * x + y over n floats (OH-010's elementwise part) */
int gvb_launch_axpy(cudaStream_t stream, float a, const float *x, float *y, size_t n);

/* ---- isolation.cu ---- */
/* The work kernel: fixed arithmetic per block, never a clock. Each of GVB_WORK_THREADS
 * threads of every block runs `iters` iterations of GVB_WORK_FMA_PER_ITER independent FMA
 * chains, so one launch does blocks x threads x iters x FMA_PER_ITER FMAs (2 FLOP each). */
#define GVB_WORK_THREADS 256
#define GVB_WORK_FMA_PER_ITER 4
int gvb_launch_work(cudaStream_t stream, float *sink, int blocks, int iters);
/* Loads the work kernel's module without launching it (lazy loading), so the first launch
 * of a measurement is a real launch. */
int gvb_work_prepare(void);
/* Blocks of the work kernel that fit on one SM at once. */
int gvb_work_blocks_per_sm(int *blocks);
/* p[0..n) = v */
int gvb_launch_fill_u64(cudaStream_t stream, uint64_t *p, size_t n, uint64_t v);
/* *count (device) += number of p[i] == v */
int gvb_launch_count_u64(cudaStream_t stream, const uint64_t *p, size_t n, uint64_t v,
                         unsigned long long *count);
/* out[i] = in[i] * mul + add (uint32, wrapping): results the host can verify exactly */
int gvb_launch_affine_u32(cudaStream_t stream, const uint32_t *in, uint32_t *out, size_t n,
                          uint32_t mul, uint32_t add);
/* A store to an unmapped device address: the next synchronisation reports an illegal
 * address, and the context is lost (IS-010). */
int gvb_launch_fault(cudaStream_t stream);

#ifdef __cplusplus
}
#endif

/* ---- error.cu (ERR-xxx) ---- */
/* One thread writes the global timer to *flag (host-mapped), fences, then stores to target:
 * with target = gvb_unmapped_device_address() the store faults (cudaErrorIllegalAddress). */
int gvb_launch_flag_store(cudaStream_t stream, unsigned long long *flag, int *target);
int *gvb_unmapped_device_address(void);
/* An empty kernel launched with the given configuration (possibly invalid on purpose). */
int gvb_launch_config(cudaStream_t stream, unsigned grid_x, unsigned grid_y, unsigned threads,
                      size_t shared_bytes);

/* ---- LLM (src/kernels/llm.cu). bf16 tensors are row-major; see docs/metrics/llm.md. ---- */
#include <stddef.h>
#include <stdint.h>

/* Element storage types of the LLM buffers. */
#ifdef __cplusplus
extern "C" {
#endif
enum { GVB_DT_F32 = 0, GVB_DT_F16 = 1, GVB_DT_BF16 = 2, GVB_DT_E4M3 = 3 };

/* p[i] = uniform in [-scale, scale), a function of (seed, i) only: never zeros, reproducible. */
int gvb_llm_fill_random(void *p, int dtype, size_t n, uint64_t seed, float scale, cudaStream_t s);
/* In-place softmax(scale x) of each bf16 row of a stack of (rows_per_matrix x cols) matrices;
 * causal masks keys j > (row % rows_per_matrix) + cols - rows_per_matrix. */
int gvb_llm_softmax_rows(void *x_bf16, int rows, int cols, int rows_per_matrix, float scale,
                         int causal, cudaStream_t s);
/* y = x / sqrt(mean(x^2) + eps) per row (unit gain), bf16. */
int gvb_llm_rmsnorm(const void *x, void *y, int rows, int cols, float eps, cudaStream_t s);
/* out[r][j] = silu(in[r][j]) * in[r][f + j], bf16; in rows are ld_in apart, out is rows x f. */
int gvb_llm_silu_mul(const void *in, void *out, int rows, int f, int ld_in, cudaStream_t s);
/* Copies K and V of batch x tokens qkv rows ([q|k|v], ld apart) into [batch][heads][cap][hd]
 * caches at positions pos..pos+tokens-1 (a cache pointer offset by whole sequences fills
 * another slot). Continuous batching (`serve`) gives slot and len (device int arrays, both or
 * neither): sequence b is cache slot slot[b], which holds len[b] tokens once these are
 * appended, so its tokens go to positions len[b] - tokens.. (pos is not read). */
int gvb_llm_kv_append(const void *qkv, int ld, int batch, int tokens, int heads, int head_dim,
                      void *k_cache, void *v_cache, int cap, int pos, const int *slot,
                      const int *len, cudaStream_t s);
/* One query per sequence (the q part of qkv row b) against kv_len cached keys and values:
 * out[b][h*hd + d], bf16. With slot and len (both or neither): sequence b attends over its
 * own slot slot[b]'s first len[b] tokens, and kv_len (at most cap) bounds every len[b] (a
 * length outside 1..kv_len gives NaN outputs). */
int gvb_llm_decode_attention(const void *qkv, int ld, const void *k_cache, const void *v_cache,
                             void *out, int batch, int heads, int head_dim, int kv_len, int cap,
                             float scale, const int *slot, const int *len, cudaStream_t s);
/* dst row (dst_row ? dst_row[r] : r) = src row (src_row ? src_row[r] : r) for r < rows, cols
 * bf16 elements each; rows ld_* elements apart; the index arrays are device ints. */
int gvb_llm_copy_rows(const void *src, int ld_src, const int *src_row, void *dst, int ld_dst,
                      const int *dst_row, int rows, int cols, cudaStream_t s);
/* blocks x threads threads, each 4 chains of iters FMAs x = x a + b (see llm.cu). */
int gvb_llm_fma_work(float *out, int blocks, int threads, int iters, float a, float b,
                     cudaStream_t s);
#ifdef __cplusplus
}
#endif

/* ---- bandwidth, cache, scheduling (BW, CACHE, SCHED; src/kernels/{bandwidth,cache,
 * scheduling}.cu). *_grid / *_wave: blocks that fill `sms` SMs (occupancy x SMs). ---- */
int gvb_copy16_grid(int sms, int *blocks);
int gvb_launch_copy16(void *dst, const void *src, size_t bytes, int blocks, cudaStream_t stream);
int gvb_launch_chain_build(uint32_t *lines, uint64_t n_lines, uint64_t a, uint64_t c,
                           cudaStream_t stream);
int gvb_launch_chase(const uint32_t *lines, uint32_t *pos, int chains, int chunks, int loads,
                     unsigned long long *chunk_ns, cudaStream_t stream);
int gvb_read16_grid(int sms, int *blocks);
int gvb_launch_read16(const void *src, size_t bytes, int reps, int blocks, int *sink,
                      cudaStream_t stream);
int gvb_launch_beacon(unsigned long long *trace, int chunks, int iters, float *sink,
                      cudaStream_t stream);
int gvb_sm_work_prepare(size_t smem, int *blocks_per_sm);
int gvb_launch_sm_work(int blocks, int iters, size_t smem, float *sink, cudaStream_t stream);
int gvb_long_kernel_wave(int sms, int *blocks);
int gvb_launch_long(int blocks, int iters, int *started, float *sink, cudaStream_t stream);
/* ---- end bandwidth, cache, scheduling ---- */

/* activation proof (proof.cu): blocks x 256 threads, each iters x 4 dependent FMAs */
int gvb_launch_proof_work(cudaStream_t stream, int blocks, int iters, float *out);

#endif
