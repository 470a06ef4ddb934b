// Device code for the bandwidth metrics (BW-xxx, and the streaming aggressor of the CACHE
// metrics): a streaming copy with 16-byte loads and stores. Kernels and extern "C"
// launchers only.
#include <cuda_runtime.h>
#include <stdint.h>

#include "kernels/device_util.cuh"

#define GVB_COPY_THREADS 256
#define GVB_COPY_UNROLL 4

// dst = src over n 16-byte words. Grid-stride; each thread keeps GVB_COPY_UNROLL independent
// 16-byte loads in flight before storing them, so a grid that fills every SM saturates DRAM.
__global__ void __launch_bounds__(GVB_COPY_THREADS)
gvb_copy16_kernel(int4 *__restrict__ dst, const int4 *__restrict__ src, size_t n)
{
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + (GVB_COPY_UNROLL - 1) * stride < n; i += GVB_COPY_UNROLL * stride) {
        int4 v[GVB_COPY_UNROLL];
#pragma unroll
        for (int u = 0; u < GVB_COPY_UNROLL; u++)
            v[u] = src[i + u * stride];
#pragma unroll
        for (int u = 0; u < GVB_COPY_UNROLL; u++)
            dst[i + u * stride] = v[u];
    }
    for (; i < n; i += stride)
        dst[i] = src[i];
}

// Blocks that fill every SM of the device as the process sees it (occupancy x SMs).
extern "C" int gvb_copy16_grid(int sms, int *blocks)
{
    return gvb_full_wave(gvb_copy16_kernel, GVB_COPY_THREADS, 0, sms, blocks);
}

// Copies `bytes` (a multiple of 16, 16-byte aligned) from src to dst on `stream`.
extern "C" int gvb_launch_copy16(void *dst, const void *src, size_t bytes, int blocks,
                                 cudaStream_t stream)
{
    gvb_copy16_kernel<<<blocks, GVB_COPY_THREADS, 0, stream>>>((int4 *)dst, (const int4 *)src,
                                                              bytes / 16);
    return (int)cudaGetLastError();
}
