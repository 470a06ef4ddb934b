/* cuBLAS / cuBLASLt in the suite's terms: row-major matrices, one call for every precision,
 * fp32 accumulation, and fp8 (e4m3) through cuBLASLt where the device has it. Every matrix
 * product of the suite goes through here; there are no hand-written matrix kernels.
 * Functions return a cublasStatus_t as int (0 = success); gvb_blas_error() names it. */
#ifndef GVB_BLAS_H
#define GVB_BLAS_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#include "stats/peak.h"

struct gvb_cublas;

typedef struct gvb_blas {
    const struct gvb_cublas *api; /* the dlopen'ed entry points (gpu/cublas_dl.h) */
    void *handle;    /* cublasHandle_t */
    void *lt;        /* cublasLtHandle_t */
    void *lt_ws;     /* cuBLASLt workspace (device) */
    size_t lt_ws_bytes;
    cudaStream_t stream;
} gvb_blas;

/* 0 when cuBLAS and cuBLASLt can be loaded (gpu/cublas_dl.h), else -1 with why
 * ("cuBLAS not available: ..."): the metrics that need them SKIP with it. */
int gvb_blas_available(char *why, size_t len);

/* gvb_blas_create's status when the libraries cannot be loaded (not a cublasStatus_t). */
#define GVB_BLAS_UNAVAILABLE (-1)
/* Creates the handles on stream s (loading the libraries on first use). */
int gvb_blas_create(gvb_blas *b, cudaStream_t s);
void gvb_blas_destroy(gvb_blas *b);
/* The status's name; for GVB_BLAS_UNAVAILABLE, why the libraries could not be loaded. */
const char *gvb_blas_error(int status);

/* Bytes per element of a precision's inputs and outputs (fp8: inputs 1, output bf16 2). */
size_t gvb_prec_in_bytes(gvb_precision p);
size_t gvb_prec_out_bytes(gvb_precision p);

/* Row-major Y[m][n] = X[m][k] . op(W) + beta Y, fp32 accumulation, for prec FP32 (no tensor
 * cores), TF32, FP16 and BF16 (inputs and output in that type; TF32 in fp32 storage).
 * w_nk != 0: W is [n][k] (Y = X W^T, the layout of a Linear layer's weight); else W is [k][n].
 * ld*: row strides in elements. batch > 1: strided batched with s* elements between the
 * matrices. */
int gvb_gemm(gvb_blas *b, gvb_precision prec, int w_nk, int m, int n, int k, const void *x,
             long long ldx, long long sx, const void *w, long long ldw, long long sw, void *y,
             long long ldy, long long sy, int batch, float beta);

/* fp8 e4m3 GEMM through cuBLASLt: Y[m][n] (bf16) = X[m][k] . W[n][k]^T (both e4m3, the "TN"
 * layout Hopper requires), per-tensor scales 1.0. Plan once, run many. C (beta = 0, never read)
 * is a separate bf16 m x n buffer rather than Y itself, so no kernel has to run in place. */
#define GVB_FP8_ALGOS 8
typedef struct gvb_fp8_gemm {
    void *desc, *a, *b, *c;                /* cublasLt descriptors */
    unsigned char algo[GVB_FP8_ALGOS][64]; /* cublasLtMatmulAlgo_t, best first */
    int n_algos, chosen;
    float *scales; /* device: A and B scales */
    int m, n, k;
} gvb_fp8_gemm;

/* Plan variants: per-tensor scale pointers (device floats 1.0), fp8 fast accumulation. */
enum { GVB_FP8_SCALES = 1, GVB_FP8_FAST_ACCUM = 2 };
/* Returns 0, or non-zero with why (the device or library cannot do it). */
int gvb_fp8_gemm_plan(gvb_blas *b, gvb_fp8_gemm *g, int m, int n, int k, int variant, char *why,
                      size_t len);
/* Runs each candidate algorithm once on these buffers and keeps the first that runs (the
 * heuristic's first choice is not guaranteed to). Returns 0, or the last status with why. */
int gvb_fp8_gemm_select(gvb_blas *b, gvb_fp8_gemm *g, const void *x, const void *w,
                        const void *c, void *y, char *why, size_t len);
int gvb_fp8_gemm_run(gvb_blas *b, const gvb_fp8_gemm *g, const void *x, const void *w,
                     const void *c, void *y);
void gvb_fp8_gemm_destroy(gvb_fp8_gemm *g);

#endif
