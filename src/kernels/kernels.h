/* extern "C" launchers of the device code in src/kernels/ (one .cu per category). Each returns
 * a cudaError_t as int (0 = success). */
#ifndef GVB_KERNELS_H
#define GVB_KERNELS_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

int gvb_launch_empty(cudaStream_t stream);

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

#endif
