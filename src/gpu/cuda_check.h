/* Error handling for CUDA calls in metrics (after nccl-tests' CUDACHECK): a failing call
 * ends the metric FAIL with file, line, the call and the error string, returned up the
 * stack rather than exit()ing. */
#ifndef GVB_CUDA_CHECK_H
#define GVB_CUDA_CHECK_H

#include <cuda_runtime_api.h>

#include "core/worker.h"

#define GVB_CUDA_TRY(w, call)                                                                 \
    do {                                                                                     \
        cudaError_t e_ = (call);                                                             \
        if (e_ != cudaSuccess)                                                               \
            return gvb_report_status((w), GVB_FAIL, "%s:%d: %s: %s", __FILE__, __LINE__,    \
                                     #call, cudaGetErrorString(e_));                         \
    } while (0)

#endif
