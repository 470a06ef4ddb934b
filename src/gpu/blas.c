/* cuBLAS / cuBLASLt wrapper (see blas.h). Row-major Y = X op(W) is the column-major
 * Y^T = op(W)^T X^T, so W is cuBLAS's A and X its B. The libraries are reached only through
 * the dlopen loader (gpu/cublas_dl.h): b->api once a handle exists, gvb_cublas_get() else. */
#include "gpu/blas.h"

#include <stdio.h>
#include <string.h>

#include "gpu/cublas_dl.h"

#define LT_WORKSPACE_BYTES (32u << 20)

_Static_assert(sizeof(cublasLtMatmulAlgo_t) <= sizeof(((gvb_fp8_gemm *)0)->algo[0]),
               "cublasLtMatmulAlgo_t does not fit");

int gvb_blas_create(gvb_blas *b, cudaStream_t s)
{
    memset(b, 0, sizeof *b);
    b->stream = s;
    b->api = gvb_cublas_get(NULL, 0);
    if (!b->api)
        return GVB_BLAS_UNAVAILABLE;
    cublasHandle_t h;
    cublasStatus_t st = b->api->create(&h);
    if (st != CUBLAS_STATUS_SUCCESS)
        return (int)st;
    b->handle = h;
    st = b->api->set_stream(h, s);
    if (st != CUBLAS_STATUS_SUCCESS)
        return (int)st;
    cublasLtHandle_t lt;
    st = b->api->lt_create(&lt);
    if (st != CUBLAS_STATUS_SUCCESS)
        return (int)st;
    b->lt = lt;
    return 0;
}

void gvb_blas_destroy(gvb_blas *b)
{
    if (!b->api) /* the library was never loaded: nothing was created */
        return;
    if (b->handle)
        b->api->destroy((cublasHandle_t)b->handle);
    if (b->lt)
        b->api->lt_destroy((cublasLtHandle_t)b->lt);
    if (b->lt_ws)
        cudaFree(b->lt_ws);
    memset(b, 0, sizeof *b);
}

int gvb_blas_available(char *why, size_t len)
{
    return gvb_cublas_get(why, len) ? 0 : -1;
}

const char *gvb_blas_error(int status)
{
    static _Thread_local char reason[512];
    const gvb_cublas *api = gvb_cublas_get(reason, sizeof reason);
    if (!api)
        return reason; /* the only status there can be without the library */
    if (status == GVB_BLAS_UNAVAILABLE)
        return "cuBLAS not available";
    return api->status_string((cublasStatus_t)status);
}

size_t gvb_prec_in_bytes(gvb_precision p)
{
    switch (p) {
    case GVB_PREC_FP32:
    case GVB_PREC_TF32: return 4;
    case GVB_PREC_FP16:
    case GVB_PREC_BF16: return 2;
    case GVB_PREC_FP8: return 1;
    default: return 0;
    }
}

size_t gvb_prec_out_bytes(gvb_precision p)
{
    return p == GVB_PREC_FP8 ? 2 : gvb_prec_in_bytes(p);
}

int gvb_gemm(gvb_blas *b, gvb_precision prec, int w_nk, int m, int n, int k, const void *x,
             long long ldx, long long sx, const void *w, long long ldw, long long sw, void *y,
             long long ldy, long long sy, int batch, float beta)
{
    cudaDataType_t t;
    cublasComputeType_t ct = CUBLAS_COMPUTE_32F;
    switch (prec) {
    case GVB_PREC_FP32: t = CUDA_R_32F; break;
    case GVB_PREC_TF32: t = CUDA_R_32F; ct = CUBLAS_COMPUTE_32F_FAST_TF32; break;
    case GVB_PREC_FP16: t = CUDA_R_16F; break;
    case GVB_PREC_BF16: t = CUDA_R_16BF; break;
    default: return (int)CUBLAS_STATUS_NOT_SUPPORTED;
    }
    const float alpha = 1.0f;
    cublasHandle_t h = (cublasHandle_t)b->handle;
    cublasOperation_t opw = w_nk ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (batch <= 1)
        return (int)b->api->gemm_ex(h, opw, CUBLAS_OP_N, n, m, k, &alpha, w, t, (int)ldw, x, t,
                                 (int)ldx, &beta, y, t, (int)ldy, ct, CUBLAS_GEMM_DEFAULT);
    return (int)b->api->gemm_strided_batched_ex(h, opw, CUBLAS_OP_N, n, m, k, &alpha, w, t, (int)ldw,
                                           sw, x, t, (int)ldx, sx, &beta, y, t, (int)ldy, sy,
                                           batch, ct, CUBLAS_GEMM_DEFAULT);
}

#define LT_TRY(call, what)                                                                     \
    do {                                                                                       \
        cublasStatus_t s_ = (call);                                                            \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            snprintf(why, len, "%s: %s", what, b->api->status_string(s_));                     \
            gvb_fp8_gemm_destroy(g);                                                           \
            return (int)s_;                                                                    \
        }                                                                                      \
    } while (0)

int gvb_fp8_gemm_plan(gvb_blas *b, gvb_fp8_gemm *g, int m, int n, int k, int variant, char *why,
                      size_t len)
{
    memset(g, 0, sizeof *g);
    g->m = m, g->n = n, g->k = k;
    int dev = 0, major = 0, minor = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
    if (major * 10 + minor < 89) {
        snprintf(why, len, "compute capability %d.%d has no fp8 tensor cores (needs >= 8.9)",
                 major, minor);
        return -1;
    }
    if (m % 16 || n % 16 || k % 16) {
        snprintf(why, len, "fp8 GEMM dimensions must be multiples of 16 (%d x %d x %d)", m, n, k);
        return -1;
    }
    if (!b->lt_ws) {
        cudaError_t e = cudaMalloc(&b->lt_ws, LT_WORKSPACE_BYTES);
        if (e != cudaSuccess) {
            b->lt_ws = NULL;
            snprintf(why, len, "cuBLASLt workspace: %s", cudaGetErrorString(e));
            return -1;
        }
        b->lt_ws_bytes = LT_WORKSPACE_BYTES;
    }
    /* the two scales 256 bytes apart: cuBLASLt wants aligned scale pointers */
    const float ones[65] = {[0] = 1.0f, [64] = 1.0f};
    cudaError_t e = cudaMalloc((void **)&g->scales, sizeof ones);
    if (e == cudaSuccess)
        e = cudaMemcpy(g->scales, ones, sizeof ones, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        snprintf(why, len, "scale buffer: %s", cudaGetErrorString(e));
        gvb_fp8_gemm_destroy(g);
        return -1;
    }
    cublasLtMatmulDesc_t desc;
    LT_TRY(b->api->lt_matmul_desc_create(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "MatmulDescCreate");
    g->desc = desc;
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    const float *sa = g->scales, *sb = g->scales + 64;
    LT_TRY(b->api->lt_matmul_desc_set_attribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta),
           "TRANSA");
    LT_TRY(b->api->lt_matmul_desc_set_attribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb),
           "TRANSB");
    if (variant & GVB_FP8_SCALES) {
        LT_TRY(b->api->lt_matmul_desc_set_attribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa,
                                              sizeof sa),
               "A_SCALE_POINTER");
        LT_TRY(b->api->lt_matmul_desc_set_attribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb,
                                              sizeof sb),
               "B_SCALE_POINTER");
    }
    if (variant & GVB_FP8_FAST_ACCUM) {
        int8_t fast = 1;
        LT_TRY(b->api->lt_matmul_desc_set_attribute(desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast,
                                              sizeof fast),
               "FAST_ACCUM");
    }
    /* column-major: A = W (k x n, op T), B = X (k x m), C = D = Y^T (n x m) */
    cublasLtMatrixLayout_t la, lb, lc;
    LT_TRY(b->api->lt_matrix_layout_create(&la, CUDA_R_8F_E4M3, k, n, k), "layout A");
    g->a = la;
    LT_TRY(b->api->lt_matrix_layout_create(&lb, CUDA_R_8F_E4M3, k, m, k), "layout B");
    g->b = lb;
    LT_TRY(b->api->lt_matrix_layout_create(&lc, CUDA_R_16BF, n, m, n), "layout C/D");
    g->c = lc;
    cublasLtMatmulPreference_t pref;
    LT_TRY(b->api->lt_preference_create(&pref), "PreferenceCreate");
    size_t ws = b->lt_ws_bytes;
    cublasStatus_t st = b->api->lt_preference_set_attribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t res[GVB_FP8_ALGOS];
    int found = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
        st = b->api->lt_algo_get_heuristic((cublasLtHandle_t)b->lt, desc, la, lb, lc, lc, pref,
                                            GVB_FP8_ALGOS, res, &found);
    b->api->lt_preference_destroy(pref);
    LT_TRY(st, "AlgoGetHeuristic");
    for (int i = 0; i < found; i++)
        if (res[i].state == CUBLAS_STATUS_SUCCESS)
            memcpy(g->algo[g->n_algos++], &res[i].algo, sizeof res[i].algo);
    if (g->n_algos < 1)
        LT_TRY(CUBLAS_STATUS_NOT_SUPPORTED, "AlgoGetHeuristic found no fp8 algorithm");
    return 0;
}

int gvb_fp8_gemm_select(gvb_blas *b, gvb_fp8_gemm *g, const void *x, const void *w,
                        const void *c, void *y, char *why, size_t len)
{
    int st = (int)CUBLAS_STATUS_NOT_SUPPORTED;
    for (g->chosen = 0; g->chosen < g->n_algos; g->chosen++) {
        st = gvb_fp8_gemm_run(b, g, x, w, c, y);
        if (st == 0)
            return 0;
    }
    g->chosen = 0;
    snprintf(why, len, "cublasLtMatmul: %s with each of the %d algorithms the heuristic offered",
             b->api->status_string((cublasStatus_t)st), g->n_algos);
    return st;
}

int gvb_fp8_gemm_run(gvb_blas *b, const gvb_fp8_gemm *g, const void *x, const void *w,
                     const void *c, void *y)
{
    const float alpha = 1.0f, beta = 0.0f;
    cublasLtMatmulAlgo_t algo;
    memcpy(&algo, g->algo[g->chosen], sizeof algo);
    return (int)b->api->lt_matmul((cublasLtHandle_t)b->lt, (cublasLtMatmulDesc_t)g->desc, &alpha, w,
                               (cublasLtMatrixLayout_t)g->a, x, (cublasLtMatrixLayout_t)g->b,
                               &beta, c, (cublasLtMatrixLayout_t)g->c, y,
                               (cublasLtMatrixLayout_t)g->c, &algo, b->lt_ws, b->lt_ws_bytes,
                               b->stream);
}

void gvb_fp8_gemm_destroy(gvb_fp8_gemm *g)
{
    const gvb_cublas *api = gvb_cublas_get(NULL, 0); /* loaded if a descriptor exists */
    if (g->desc)
        api->lt_matmul_desc_destroy((cublasLtMatmulDesc_t)g->desc);
    if (g->a)
        api->lt_matrix_layout_destroy((cublasLtMatrixLayout_t)g->a);
    if (g->b)
        api->lt_matrix_layout_destroy((cublasLtMatrixLayout_t)g->b);
    if (g->c)
        api->lt_matrix_layout_destroy((cublasLtMatrixLayout_t)g->c);
    if (g->scales)
        cudaFree(g->scales);
    memset(g, 0, sizeof *g);
}
