// Device code for the scheduling metrics (SCHED-xxx): one-warp kernels that timestamp their
// progress with the GPU's global timer, fixed-work kernels that take one SM per block, and
// a long multi-wave kernel that says when it has started. All work is arithmetic of a fixed
// size ("work, not clocks"); the timer only records when it happened. Kernels and extern
// "C" launchers only.
#include <cuda_runtime.h>
#include <stdint.h>

#include "kernels/device_util.cuh"

#define GVB_BEACON_THREADS 32
#define GVB_WORK_THREADS 256
#define GVB_MAGIC 12345.678f

// One warp: trace[0] = start; then `chunks` chunks of `iters` FMAs, after each chunk
// trace[c + 1] = the global timer. The volatile shared store of the result issues only once
// the chunk's last FMA is done, so the timestamp cannot be taken early.
__global__ void gvb_beacon_kernel(unsigned long long *trace, int chunks, int iters, float *sink)
{
    __shared__ volatile float s_dep;
    float a = (float)threadIdx.x;
    if (threadIdx.x == 0)
        trace[0] = gvb_globaltimer();
    for (int c = 0; c < chunks; c++) {
        a = gvb_fma_chain(a, iters);
        __syncwarp();
        if (threadIdx.x == 0) {
            s_dep = a;
            trace[c + 1] = gvb_globaltimer();
        }
    }
    if (a == GVB_MAGIC)
        *sink = a;
}

// Fixed FMA work per block; the dynamic shared memory the launcher asks for is more than half
// an SM's, so each block has an SM to itself.
__global__ void __launch_bounds__(GVB_WORK_THREADS) gvb_sm_work_kernel(int iters, float *sink)
{
    extern __shared__ float s_pad[];
    float a = gvb_fma_chain((float)threadIdx.x, iters);
    if (a == GVB_MAGIC) {
        s_pad[threadIdx.x] = a;
        *sink = s_pad[0];
    }
}

// Fixed FMA work per block; block 0 raises *started (host-mapped memory) when it begins.
__global__ void __launch_bounds__(GVB_WORK_THREADS)
gvb_long_kernel(int iters, volatile int *started, float *sink)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        *started = 1;
        __threadfence_system();
    }
    float a = gvb_fma_chain((float)threadIdx.x, iters);
    if (a == GVB_MAGIC)
        *sink = a;
}

extern "C" int gvb_launch_beacon(unsigned long long *trace, int chunks, int iters, float *sink,
                                 cudaStream_t stream)
{
    gvb_beacon_kernel<<<1, GVB_BEACON_THREADS, 0, stream>>>(trace, chunks, iters, sink);
    return (int)cudaGetLastError();
}

// Prepares gvb_sm_work_kernel to use `smem` bytes of dynamic shared memory per block and
// returns how many of its blocks fit on one SM (1 when smem is over half an SM).
extern "C" int gvb_sm_work_prepare(size_t smem, int *blocks_per_sm)
{
    cudaError_t e = cudaFuncSetAttribute(gvb_sm_work_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e == cudaSuccess)
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, gvb_sm_work_kernel,
                                                          GVB_WORK_THREADS, smem);
    return (int)e;
}

extern "C" int gvb_launch_sm_work(int blocks, int iters, size_t smem, float *sink,
                                  cudaStream_t stream)
{
    gvb_sm_work_kernel<<<blocks, GVB_WORK_THREADS, smem, stream>>>(iters, sink);
    return (int)cudaGetLastError();
}

// Blocks of gvb_long_kernel that are resident at once on `sms` SMs (one wave).
extern "C" int gvb_long_kernel_wave(int sms, int *blocks)
{
    return gvb_full_wave(gvb_long_kernel, GVB_WORK_THREADS, 0, sms, blocks);
}

extern "C" int gvb_launch_long(int blocks, int iters, int *started, float *sink,
                               cudaStream_t stream)
{
    gvb_long_kernel<<<blocks, GVB_WORK_THREADS, 0, stream>>>(iters, started, sink);
    return (int)cudaGetLastError();
}
