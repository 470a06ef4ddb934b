/* extern "C" launchers of the device code in src/kernels/ (one .cu per category). Each returns
 * a cudaError_t as int (0 = success). */
#ifndef GVB_KERNELS_H
#define GVB_KERNELS_H

#include <cuda_runtime_api.h>

int gvb_launch_empty(cudaStream_t stream);

/* ---- error.cu (ERR-xxx) ---- */
/* One thread writes the global timer to *flag (host-mapped), fences, then stores to target:
 * with target = gvb_unmapped_device_address() the store faults (cudaErrorIllegalAddress). */
int gvb_launch_flag_store(cudaStream_t stream, unsigned long long *flag, int *target);
int *gvb_unmapped_device_address(void);
/* An empty kernel launched with the given configuration (possibly invalid on purpose). */
int gvb_launch_config(cudaStream_t stream, unsigned grid_x, unsigned grid_y, unsigned threads,
                      size_t shared_bytes);

#endif
