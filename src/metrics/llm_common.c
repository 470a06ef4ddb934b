/* Shared parts of the LLM metrics (see llm_common.h). */
#include "metrics/llm_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/peak.h"
#include "kernels/kernels.h"
#include "stats/llm_formulas.h"
#include "stats/stats.h"

int llm_fail_at(llm_ctx *c, const char *file, int line, const char *call, const char *what)
{
    const char *base = strrchr(file, '/');
    snprintf(c->err, sizeof c->err, "%s:%d: %s: %s", base ? base + 1 : file, line, call, what);
    return 1;
}

int llm_open(llm_ctx *c, int need_blas, int device, uint64_t memory_limit)
{
    memset(c, 0, sizeof *c);
    if (need_blas && gvb_blas_available(c->err, sizeof c->err) != 0)
        return 2;
    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaMemGetInfo(&c->free_b, &c->total_b);
    if (e != cudaSuccess) {
        snprintf(c->err, sizeof c->err, "CUDA setup on device %d: %s", device, cudaGetErrorString(e));
        return 1;
    }
    int pe = gvb_gpu_peak(&c->peak);
    if (pe != 0) {
        snprintf(c->err, sizeof c->err, "device query: %s", cudaGetErrorString((cudaError_t)pe));
        return 1;
    }
    if (need_blas) {
        int st = gvb_blas_create(&c->blas, c->stream);
        c->have_blas = st == 0;
        if (st != 0) {
            snprintf(c->err, sizeof c->err, "cuBLAS setup: %s", gvb_blas_error(st));
            return 1;
        }
    }
    c->tenant_b = memory_limit && memory_limit < c->total_b ? (size_t)memory_limit : c->total_b;
    size_t cap = (size_t)(0.9 * (double)c->tenant_b);
    c->budget_b = c->free_b < cap ? c->free_b : cap;
    return 0;
}

int llm_setup_on(gvb_worker *w, llm_ctx *c, int need_blas, int device)
{
    int rc = llm_open(c, need_blas, device, w->memory_limit);
    c->w = w;
    if (rc)
        return gvb_report_status(w, rc == 2 ? GVB_SKIP : GVB_FAIL, "%s", c->err);
    gvb_emit_text(w, "peak_source", "%s", c->peak.source);
    gvb_emit_extra(w, "memory_budget_MiB", (double)(c->budget_b >> 20));
    return 0;
}

int llm_setup(gvb_worker *w, llm_ctx *c, int need_blas)
{
    return llm_setup_on(w, c, need_blas, 0);
}

void llm_teardown(llm_ctx *c)
{
    if (c->stream)
        cudaStreamSynchronize(c->stream);
    for (int i = 0; i < c->n_allocs; i++)
        cudaFree(c->allocs[i]);
    c->n_allocs = 0;
    if (c->have_blas)
        gvb_blas_destroy(&c->blas);
    c->have_blas = 0;
    if (c->stream)
        cudaStreamDestroy(c->stream);
    c->stream = NULL;
}

int llm_alloc(llm_ctx *c, void **p, size_t bytes)
{
    *p = NULL;
    if (c->n_allocs >= LLM_MAX_ALLOCS)
        return (int)cudaErrorMemoryAllocation;
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        *p = NULL;
        return (int)e;
    }
    c->allocs[c->n_allocs++] = *p;
    return 0;
}

int llm_capped_samples(const gvb_worker *w, int total)
{
    int n = gvb_replicate_share_min(w, total, 5);
    return w->iterations < n ? w->iterations : n;
}

int llm_env_int(const char *name, int def, int lo, int hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= lo && v <= hi ? (int)v : def;
}

int llm_time(llm_ctx *c, int n, int warmup, llm_body body, void *arg, double **times, int *count)
{
    *times = NULL;
    *count = 0;
    if (gvb_barrier(c->w) != 0) {
        snprintf(c->err, sizeof c->err, "start barrier: the parent is gone");
        return 1;
    }
    for (int i = 0; i < warmup; i++) {
        if (body(c, arg))
            return 1;
        LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    }
    int cap = n * 4 > n ? n * 4 : n;
    double *t = malloc(sizeof *t * (size_t)cap);
    if (!t) {
        snprintf(c->err, sizeof c->err, "out of host memory");
        return 1;
    }
    double measured = 0;
    int i = 0;
    for (; i < cap && (i < n || measured < c->w->min_time_s); i++) {
        double t0 = gvb_now();
        int rc = body(c, arg);
        cudaError_t e = rc ? cudaSuccess : cudaStreamSynchronize(c->stream);
        t[i] = gvb_now() - t0;
        if (rc || e != cudaSuccess) {
            free(t);
            return rc ? 1 : llm_fail_at(c, __FILE__, __LINE__, "cudaStreamSynchronize",
                                        cudaGetErrorString(e));
        }
        measured += t[i];
    }
    *times = t;
    *count = i;
    return 0;
}

static int time_once(llm_ctx *c, llm_body body, void *arg, double *secs)
{
    double t0 = gvb_now();
    if (body(c, arg))
        return 1;
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    *secs = gvb_now() - t0;
    return 0;
}

int llm_time_pair(llm_ctx *c, int n, int warmup, llm_body a, void *arg_a, llm_body b, void *arg_b,
                  double **ta, double **tb, int *count)
{
    *ta = *tb = NULL;
    *count = 0;
    if (gvb_barrier(c->w) != 0) {
        snprintf(c->err, sizeof c->err, "start barrier: the parent is gone");
        return 1;
    }
    int cap = n * 4 > n ? n * 4 : n;
    double *xa = malloc(sizeof *xa * (size_t)cap), *xb = malloc(sizeof *xb * (size_t)cap);
    if (!xa || !xb) {
        free(xa), free(xb);
        snprintf(c->err, sizeof c->err, "out of host memory");
        return 1;
    }
    double measured = 0, ja, jb;
    int i = -warmup, rc = 0;
    for (; !rc && i < cap && (i < n || measured < c->w->min_time_s); i++) {
        rc = i & 1 ? time_once(c, b, arg_b, &jb) || time_once(c, a, arg_a, &ja)
                   : time_once(c, a, arg_a, &ja) || time_once(c, b, arg_b, &jb);
        if (!rc && i >= 0) {
            xa[i] = ja, xb[i] = jb;
            measured += ja + jb;
        }
    }
    if (rc) {
        free(xa), free(xb);
        return 1;
    }
    *ta = xa, *tb = xb, *count = i;
    return 0;
}

int llm_peak_error(llm_ctx *c, const char *name, double value, double peak, const char *unit)
{
    if (!gvb_above_peak(value, peak))
        return 0;
    snprintf(c->err, sizeof c->err,
             "%s = %.4g %s is above the device's peak of %.4g %s (%s): a measurement bug, not a "
             "result",
             name, value, unit, peak, unit, c->peak.source);
    return 1;
}

int llm_check_peak(llm_ctx *c, const char *name, double value, double peak, const char *unit)
{
    char key[128];
    if (peak > 0) {
        snprintf(key, sizeof key, "%s_pct_of_peak", name);
        gvb_emit_extra(c->w, key, gvb_pct_of_peak(value, peak));
    }
    if (llm_peak_error(c, name, value, peak, unit))
        return gvb_report_status(c->w, GVB_FAIL, "%s", c->err);
    return 0;
}

double llm_median(const double *x, int n)
{
    return gvb_median(x, (size_t)(n > 0 ? n : 0));
}

size_t llm_dt_bytes(int dtype)
{
    switch (dtype) {
    case GVB_DT_F32: return 4;
    case GVB_DT_F16:
    case GVB_DT_BF16: return 2;
    case GVB_DT_E4M3: return 1;
    default: return 0;
    }
}

int llm_fetch_f32(llm_ctx *c, const void *dev, int dtype, long long ld, int rows, int cols,
                  float *host)
{
    size_t es = llm_dt_bytes(dtype), row_b = es * (size_t)cols;
    unsigned char *raw = malloc(row_b * (size_t)rows);
    if (!raw || !es) {
        free(raw);
        snprintf(c->err, sizeof c->err, "fetch: out of host memory or bad type %d", dtype);
        return 1;
    }
    cudaError_t e = cudaMemcpy2D(raw, row_b, dev, (size_t)ld * es, row_b, (size_t)rows,
                                 cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
        free(raw);
        return llm_fail_at(c, __FILE__, __LINE__, "cudaMemcpy2D (read back for the check)",
                           cudaGetErrorString(e));
    }
    size_t n = (size_t)rows * (size_t)cols;
    for (size_t i = 0; i < n; i++) {
        switch (dtype) {
        case GVB_DT_F32: memcpy(&host[i], raw + 4 * i, 4); break;
        case GVB_DT_F16: {
            uint16_t b;
            memcpy(&b, raw + 2 * i, 2);
            host[i] = gvb_f16_to_f32(b);
            break;
        }
        case GVB_DT_BF16: {
            uint16_t b;
            memcpy(&b, raw + 2 * i, 2);
            host[i] = gvb_bf16_to_f32(b);
            break;
        }
        default: host[i] = gvb_e4m3_to_f32(raw[i]); break;
        }
    }
    free(raw);
    return 0;
}

int llm_check_gemm(llm_ctx *c, int in_dtype, int out_dtype, int m, int n, int k, const void *x,
                   long long ldx, const void *w, long long ldw, const void *y, long long ldy,
                   const float *y_before, int samples, uint64_t seed, double *rel_err)
{
    float *xr = malloc(sizeof *xr * (size_t)k), *wr = malloc(sizeof *wr * (size_t)k);
    double *out = malloc(sizeof *out * (size_t)samples), *ref = malloc(sizeof *ref * (size_t)samples);
    int rc = !xr || !wr || !out || !ref;
    if (rc)
        snprintf(c->err, sizeof c->err, "GEMM check: out of host memory");
    gvb_rng rng;
    gvb_rng_seed(&rng, seed);
    size_t ies = llm_dt_bytes(in_dtype), oes = llm_dt_bytes(out_dtype);
    for (int s = 0; s < samples && !rc; s++) {
        /* the corners first, then seeded entries */
        int i = s == 0 ? 0 : s == 1 ? m - 1 : (int)gvb_rng_below(&rng, (uint64_t)m);
        int j = s == 0 ? 0 : s == 1 ? n - 1 : (int)gvb_rng_below(&rng, (uint64_t)n);
        float yv;
        rc = llm_fetch_f32(c, (const char *)x + (size_t)i * ldx * ies, in_dtype, k, 1, k, xr) ||
             llm_fetch_f32(c, (const char *)w + (size_t)j * ldw * ies, in_dtype, k, 1, k, wr) ||
             llm_fetch_f32(c, (const char *)y + ((size_t)i * ldy + j) * oes, out_dtype, 1, 1, 1,
                           &yv);
        if (rc)
            break;
        double acc = y_before ? y_before[(size_t)i * n + j] : 0.0;
        for (int t = 0; t < k; t++)
            acc += (double)xr[t] * wr[t];
        out[s] = yv;
        ref[s] = acc;
    }
    if (!rc)
        *rel_err = gvb_rel_l2_error(out, ref, (size_t)samples);
    free(xr);
    free(wr);
    free(out);
    free(ref);
    return rc;
}
