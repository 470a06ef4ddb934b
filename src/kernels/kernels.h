/* extern "C" launchers of the device code in src/kernels/ (one .cu per category). Each returns
 * a cudaError_t as int (0 = success). */
#ifndef GVB_KERNELS_H
#define GVB_KERNELS_H

#include <cuda_runtime_api.h>

int gvb_launch_empty(cudaStream_t stream);

#endif
