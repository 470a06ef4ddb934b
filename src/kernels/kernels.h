/* extern "C" launchers of the device code in src/kernels/ (one .cu per category). Each returns
 * a cudaError_t as int (0 = success). */
#ifndef GVB_KERNELS_H
#define GVB_KERNELS_H

#include <cuda_runtime_api.h>

int gvb_launch_empty(cudaStream_t stream);

/* activation proof (proof.cu): blocks x 256 threads, each iters x 4 dependent FMAs */
int gvb_launch_proof_work(cudaStream_t stream, int blocks, int iters, float *out);

#endif
