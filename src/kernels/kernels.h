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

#endif
