/* Shared parts of the LLM metrics (llm*.c): per-process setup (stream, cuBLAS, the device's
 * peak, the tenant's memory budget), a timing loop for bodies that return errors with their
 * location, the above-peak check, reading tensors back for reference checks, and the GEMM
 * reference check. Methods: docs/metrics/llm.md. */
#ifndef GVB_LLM_COMMON_H
#define GVB_LLM_COMMON_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"
#include "gpu/blas.h"
#include "stats/peak.h"

/* a decoder of 64 layers has 6 x 64 tensors (llm_stack.h) */
#define LLM_MAX_ALLOCS 512

typedef struct llm_ctx {
    gvb_worker *w; /* NULL outside a worker (llm_open: `serve`) */
    cudaStream_t stream;
    gvb_blas blas;
    int have_blas;
    gvb_peak peak;
    size_t free_b, total_b;
    size_t tenant_b; /* the tenant's memory: the configured limit if below the total, else total */
    size_t budget_b; /* what the metric may allocate: min(free, 90 % of tenant_b) */
    void *allocs[LLM_MAX_ALLOCS];
    int n_allocs;
    char err[512]; /* why the last body failed, with file:line */
} llm_ctx;

/* The part of the setup that needs no worker (`serve`): device, a non-blocking stream,
 * cuBLAS when need_blas, the peak, and the memory of a tenant limited to memory_limit bytes
 * (0: none): tenant_b and budget_b. Returns 0; 1 with c->err; 2 with c->err when cuBLAS cannot
 * be loaded (a metric SKIPs then). */
int llm_open(llm_ctx *c, int need_blas, int device, uint64_t memory_limit);

/* Device 0, a non-blocking stream, cuBLAS when need_blas, peak and memory; emits the peak's
 * source and the budget as extras. Returns 0, or 1 after reporting FAIL. */
int llm_setup(gvb_worker *w, llm_ctx *c, int need_blas);
/* The same on another device (the reason is also left in c->err). */
int llm_setup_on(gvb_worker *w, llm_ctx *c, int need_blas, int device);
void llm_teardown(llm_ctx *c);

/* cudaMalloc recorded for llm_teardown. Returns the CUDA error as int. */
int llm_alloc(llm_ctx *c, void **p, size_t bytes);

/* Records "file:line: call: error" in c->err; returns 1. */
int llm_fail_at(llm_ctx *c, const char *file, int line, const char *call, const char *what);

#define LLM_CUDA(c, call)                                                                      \
    do {                                                                                       \
        cudaError_t e_ = (cudaError_t)(call);                                                  \
        if (e_ != cudaSuccess)                                                                 \
            return llm_fail_at((c), __FILE__, __LINE__, #call, cudaGetErrorString(e_));       \
    } while (0)
#define LLM_BLAS(c, call)                                                                      \
    do {                                                                                       \
        int s_ = (call);                                                                       \
        if (s_ != 0)                                                                           \
            return llm_fail_at((c), __FILE__, __LINE__, #call, gvb_blas_error(s_));           \
    } while (0)
/* In a metric's run function: report c->err as the FAIL reason. */
#define LLM_TRY(c, expr)                                                                       \
    do {                                                                                       \
        if ((expr) != 0)                                                                       \
            return gvb_report_status((c)->w, GVB_FAIL, "%s", (c)->err);                       \
    } while (0)

/* The sample count of a loop capped apart from --iterations (fp32 GEMMs, whole-memory
 * tensors, prefills): `total` per metric split over its replicates, at least 5 per process
 * group, never more than the group's iterations. */
int llm_capped_samples(const gvb_worker *w, int total);

/* An integer setting from the environment (docs/metrics/llm.md lists them), else def;
 * a value outside [lo, hi] is ignored in favour of def. */
int llm_env_int(const char *name, int def, int lo, int hi);

/* Timing loop: the start barrier, warmup untimed calls, then at least n timed calls (more
 * until w->min_time_s, up to 4 n); each is body() then a stream synchronize, timed on the host.
 * *times (malloc'd, seconds) and *count receive the samples. Returns 0 or 1 (c->err set). */
typedef int (*llm_body)(llm_ctx *c, void *arg);
int llm_time(llm_ctx *c, int n, int warmup, llm_body body, void *arg, double **times, int *count);

/* Paired samples for ratios: each sample runs body a and body b back to back (b first on odd
 * samples, so drift and ordering effects cancel), each timed alone (body + synchronize).
 * *ta, *tb (malloc'd, seconds) and *count receive them. Returns 0 or 1 (c->err set). */
int llm_time_pair(llm_ctx *c, int n, int warmup, llm_body a, void *arg_a, llm_body b, void *arg_b,
                  double **ta, double **tb, int *count);

/* 0 when value is not above a known peak; else 1 with the reason in c->err. */
int llm_peak_error(llm_ctx *c, const char *name, double value, double peak, const char *unit);

/* Emits <name>_pct_of_peak (when the peak is known) and returns 0; a value above the peak
 * reports FAIL with the reason and returns 1. unit names the value in the reason. */
int llm_check_peak(llm_ctx *c, const char *name, double value, double peak, const char *unit);

/* Median of x (copied). */
double llm_median(const double *x, int n);

/* Reads rows x cols elements (rows ld elements apart) of a device tensor of dtype
 * (GVB_DT_*) into host floats. Returns 0 or 1 (c->err set). */
int llm_fetch_f32(llm_ctx *c, const void *dev, int dtype, long long ld, int rows, int cols,
                  float *host);

/* Checks `samples` seeded entries of Y[m][n] = X[m][k] W[n][k]^T (+ y_before[i][j] when
 * y_before, a host copy of Y before a beta = 1 GEMM) against a double-precision reference.
 * *rel_err: ||out - ref|| / ||ref|| over the entries. Returns 0 or 1 (c->err set). */
int llm_check_gemm(llm_ctx *c, int in_dtype, int out_dtype, int m, int n, int k, const void *x,
                   long long ldx, const void *w, long long ldw, const void *y, long long ldy,
                   const float *y_before, int samples, uint64_t seed, double *rel_err);

/* Size of one element of a GVB_DT_* type. */
size_t llm_dt_bytes(int dtype);

#endif
