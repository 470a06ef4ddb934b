// Small device helpers shared by the kernels of several categories (header-only, .cu only).
#ifndef GVB_DEVICE_UTIL_CUH
#define GVB_DEVICE_UTIL_CUH

#include <cuda_runtime.h>
#include <stdint.h>

// Blocks of `kernel` (with `threads` threads and `smem` bytes of dynamic shared memory) that
// are resident at once on `sms` SMs: one full wave. Returns a cudaError_t as int.
template <typename Kernel>
static int gvb_full_wave(Kernel kernel, int threads, size_t smem, int sms, int *blocks)
{
    int per_sm = 0;
    cudaError_t e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem);
    if (e != cudaSuccess)
        return (int)e;
    *blocks = (per_sm > 0 ? per_sm : 1) * (sms > 0 ? sms : 1);
    return 0;
}

// The GPU's global timer in ns (%globaltimer): one device-wide clock, comparable across
// kernels, streams and processes on the same GPU, independent of host clocks. The "memory"
// clobber keeps the compiler from moving it across the loads and stores around it.
__device__ __forceinline__ uint64_t gvb_globaltimer()
{
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)::"memory");
    return t;
}

// A fixed amount of dependent FMA work (no clock reads): `iters` multiply-adds per thread.
__device__ __forceinline__ float gvb_fma_chain(float a, int iters)
{
    float b = 0.999999f, c = 1e-7f;
#pragma unroll 8
    for (int i = 0; i < iters; i++)
        a = fmaf(a, b, c);
    return a;
}

#endif
