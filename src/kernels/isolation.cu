// Device code for the isolation metrics: kernels and extern "C" launchers only.
#include <cuda_runtime.h>

#include "kernels/kernels.h"

// Four independent FMA chains per thread: a fixed amount of arithmetic per block, so a
// kernel's duration is the time the GPU really spent on it (a clock-spinning kernel would keep
// counting while its context is time-sliced out).
__global__ void __launch_bounds__(GVB_WORK_THREADS) gvb_work_kernel(float *sink, int iters)
{
    float a = threadIdx.x * 1e-3f, b = a + 0.5f, c = a + 0.25f, d = a + 0.125f;
    const float m = 0.99991f, k = 1e-4f;
#pragma unroll 8
    for (int i = 0; i < iters; i++) {
        a = fmaf(a, m, k);
        b = fmaf(b, m, k);
        c = fmaf(c, m, k);
        d = fmaf(d, m, k);
    }
    float r = a + b + c + d;
    if (r == -1.0f) // never true; keeps the chains alive
        sink[blockIdx.x] = r;
}

extern "C" int gvb_launch_work(cudaStream_t stream, float *sink, int blocks, int iters)
{
    gvb_work_kernel<<<blocks, GVB_WORK_THREADS, 0, stream>>>(sink, iters);
    return (int)cudaGetLastError();
}

extern "C" int gvb_work_prepare(void)
{
    cudaFuncAttributes a;
    return (int)cudaFuncGetAttributes(&a, gvb_work_kernel);
}

extern "C" int gvb_work_blocks_per_sm(int *blocks)
{
    return (int)cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, gvb_work_kernel,
                                                              GVB_WORK_THREADS, 0);
}

__global__ void gvb_fill_u64_kernel(uint64_t *p, size_t n, uint64_t v)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = v;
}

extern "C" int gvb_launch_fill_u64(cudaStream_t stream, uint64_t *p, size_t n, uint64_t v)
{
    gvb_fill_u64_kernel<<<4096, 256, 0, stream>>>(p, n, v);
    return (int)cudaGetLastError();
}

__global__ void gvb_count_u64_kernel(const uint64_t *p, size_t n, uint64_t v,
                                     unsigned long long *count)
{
    unsigned long long c = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        c += p[i] == v;
    for (int o = 16; o > 0; o /= 2)
        c += __shfl_down_sync(0xffffffffu, c, o);
    if ((threadIdx.x & 31) == 0 && c)
        atomicAdd(count, c);
}

extern "C" int gvb_launch_count_u64(cudaStream_t stream, const uint64_t *p, size_t n, uint64_t v,
                                    unsigned long long *count)
{
    gvb_count_u64_kernel<<<4096, 256, 0, stream>>>(p, n, v, count);
    return (int)cudaGetLastError();
}

__global__ void gvb_affine_u32_kernel(const uint32_t *in, uint32_t *out, size_t n, uint32_t mul,
                                      uint32_t add)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = in[i] * mul + add;
}

extern "C" int gvb_launch_affine_u32(cudaStream_t stream, const uint32_t *in, uint32_t *out,
                                     size_t n, uint32_t mul, uint32_t add)
{
    gvb_affine_u32_kernel<<<1024, 256, 0, stream>>>(in, out, n, mul, add);
    return (int)cudaGetLastError();
}

__global__ void gvb_fault_kernel(volatile int *bad) { *bad = 1; }

extern "C" int gvb_launch_fault(cudaStream_t stream)
{
    // the first page of the address space is never mapped
    gvb_fault_kernel<<<1, 1, 0, stream>>>((volatile int *)16);
    return (int)cudaGetLastError();
}
