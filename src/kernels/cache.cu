// Device code for the L2 cache metrics (CACHE-xxx): pointer chains over line-granular
// working sets (the latency proxy) and a repeated read of a working set (L2 throughput).
// Kernels and extern "C" launchers only.
#include <cuda_runtime.h>
#include <stdint.h>

#include "kernels/device_util.cuh"

#define GVB_LINE_WORDS 32 // 128-byte lines of 32-bit words
#define GVB_READ_THREADS 256

// Word 0 of line i holds the next line: (a * i + c) mod n, n a power of two. With a = 1 mod 4
// and c odd this is one cycle through all n lines (Hull-Dobell), in a scattered order.
__global__ void gvb_chain_build_kernel(uint32_t *lines, uint64_t n, uint64_t a, uint64_t c)
{
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (uint64_t)gridDim.x * blockDim.x)
        lines[i * GVB_LINE_WORDS] = (uint32_t)((a * i + c) & (n - 1));
}

// One chain per block (one thread): `chunks` chunks of `loads` dependent loads that bypass L1
// (ld.global.cg), so each load is served by L2 or DRAM. Each chunk's duration comes from the
// global timer; the position is kept in pos[] so that the next launch goes on along the chain.
__global__ void gvb_chase_kernel(const uint32_t *__restrict__ lines, uint32_t *pos, int chunks,
                                 int loads, unsigned long long *chunk_ns)
{
    __shared__ volatile uint32_t s_dep;
    uint32_t p = pos[blockIdx.x];
    for (int c = 0; c < chunks; c++) {
        uint64_t t0 = gvb_globaltimer();
        for (int k = 0; k < loads; k++)
            p = __ldcg(lines + (size_t)p * GVB_LINE_WORDS);
        s_dep = p; // issues only once the last load has returned (in-order issue)
        uint64_t t1 = gvb_globaltimer();
        chunk_ns[(size_t)blockIdx.x * chunks + c] = t1 - t0;
    }
    pos[blockIdx.x] = p;
}

// Reads n 16-byte words `reps` times through L2 (ld.global.cg); the xor of what was read
// goes to *sink only if it equals a value it cannot have, so the loads are not optimized away.
__global__ void __launch_bounds__(GVB_READ_THREADS)
gvb_read16_kernel(const int4 *__restrict__ src, size_t n, int reps, int *sink)
{
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    int acc = 0;
    for (int r = 0; r < reps; r++) {
        size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
        for (; i + 3 * stride < n; i += 4 * stride) {
            int4 a = __ldcg(src + i), b = __ldcg(src + i + stride);
            int4 c = __ldcg(src + i + 2 * stride), d = __ldcg(src + i + 3 * stride);
            acc ^= a.x ^ b.y ^ c.z ^ d.w;
        }
        for (; i < n; i += stride)
            acc ^= __ldcg(src + i).x;
    }
    if (acc == 0x7f3a5c1d)
        *sink = acc;
}

extern "C" int gvb_launch_chain_build(uint32_t *lines, uint64_t n_lines, uint64_t a, uint64_t c,
                                      cudaStream_t stream)
{
    gvb_chain_build_kernel<<<1024, 256, 0, stream>>>(lines, n_lines, a, c);
    return (int)cudaGetLastError();
}

extern "C" int gvb_launch_chase(const uint32_t *lines, uint32_t *pos, int chains, int chunks,
                                int loads, unsigned long long *chunk_ns, cudaStream_t stream)
{
    gvb_chase_kernel<<<chains, 1, 0, stream>>>(lines, pos, chunks, loads, chunk_ns);
    return (int)cudaGetLastError();
}

extern "C" int gvb_read16_grid(int sms, int *blocks)
{
    return gvb_full_wave(gvb_read16_kernel, GVB_READ_THREADS, 0, sms, blocks);
}

extern "C" int gvb_launch_read16(const void *src, size_t bytes, int reps, int blocks, int *sink,
                                 cudaStream_t stream)
{
    gvb_read16_kernel<<<blocks, GVB_READ_THREADS, 0, stream>>>((const int4 *)src, bytes / 16,
                                                              reps, sink);
    return (int)cudaGetLastError();
}
