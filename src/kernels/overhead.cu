// Device code for the overhead metrics: kernels and extern "C" launchers only.
#include <cuda_runtime.h>

__global__ void gvb_empty_kernel() {}

extern "C" int gvb_launch_empty(cudaStream_t stream)
{
    gvb_empty_kernel<<<1, 1, 0, stream>>>();
    return (int)cudaGetLastError();
}
