/* cuBLAS and cuBLASLt loaded with dlopen at run time, the only way the suite reaches them
 * (src/gpu/blas.c for the LLM metrics, OH-010's GEMM). Linking them would make every tenant
 * process of every metric pay their load time at exec (~80 ms on the H100 machine), which
 * inflates OH-004 (process start to first kernel) and every metric's process start; loaded
 * here, only the processes that run a GEMM pay it, and the binary runs where cuBLAS is absent
 * (those metrics then SKIP with the reason). Types come from the toolkit's headers. */
#ifndef GVB_CUBLAS_DL_H
#define GVB_CUBLAS_DL_H

#include <cublas_v2.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes" /* cublasLt.h declares f() */
#include <cublasLt.h>
#pragma GCC diagnostic pop
#include <stddef.h>

/* Every entry point the suite uses: member, exported symbol (cublas_v2.h maps cublasCreate to
 * cublasCreate_v2 and so on: these are the real names), library. The struct and the resolver
 * are both expanded from this list. */
#define GVB_CUBLAS_FUNCS(X)                                                                    \
    X(create, cublasCreate_v2, GVB_CUBLAS_LIB)                                                 \
    X(destroy, cublasDestroy_v2, GVB_CUBLAS_LIB)                                               \
    X(set_stream, cublasSetStream_v2, GVB_CUBLAS_LIB)                                          \
    X(gemm_ex, cublasGemmEx, GVB_CUBLAS_LIB)                                                   \
    X(gemm_strided_batched_ex, cublasGemmStridedBatchedEx, GVB_CUBLAS_LIB)                     \
    X(status_string, cublasGetStatusString, GVB_CUBLAS_LIB)                                    \
    X(lt_create, cublasLtCreate, GVB_CUBLASLT_LIB)                                             \
    X(lt_destroy, cublasLtDestroy, GVB_CUBLASLT_LIB)                                           \
    X(lt_matmul, cublasLtMatmul, GVB_CUBLASLT_LIB)                                             \
    X(lt_matmul_desc_create, cublasLtMatmulDescCreate, GVB_CUBLASLT_LIB)                       \
    X(lt_matmul_desc_destroy, cublasLtMatmulDescDestroy, GVB_CUBLASLT_LIB)                     \
    X(lt_matmul_desc_set_attribute, cublasLtMatmulDescSetAttribute, GVB_CUBLASLT_LIB)          \
    X(lt_matrix_layout_create, cublasLtMatrixLayoutCreate, GVB_CUBLASLT_LIB)                   \
    X(lt_matrix_layout_destroy, cublasLtMatrixLayoutDestroy, GVB_CUBLASLT_LIB)                 \
    X(lt_preference_create, cublasLtMatmulPreferenceCreate, GVB_CUBLASLT_LIB)                  \
    X(lt_preference_destroy, cublasLtMatmulPreferenceDestroy, GVB_CUBLASLT_LIB)                \
    X(lt_preference_set_attribute, cublasLtMatmulPreferenceSetAttribute, GVB_CUBLASLT_LIB)     \
    X(lt_algo_get_heuristic, cublasLtMatmulAlgoGetHeuristic, GVB_CUBLASLT_LIB)

enum { GVB_CUBLAS_LIB, GVB_CUBLASLT_LIB };

typedef struct gvb_cublas {
#define GVB_CUBLAS_MEMBER(member, sym, lib) __typeof__(sym) *member;
    GVB_CUBLAS_FUNCS(GVB_CUBLAS_MEMBER)
#undef GVB_CUBLAS_MEMBER
} gvb_cublas;

/* The process-wide instance: on first use loads libcublasLt and libcublas of the headers'
 * major version (by soname from the loader's path, then from GVB_CUDA_LIB_DIR) and resolves
 * every entry point; later calls, from any thread, return the same result. Returns NULL with
 * why ("cuBLAS not available: ...") when that failed; why may be NULL. */
const gvb_cublas *gvb_cublas_get(char *why, size_t len);

#endif
