/* LLM metrics on compute: attention throughput (LLM-001), multi-stream concurrency (LLM-006)
 * and GEMM throughput by precision (LLM-008). The decoder stack (LLM-003/004/009) is in
 * llm_decoder.c, the allocation metrics (LLM-002/005/007) in llm_memory.c, multi-GPU
 * (LLM-010) in llm_multigpu.c. Methods: docs/metrics/llm.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "metrics/llm_common.h"
#include "stats/llm_formulas.h"

/* ---- LLM-001 Attention Kernel Throughput ----------------------------------------------- */

typedef struct attn_job {
    int batch, heads, seq, head_dim;
    int chunk; /* (batch, head) matrices per GEMM call: bounds the score buffer */
    float scale;
    void *q, *k, *v, *o, *scores; /* bf16; q, k, v, o are [batch][heads][seq][head_dim] */
} attn_job;

/* S = Q K^T (cuBLAS, strided batched over heads), P = softmax(S / sqrt(d)) (ours, in place),
 * O = P V (cuBLAS), one chunk of heads at a time. */
static int attn_body(llm_ctx *c, void *arg)
{
    attn_job *a = arg;
    long long S = a->seq, D = a->head_dim;
    int total = a->batch * a->heads;
    for (int h0 = 0; h0 < total; h0 += a->chunk) {
        int nb = total - h0 < a->chunk ? total - h0 : a->chunk;
        size_t off = (size_t)h0 * S * D * 2;
        const char *q = (const char *)a->q + off, *k = (const char *)a->k + off;
        const char *v = (const char *)a->v + off;
        char *o = (char *)a->o + off;
        LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 1, a->seq, a->seq, a->head_dim, q, D, S * D,
                             k, D, S * D, a->scores, S, S * S, nb, 0.0f));
        LLM_CUDA(c, gvb_llm_softmax_rows(a->scores, nb * a->seq, a->seq, a->seq, a->scale, 0,
                                         c->stream));
        LLM_BLAS(c, gvb_gemm(&c->blas, GVB_PREC_BF16, 0, a->seq, a->head_dim, a->seq, a->scores,
                             S, S * S, v, D, S * D, o, D, S * D, nb, 0.0f));
    }
    return 0;
}

/* One pass with events around each part, summed over the chunks: where the time goes. */
static int attn_phases(llm_ctx *c, attn_job *a, double ms[3])
{
    cudaEvent_t ev[4];
    for (int i = 0; i < 4; i++)
        LLM_CUDA(c, cudaEventCreate(&ev[i]));
    long long S = a->seq, D = a->head_dim;
    int total = a->batch * a->heads, rc = 0;
    ms[0] = ms[1] = ms[2] = 0;
    for (int h0 = 0; h0 < total && !rc; h0 += a->chunk) {
        int nb = total - h0 < a->chunk ? total - h0 : a->chunk;
        size_t off = (size_t)h0 * S * D * 2;
        cudaEventRecord(ev[0], c->stream);
        rc = gvb_gemm(&c->blas, GVB_PREC_BF16, 1, a->seq, a->seq, a->head_dim, (char *)a->q + off,
                      D, S * D, (char *)a->k + off, D, S * D, a->scores, S, S * S, nb, 0.0f);
        cudaEventRecord(ev[1], c->stream);
        rc = rc || gvb_llm_softmax_rows(a->scores, nb * a->seq, a->seq, a->seq, a->scale, 0, c->stream);
        cudaEventRecord(ev[2], c->stream);
        rc = rc || gvb_gemm(&c->blas, GVB_PREC_BF16, 0, a->seq, a->head_dim, a->seq, a->scores, S,
                            S * S, (char *)a->v + off, D, S * D, (char *)a->o + off, D, S * D, nb,
                            0.0f);
        cudaEventRecord(ev[3], c->stream);
        rc = rc || cudaEventSynchronize(ev[3]);
        for (int i = 0; i < 3 && !rc; i++) {
            float t = 0;
            cudaEventElapsedTime(&t, ev[i], ev[i + 1]);
            ms[i] += t;
        }
    }
    for (int i = 0; i < 4; i++)
        cudaEventDestroy(ev[i]);
    if (rc)
        snprintf(c->err, sizeof c->err, "attention phase timing failed (%d)", rc);
    return rc != 0;
}

/* Output rows of the first and the last (batch, head) against a double-precision reference
 * computed from the same bf16 inputs. */
static int attn_check(llm_ctx *c, attn_job *a, double *rel_err)
{
    int S = a->seq, D = a->head_dim, total = a->batch * a->heads;
    const int rows[] = {0, S / 3, (2 * S) / 3, S - 1};
    const int nr = 4, heads[2] = {0, total - 1};
    size_t mat = (size_t)S * D;
    float *k = malloc(sizeof *k * mat), *v = malloc(sizeof *v * mat);
    float *q = malloc(sizeof *q * (size_t)D), *o = malloc(sizeof *o * (size_t)D);
    double *out = malloc(sizeof *out * (size_t)(2 * nr * D)), *ref = malloc(sizeof *ref * (size_t)(2 * nr * D));
    int rc = !k || !v || !q || !o || !out || !ref;
    if (rc)
        snprintf(c->err, sizeof c->err, "attention check: out of host memory");
    for (int hi = 0, n = 0; hi < 2 && !rc; hi++) {
        size_t base = (size_t)heads[hi] * mat * 2;
        rc = llm_fetch_f32(c, (char *)a->k + base, GVB_DT_BF16, D, S, D, k) ||
             llm_fetch_f32(c, (char *)a->v + base, GVB_DT_BF16, D, S, D, v);
        for (int r = 0; r < nr && !rc; r++, n += D) {
            size_t roff = base + (size_t)rows[r] * D * 2;
            rc = llm_fetch_f32(c, (char *)a->q + roff, GVB_DT_BF16, D, 1, D, q) ||
                 llm_fetch_f32(c, (char *)a->o + roff, GVB_DT_BF16, D, 1, D, o);
            if (rc)
                break;
            gvb_attention_row_ref(q, k, v, (size_t)D, S, D, a->scale, ref + n);
            for (int d = 0; d < D; d++)
                out[n + d] = o[d];
        }
    }
    if (!rc)
        *rel_err = gvb_rel_l2_error(out, ref, (size_t)(2 * nr * D));
    free(k), free(v), free(q), free(o), free(out), free(ref);
    return rc;
}

#define ATTN_TOLERANCE 2e-2 /* bf16 probabilities and outputs: 2^-8 relative rounding each */

static int llm_001(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 1))
        return 1;
    attn_job a = {
        .batch = llm_env_int("GVB_LLM_ATTN_BATCH", w->quick ? 2 : 8, 1, 1024),
        .heads = llm_env_int("GVB_LLM_ATTN_HEADS", 32, 1, 1024),
        .seq = llm_env_int("GVB_LLM_ATTN_SEQ", 2048, 16, 65536),
        .head_dim = llm_env_int("GVB_LLM_ATTN_HEAD_DIM", 128, 16, 512),
    };
    a.scale = 1.0f / sqrtf((float)a.head_dim);
    a.chunk = a.heads;
    size_t S = (size_t)a.seq, D = (size_t)a.head_dim, BH = (size_t)a.batch * a.heads;
    size_t qkvo = 4 * BH * S * D * 2, per_head = S * S * 2;
    int adapted = 0;
    while (qkvo + (size_t)a.chunk * per_head > c.budget_b && (a.chunk > 1 || a.batch > 1)) {
        if (a.chunk > 1)
            a.chunk /= 2; /* fewer heads per call first: the FLOPs stay the same */
        else
            a.batch /= 2, BH = (size_t)a.batch * a.heads, qkvo = 4 * BH * S * D * 2;
        adapted = 1;
    }
    if (qkvo + (size_t)a.chunk * per_head > c.budget_b) {
        llm_teardown(&c);
        return gvb_report_status(w, GVB_SKIP, "one head of seq %d needs %zu MiB; budget %zu MiB",
                                 a.seq, (qkvo + per_head) >> 20, c.budget_b >> 20);
    }
    int rc = 0;
    size_t t_bytes = BH * S * D * 2;
    if (llm_alloc(&c, &a.q, t_bytes) || llm_alloc(&c, &a.k, t_bytes) ||
        llm_alloc(&c, &a.v, t_bytes) || llm_alloc(&c, &a.o, t_bytes) ||
        llm_alloc(&c, &a.scores, (size_t)a.chunk * per_head)) {
        rc = gvb_report_status(w, GVB_FAIL, "cudaMalloc of %zu MiB failed (budget %zu MiB)",
                               (qkvo + (size_t)a.chunk * per_head) >> 20, c.budget_b >> 20);
        goto out;
    }
    /* q, k in [-2, 2) give scores of standard deviation ~1.3: a peaked, non-trivial softmax */
    if (gvb_llm_fill_random(a.q, GVB_DT_BF16, BH * S * D, w->seed ^ 0x51, 2.0f, c.stream) ||
        gvb_llm_fill_random(a.k, GVB_DT_BF16, BH * S * D, w->seed ^ 0x52, 2.0f, c.stream) ||
        gvb_llm_fill_random(a.v, GVB_DT_BF16, BH * S * D, w->seed ^ 0x53, 1.0f, c.stream)) {
        rc = gvb_report_status(w, GVB_FAIL, "random fill failed");
        goto out;
    }
    double err = 0;
    if (attn_body(&c, &a) || cudaStreamSynchronize(c.stream) != cudaSuccess ||
        attn_check(&c, &a, &err)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err[0] ? c.err : "attention failed");
        goto out;
    }
    gvb_emit_extra(w, "check_rel_error", err);
    if (!(err <= ATTN_TOLERANCE)) {
        rc = gvb_report_status(w, GVB_FAIL,
                               "attention output differs from the reference: relative error "
                               "%.3g > %.3g",
                               err, ATTN_TOLERANCE);
        goto out;
    }
    double *t;
    int n;
    if (llm_time(&c, w->iterations, w->warmup, attn_body, &a, &t, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    double flops = gvb_attention_flops(a.batch, a.heads, a.seq, a.seq, a.head_dim), best = 0;
    for (int i = 0; i < n; i++) {
        double tf = flops / t[i] / 1e12;
        best = tf > best ? tf : best;
        gvb_emit_sample(w, tf);
    }
    double med = flops / llm_median(t, n) / 1e12;
    free(t);
    double ms[3];
    if (attn_phases(&c, &a, ms) == 0) {
        gvb_emit_extra(w, "qk_gemm_ms", ms[0]);
        gvb_emit_extra(w, "softmax_ms", ms[1]);
        gvb_emit_extra(w, "pv_gemm_ms", ms[2]);
    }
    gvb_emit_text(w, "shape", "batch %d, heads %d, seq %d, head_dim %d, bf16, not causal",
                  a.batch, a.heads, a.seq, a.head_dim);
    gvb_emit_text(w, "method",
                  "QK^T and PV: cuBLAS strided-batched bf16 GEMMs (fp32 accumulate), %d heads "
                  "per call; softmax: our kernel; FLOPs = 4 B H S^2 D (softmax not counted)",
                  a.chunk);
    if (adapted)
        gvb_emit_text(w, "adapted", "batch %d, %d heads per call to fit %zu MiB", a.batch,
                      a.chunk, c.budget_b >> 20);
    gvb_emit_extra(w, "flops_per_iteration", flops);
    gvb_emit_extra(w, "peak_bf16_tflops", c.peak.tflops[GVB_PREC_BF16]);
    rc = llm_check_peak(&c, "tflops", med, c.peak.tflops[GVB_PREC_BF16], "TFLOP/s") ||
         llm_check_peak(&c, "best_sample_tflops", best, c.peak.tflops[GVB_PREC_BF16], "TFLOP/s");
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_001 = {.run = llm_001, .deadline_s = 120};

/* ---- LLM-006 Multi-Stream Performance --------------------------------------------------- */

typedef struct streams_job {
    int streams, per_stream, blocks, threads, iters;
    cudaStream_t s[16];
    cudaEvent_t done[16];
    float *out[16];
} streams_job;

#define FMA_A 0.999f
#define FMA_B 0.001f

/* The same K x per_stream kernels either all on the timing stream (serial) or kernel j on
 * stream j % K, the timing stream then waiting for every stream (concurrent). */
static int streams_run(llm_ctx *c, streams_job *j, int concurrent)
{
    for (int r = 0; r < j->per_stream; r++)
        for (int i = 0; i < j->streams; i++) {
            cudaStream_t s = concurrent ? j->s[i] : c->stream;
            LLM_CUDA(c, gvb_llm_fma_work(j->out[i], j->blocks, j->threads, j->iters, FMA_A, FMA_B, s));
        }
    if (concurrent)
        for (int i = 0; i < j->streams; i++) {
            LLM_CUDA(c, cudaEventRecord(j->done[i], j->s[i]));
            LLM_CUDA(c, cudaStreamWaitEvent(c->stream, j->done[i], 0));
        }
    return 0;
}

static int serial_body(llm_ctx *c, void *arg) { return streams_run(c, arg, 0); }
static int concurrent_body(llm_ctx *c, void *arg) { return streams_run(c, arg, 1); }

/* The kernel's output against the same FMA chain on the CPU (fmaf is exact, so equal). */
static int fma_check(llm_ctx *c, streams_job *j, double *rel_err)
{
    int n = j->blocks * j->threads;
    float *got = malloc(sizeof *got * (size_t)n);
    if (!got) {
        snprintf(c->err, sizeof c->err, "out of host memory");
        return 1;
    }
    cudaError_t e = cudaMemcpy(got, j->out[j->streams - 1], sizeof *got * (size_t)n,
                               cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
        free(got);
        return llm_fail_at(c, __FILE__, __LINE__, "cudaMemcpy", cudaGetErrorString(e));
    }
    double num = 0, den = 0;
    for (int i = 0; i < n; i += 97) {
        float x0 = (float)i * 1e-3f, x[4] = {x0, x0 + 0.25f, x0 + 0.5f, x0 + 0.75f};
        for (int k = 0; k < j->iters; k++)
            for (int q = 0; q < 4; q++)
                x[q] = fmaf(x[q], FMA_A, FMA_B);
        float ref = ((x[0] + x[1]) + x[2]) + x[3];
        num += ((double)got[i] - ref) * ((double)got[i] - ref);
        den += (double)ref * ref;
    }
    free(got);
    *rel_err = den > 0 ? sqrt(num / den) : INFINITY;
    return 0;
}

static int llm_006(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 0))
        return 1;
    streams_job j = {
        .streams = llm_env_int("GVB_LLM_STREAMS", 4, 2, 16),
        .per_stream = 8,
        .blocks = 16,
        .threads = 256,
        .iters = 8192,
    };
    int rc = 0, created = 0;
    for (; created < j.streams; created++) {
        if (cudaStreamCreateWithFlags(&j.s[created], cudaStreamNonBlocking) != cudaSuccess ||
            cudaEventCreateWithFlags(&j.done[created], cudaEventDisableTiming) != cudaSuccess ||
            llm_alloc(&c, (void **)&j.out[created], sizeof(float) * (size_t)j.blocks * j.threads)) {
            rc = gvb_report_status(w, GVB_FAIL, "stream %d setup failed", created);
            goto out;
        }
    }
    double err = 0;
    if (concurrent_body(&c, &j) || cudaStreamSynchronize(c.stream) != cudaSuccess ||
        fma_check(&c, &j, &err)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err[0] ? c.err : "kernel failed");
        goto out;
    }
    gvb_emit_extra(w, "check_rel_error", err);
    if (!(err <= 1e-6)) {
        rc = gvb_report_status(w, GVB_FAIL, "FMA kernel output differs from the CPU: %.3g", err);
        goto out;
    }
    double *ser, *con;
    int n;
    if (llm_time_pair(&c, w->iterations, w->warmup, serial_body, &j, concurrent_body, &j, &ser,
                      &con, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    double total_flops = (double)j.blocks * j.threads * j.iters * 4 * 2 * j.streams * j.per_stream;
    double best = 0;
    for (int i = 0; i < n; i++) {
        gvb_emit_sample(w, gvb_speedup_pct(ser[i], con[i]));
        gvb_emit_series(w, "serial_ms", ser[i] * 1e3);
        gvb_emit_series(w, "concurrent_ms", con[i] * 1e3);
        best = fmax(best, total_flops / con[i] / 1e12);
    }
    double con_tflops = total_flops / llm_median(con, n) / 1e12;
    free(ser), free(con);
    gvb_emit_text(w, "method",
                  "%d streams x %d kernels of %d x %d threads, each thread 4 chains of %d fp32 "
                  "FMAs; sample = (serial / concurrent - 1) x 100 from back-to-back runs in "
                  "alternating order",
                  j.streams, j.per_stream, j.blocks, j.threads, j.iters);
    gvb_emit_extra(w, "streams", j.streams);
    gvb_emit_extra(w, "ideal_speedup_pct", (j.streams - 1) * 100.0);
    gvb_emit_extra(w, "concurrent_fp32_tflops", con_tflops);
    rc = llm_check_peak(&c, "concurrent_fp32_tflops", con_tflops, c.peak.tflops[GVB_PREC_FP32],
                        "TFLOP/s") ||
         llm_check_peak(&c, "best_concurrent_fp32_tflops", best, c.peak.tflops[GVB_PREC_FP32],
                        "TFLOP/s");
out:
    for (int i = 0; i < created; i++) {
        cudaStreamSynchronize(j.s[i]);
        cudaStreamDestroy(j.s[i]);
        cudaEventDestroy(j.done[i]);
    }
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_006 = {.run = llm_006, .deadline_s = 120};

/* ---- LLM-008 Mixed Precision Support ----------------------------------------------------- */

/* Square GEMM Y = X W^T (n x n x n) in one precision. */
typedef struct gemm_job {
    gvb_precision prec;
    int n;
    void *x, *w, *y;
    void *c_in; /* fp8 only: cuBLASLt's C (beta = 0), apart from y */
    gvb_fp8_gemm fp8;
} gemm_job;

static int gemm_body(llm_ctx *c, void *arg)
{
    gemm_job *g = arg;
    if (g->prec == GVB_PREC_FP8) {
        LLM_BLAS(c, gvb_fp8_gemm_run(&c->blas, &g->fp8, g->x, g->w, g->c_in, g->y));
        return 0;
    }
    LLM_BLAS(c, gvb_gemm(&c->blas, g->prec, 1, g->n, g->n, g->n, g->x, g->n, 0, g->w, g->n, 0,
                         g->y, g->n, 0, 1, 0.0f));
    return 0;
}

static int prec_dtype_in(gvb_precision p)
{
    return p == GVB_PREC_FP8 ? GVB_DT_E4M3 : p == GVB_PREC_FP16 ? GVB_DT_F16
                                        : p == GVB_PREC_BF16 ? GVB_DT_BF16 : GVB_DT_F32;
}

static int prec_dtype_out(gvb_precision p)
{
    return p == GVB_PREC_FP8 ? GVB_DT_BF16 : prec_dtype_in(p);
}

/* Relative error tolerated against the double reference: output rounding of 16-bit types,
 * tf32's 10-bit mantissa, fp32's accumulation order. */
static double prec_tolerance(gvb_precision p)
{
    switch (p) {
    case GVB_PREC_FP32: return 1e-4;
    case GVB_PREC_TF32: return 5e-3;
    case GVB_PREC_FP16: return 5e-3;
    default: return 1e-2;
    }
}

/* Random inputs, one run, 16 entries against the reference. Returns 0; 1 when the GEMM could
 * not run (c->err); 2 when it ran and its result is wrong (c->err). */
static int gemm_prepare(llm_ctx *c, gemm_job *g, uint64_t seed)
{
    size_t nn = (size_t)g->n * g->n;
    int din = prec_dtype_in(g->prec);
    LLM_CUDA(c, gvb_llm_fill_random(g->x, din, nn, seed ^ 0x81, 1.0f, c->stream));
    LLM_CUDA(c, gvb_llm_fill_random(g->w, din, nn, seed ^ 0x82, 1.0f, c->stream));
    if (gemm_body(c, g))
        return 1;
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    double err = 0;
    if (llm_check_gemm(c, din, prec_dtype_out(g->prec), g->n, g->n, g->n, g->x, g->n, g->w, g->n,
                       g->y, g->n, NULL, 16, seed, &err))
        return 1;
    char key[64];
    snprintf(key, sizeof key, "%s_check_rel_error", gvb_precision_name(g->prec));
    gvb_emit_extra(c->w, key, err);
    if (!(err <= prec_tolerance(g->prec))) {
        snprintf(c->err, sizeof c->err,
                 "%s GEMM differs from the reference: relative error %.3g > %.3g",
                 gvb_precision_name(g->prec), err, prec_tolerance(g->prec));
        return 2;
    }
    return 0;
}

/* Emits <prec>_tflops per sample and fails above the precision's peak. */
static int emit_precision(llm_ctx *c, const gemm_job *g, const double *t, int cnt)
{
    double flops = gvb_gemm_flops(g->n, g->n, g->n), best = 0;
    char key[64], best_key[80];
    snprintf(key, sizeof key, "%s_tflops", gvb_precision_name(g->prec));
    snprintf(best_key, sizeof best_key, "%s_best", key);
    for (int i = 0; i < cnt; i++) {
        gvb_emit_series(c->w, key, flops / t[i] / 1e12);
        best = fmax(best, flops / t[i] / 1e12);
    }
    double peak = c->peak.tflops[g->prec];
    return llm_check_peak(c, key, flops / llm_median(t, cnt) / 1e12, peak, "TFLOP/s") ||
           llm_check_peak(c, best_key, best, peak, "TFLOP/s");
}

static int time_precision(llm_ctx *c, gemm_job *g, int n, int warmup)
{
    double *t;
    int cnt;
    if (llm_time(c, n, warmup, gemm_body, g, &t, &cnt))
        return gvb_report_status(c->w, GVB_FAIL, "%s", c->err);
    int rc = emit_precision(c, g, t, cnt);
    free(t);
    return rc;
}

static const char *fp8_variant_name(int v)
{
    return v == GVB_FP8_SCALES                        ? "per-tensor scale pointers"
           : v == 0                                   ? "no scale pointers"
           : v == (GVB_FP8_SCALES | GVB_FP8_FAST_ACCUM) ? "scale pointers, fast accumulation"
                                                      : "?";
}

/* The first fp8 configuration that runs here: per-tensor scales (what fp8 inference uses),
 * then without scale pointers, then with fast accumulation. Returns the variant, or -1 after
 * recording "not supported: <why>" (a device or library without it is a fact, not a failure). */
static int fp8_plan(llm_ctx *c, gemm_job *g, uint64_t seed)
{
    static const int variants[] = {GVB_FP8_SCALES, 0, GVB_FP8_SCALES | GVB_FP8_FAST_ACCUM};
    size_t nn = (size_t)g->n * g->n;
    char why[256] = "", first[256] = "";
    if (gvb_llm_fill_random(g->x, GVB_DT_E4M3, nn, seed ^ 0x81, 1.0f, c->stream) ||
        gvb_llm_fill_random(g->w, GVB_DT_E4M3, nn, seed ^ 0x82, 1.0f, c->stream)) {
        gvb_emit_text(c->w, "fp8_tflops", "not supported: random fill failed");
        return -1;
    }
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        why[0] = '\0';
        if (gvb_fp8_gemm_plan(&c->blas, &g->fp8, g->n, g->n, g->n, variants[i], why, sizeof why) == 0 &&
            gvb_fp8_gemm_select(&c->blas, &g->fp8, g->x, g->w, g->c_in, g->y, why, sizeof why) == 0)
            return variants[i];
        gvb_fp8_gemm_destroy(&g->fp8);
        if (i == 0)
            snprintf(first, sizeof first, "%s", why);
    }
    gvb_emit_text(c->w, "fp8_tflops", "not supported: %s (also without scale pointers and with "
                  "fast accumulation)", first);
    return -1;
}

static int llm_008(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 1))
        return 1;
    int n = llm_env_int("GVB_LLM_GEMM_SIZE", w->quick ? 4096 : 8192, 256, 32768);
    n = (n + 15) / 16 * 16;
    size_t nn = (size_t)n * n;
    int adapted = 0;
    while (nn * 12 > c.budget_b && n > 1024) { /* three fp32 matrices */
        n /= 2, nn = (size_t)n * n;
        adapted = 1;
    }
    int rc = 0;
    void *base;
    /* one region: bf16 X W Y and fp16 X W Y (6 x 2 bytes); later fp32 X W Y (3 x 4 bytes) */
    if (llm_alloc(&c, &base, nn * 12)) {
        rc = gvb_report_status(w, GVB_FAIL, "cudaMalloc of %zu MiB failed (budget %zu MiB)",
                               (nn * 12) >> 20, c.budget_b >> 20);
        goto out;
    }
    char *b = base;
    gemm_job bf = {.prec = GVB_PREC_BF16, .n = n, .x = b, .w = b + 2 * nn, .y = b + 4 * nn};
    gemm_job hf = {.prec = GVB_PREC_FP16, .n = n, .x = b + 6 * nn, .w = b + 8 * nn, .y = b + 10 * nn};
    if (gemm_prepare(&c, &bf, w->seed) || gemm_prepare(&c, &hf, w->seed)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    double *bt, *ht;
    int cnt;
    if (llm_time_pair(&c, w->iterations, w->warmup, gemm_body, &bf, gemm_body, &hf, &bt, &ht, &cnt)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    for (int i = 0; i < cnt; i++)
        gvb_emit_sample(w, ht[i] / bt[i]); /* bf16 TFLOP/s / fp16 TFLOP/s of one pair */
    rc = emit_precision(&c, &bf, bt, cnt) || emit_precision(&c, &hf, ht, cnt);
    free(bt), free(ht);
    if (rc)
        goto out;
    /* the other precisions: fewer samples (fp32 at 8192^3 takes ~20 ms each), 30 per metric
     * split over its replicates, at least 5 each (fewer with --iterations) */
    int n_extra = llm_capped_samples(w, 30), warm = w->warmup < 3 ? w->warmup : 3;
    gemm_job f32 = {.prec = GVB_PREC_FP32, .n = n, .x = b, .w = b + 4 * nn, .y = b + 8 * nn};
    gemm_job t32 = f32;
    t32.prec = GVB_PREC_TF32;
    if (gemm_prepare(&c, &f32, w->seed) || gemm_prepare(&c, &t32, w->seed)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    if (time_precision(&c, &f32, n_extra, warm) || time_precision(&c, &t32, n_extra, warm)) {
        rc = 1;
        goto out;
    }
    /* fp8: a device or library that cannot run it is recorded, not a failure; a wrong
     * result is */
    gemm_job f8 = {.prec = GVB_PREC_FP8, .n = n, .x = b, .w = b + nn, .y = b + 2 * nn,
                   .c_in = b + 4 * nn};
    int v = fp8_plan(&c, &f8, w->seed);
    if (v >= 0) {
        gvb_emit_text(w, "fp8_variant", "%s", fp8_variant_name(v));
        int prc = gemm_prepare(&c, &f8, w->seed);
        if (prc == 1)
            gvb_emit_text(w, "fp8_tflops", "not supported: %s", c.err);
        else if (prc == 2)
            rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        else
            rc = time_precision(&c, &f8, n_extra, warm);
        gvb_fp8_gemm_destroy(&f8.fp8);
        if (rc)
            goto out;
    }
    gvb_emit_text(w, "method",
                  "Y = X W^T, %d x %d x %d, cuBLAS (fp8: cuBLASLt, e4m3 inputs, bf16 output, "
                  "scales 1), fp32 accumulation; fp32 without tensor cores; sample = "
                  "t_fp16 / t_bf16 of back-to-back runs in alternating order",
                  n, n, n);
    if (adapted)
        gvb_emit_text(w, "adapted", "GEMM size %d to fit %zu MiB", n, c.budget_b >> 20);
    for (int pr = 0; pr < GVB_PREC_COUNT; pr++) {
        char key[64];
        snprintf(key, sizeof key, "peak_%s_tflops", gvb_precision_name((gvb_precision)pr));
        if (c.peak.tflops[pr] > 0)
            gvb_emit_extra(w, key, c.peak.tflops[pr]);
    }
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_008 = {.run = llm_008, .deadline_s = 180};
