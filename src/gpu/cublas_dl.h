/* cuBLAS loaded with dlopen at run time, for the one overhead metric that needs a GEMM
 * (OH-010): tenant processes of every other metric do not pay the library's load time
 * (~80 ms per exec on the H100 machine), and the binary runs where cuBLAS is absent (OH-010
 * then SKIPs with the reason). Only the few entry points used are resolved. */
#ifndef GVB_CUBLAS_DL_H
#define GVB_CUBLAS_DL_H

#include <cublas_v2.h>
#include <stddef.h>

typedef struct gvb_cublas {
    __typeof__(cublasCreate_v2) *create;
    __typeof__(cublasDestroy_v2) *destroy;
    __typeof__(cublasSetStream_v2) *set_stream;
    __typeof__(cublasGemmEx) *gemm_ex;
    __typeof__(cublasGetStatusString) *status_string;
} gvb_cublas;

/* Loads libcublas once (the toolkit's soname, then GVB_CUDA_LIB_DIR). Returns 0, or -1 with
 * why. */
int gvb_cublas_load(gvb_cublas *c, char *why, size_t len);

#endif
