// Device code for the activation proof's compute check: a fixed amount of arithmetic per
// thread (four independent chains of dependent FMAs), never a clock, so a tenant that is
// time-sliced out or given fewer SMs takes proportionally longer.
#include <cuda_runtime.h>

__global__ void gvb_proof_work_kernel(float *out, int iters)
{
    float a = 1.0f + threadIdx.x * 1e-6f, b = 0.5f, c = 0.25f, d = 0.125f;
    const float m = 0.999999f, k = 1e-7f;
    for (int i = 0; i < iters; i++) {
        a = a * m + k;
        b = b * m + k;
        c = c * m + k;
        d = d * m + k;
    }
    float r = a + b + c + d;
    if (r == 12345.0f) // practically never; keeps the loop from being optimized away
        out[blockIdx.x] = r;
}

extern "C" int gvb_launch_proof_work(cudaStream_t stream, int blocks, int iters, float *out)
{
    gvb_proof_work_kernel<<<blocks, 256, 0, stream>>>(out, iters);
    return (int)cudaGetLastError();
}
