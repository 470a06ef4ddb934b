/* The decoder metrics on the shared synthetic stack (llm_stack.h: 7B-like layer shape, bf16,
 * KV cache): batch-size scaling (LLM-003), per-token decode latency and time to first token
 * (LLM-004), and decode-latency variation under dynamic batching (LLM-009). Sizes:
 * docs/metrics/llm.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/llm_stack.h"
#include "stats/llm_formulas.h"
#include "stats/stats.h"

static llm_dec_cfg dec_cfg_from_env(const gvb_worker *w)
{
    llm_dec_cfg g = {
        .hidden = llm_env_int("GVB_LLM_HIDDEN", 4096, 64, 65536),
        .heads = llm_env_int("GVB_LLM_HEADS", 32, 1, 1024),
        .ffn = llm_env_int("GVB_LLM_FFN", 11008, 64, 262144),
        .layers = llm_env_int("GVB_LLM_LAYERS", 4, 1, LLM_DEC_MAX_LAYERS),
        .kv_len = llm_env_int("GVB_LLM_KV_LEN", 512, 1, 65536),
        .bmax = llm_env_int("GVB_LLM_BMAX", w->quick ? 8 : 32, 1, 1024),
        .prefill = llm_env_int("GVB_LLM_PREFILL", 512, 1, 16384),
        .seed = w->seed,
    };
    return g;
}

typedef struct step_arg {
    llm_dec *d;
    int batch;
} step_arg;

static int decode_body(llm_ctx *c, void *arg)
{
    step_arg *s = arg;
    llm_dec_step st = {.rows = s->batch};
    return llm_dec_forward(c, s->d, &st, NULL);
}

static int prefill_body(llm_ctx *c, void *arg)
{
    llm_dec *d = arg;
    llm_dec_step st = {.rows = d->cfg.prefill, .prefill = 1};
    return llm_dec_forward(c, d, &st, NULL);
}

/* ---- shared metric scaffolding --------------------------------------------------------- */

static void dec_describe(gvb_worker *w, const llm_dec *d, const char *adapted)
{
    const llm_dec_cfg *g = &d->cfg;
    gvb_emit_text(w, "model",
                  "%d layers of hidden %d, %d heads x %d, MLP %d (gated), bf16, KV cache %d "
                  "tokens per sequence, %zu MiB on the device",
                  g->layers, g->hidden, g->heads, g->head_dim, g->ffn, g->kv_len, d->bytes >> 20);
    gvb_emit_extra(w, "layers", g->layers);
    gvb_emit_extra(w, "hidden", g->hidden);
    gvb_emit_extra(w, "kv_len", g->kv_len);
    if (adapted[0])
        gvb_emit_text(w, "adapted", "%s", adapted);
}

/* Sets the stack up and checks it; reports SKIP/FAIL itself. Returns 0 or 1. */
static int dec_prepare(gvb_worker *w, llm_ctx *c, llm_dec *d, llm_dec_cfg g, int with_prefill,
                       int check_batch)
{
    char adapted[200];
    int rc = llm_dec_setup(c, d, g, with_prefill ? LLM_DEC_PREFILL : 0, adapted, sizeof adapted);
    if (rc == 2)
        return gvb_report_status(w, GVB_SKIP, "%s", c->err);
    if (rc)
        return gvb_report_status(w, GVB_FAIL, "%s", c->err);
    if (check_batch > d->cfg.bmax)
        check_batch = d->cfg.bmax;
    /* layer 0 of a decode step at check_batch, and of the prefill */
    llm_dec_step steps[2] = {{.rows = check_batch}, {.rows = d->cfg.prefill, .prefill = 1}};
    if (llm_dec_check(c, d, steps, with_prefill ? 2 : 1))
        return gvb_report_status(w, GVB_FAIL, "%s", c->err);
    gvb_emit_extra(w, "check_rel_error_worst", d->check_worst);
    dec_describe(w, d, adapted);
    return 0;
}

/* Decode-step throughputs of one step time against the device's peaks: bytes (weights + KV
 * read once, a lower bound on DRAM traffic) and FLOPs. */
static int dec_check_step_peak(llm_ctx *c, const llm_dec *d, int batch, double secs, const char *tag)
{
    const llm_dec_cfg *g = &d->cfg;
    double bytes = g->layers * gvb_decoder_step_bytes(batch, g->hidden, g->ffn, g->kv_len, 2);
    double flops = g->layers * gvb_decoder_step_flops(batch, g->hidden, g->ffn, g->kv_len);
    char k1[96], k2[96];
    snprintf(k1, sizeof k1, "%smin_GBps", tag);
    snprintf(k2, sizeof k2, "%stflops", tag);
    gvb_emit_extra(c->w, k1, bytes / secs / 1e9);
    gvb_emit_extra(c->w, k2, flops / secs / 1e12);
    return llm_check_peak(c, k1, bytes / secs / 1e9, c->peak.mem_gbps, "GB/s") ||
           llm_check_peak(c, k2, flops / secs / 1e12, c->peak.tflops[GVB_PREC_BF16], "TFLOP/s");
}

static double min_of(const double *t, int n)
{
    double m = INFINITY;
    for (int i = 0; i < n; i++)
        m = fmin(m, t[i]);
    return m;
}

/* ---- LLM-004 Token Generation Latency ------------------------------------------------------ */

static int llm_004(gvb_worker *w)
{
    llm_ctx c;
    llm_dec d;
    if (llm_setup(w, &c, 1))
        return 1;
    int rc = 0;
    llm_dec_cfg g = dec_cfg_from_env(w);
    g.bmax = llm_env_int("GVB_LLM_DECODE_BATCH", 1, 1, 1024); /* one sequence: latency */
    if (dec_prepare(w, &c, &d, g, 1, g.bmax)) {
        rc = 1;
        goto out;
    }
    int batch = d.cfg.bmax;
    double *t;
    int n;
    step_arg s = {.d = &d, .batch = batch};
    /* time to first token: prefill of the prompt through every layer; 20 per metric split
     * over its replicates, at least 5 each (fewer with --iterations) */
    int n_ttft = llm_capped_samples(w, 20), w_ttft = w->warmup < 2 ? w->warmup : 2;
    if (llm_time(&c, n_ttft, w_ttft, prefill_body, &d, &t, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "prefill: %s", c.err);
        goto out;
    }
    for (int i = 0; i < n; i++)
        gvb_emit_series(w, "ttft_ms", t[i] * 1e3);
    double ttft = llm_median(t, n), ttft_min = min_of(t, n);
    free(t);
    double pf = d.cfg.layers * gvb_prefill_layer_flops(d.cfg.prefill, d.cfg.hidden, d.cfg.ffn);
    gvb_emit_extra(w, "ttft_ms", ttft * 1e3);
    gvb_emit_extra(w, "prefill_tokens", d.cfg.prefill);
    gvb_emit_extra(w, "prefill_tflops", pf / ttft / 1e12);
    if (llm_check_peak(&c, "prefill_tflops", pf / ttft / 1e12, c.peak.tflops[GVB_PREC_BF16], "TFLOP/s") ||
        llm_check_peak(&c, "prefill_tflops_best", pf / ttft_min / 1e12, c.peak.tflops[GVB_PREC_BF16],
                       "TFLOP/s")) {
        rc = 1;
        goto out;
    }
    /* decode: one token per sequence per step */
    if (llm_time(&c, w->iterations, w->warmup, decode_body, &s, &t, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "decode: %s", c.err);
        goto out;
    }
    for (int i = 0; i < n; i++)
        gvb_emit_sample(w, t[i] * 1e3);
    double med = llm_median(t, n), best = min_of(t, n);
    gvb_stats st;
    if (gvb_stats_compute(t, (size_t)n, w->seed, &st) == 0) {
        gvb_emit_extra(w, "p50_ms", st.p50 * 1e3);
        gvb_emit_extra(w, "p99_ms", st.p99 * 1e3);
    }
    free(t);
    gvb_emit_extra(w, "batch", batch);
    gvb_emit_extra(w, "tokens_per_s", batch / med);
    gvb_emit_text(w, "method",
                  "sample = one decode step (every layer, %d token(s) at KV length %d) timed on "
                  "the host to completion; TTFT = prefill of %d prompt tokens through every layer "
                  "(no LM head)",
                  batch, d.cfg.kv_len, d.cfg.prefill);
    rc = dec_check_step_peak(&c, &d, batch, med, "decode_") ||
         dec_check_step_peak(&c, &d, batch, best, "decode_best_");
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_004 = {.run = llm_004, .deadline_s = 180};

/* ---- LLM-003 Batch Size Scaling ------------------------------------------------------------- */

static int llm_003(gvb_worker *w)
{
    llm_ctx c;
    llm_dec d;
    if (llm_setup(w, &c, 1))
        return 1;
    int rc = 0;
    if (dec_prepare(w, &c, &d, dec_cfg_from_env(w), 0, 2)) {
        rc = 1;
        goto out;
    }
    int bmax = d.cfg.bmax;
    if (bmax < 2) {
        rc = gvb_report_status(w, GVB_SKIP, "the memory budget allows batch 1 only");
        goto out;
    }
    /* the curve: batch 1, 2, 4, ... bmax (fewer samples per point than the primary pairs) */
    int n_curve = w->iterations < 50 ? w->iterations : 50;
    for (int b = 1;; b = b * 2 < bmax ? b * 2 : bmax) {
        step_arg s = {.d = &d, .batch = b};
        double *t;
        int n;
        if (llm_time(&c, n_curve, w->warmup, decode_body, &s, &t, &n)) {
            rc = gvb_report_status(w, GVB_FAIL, "batch %d: %s", b, c.err);
            goto out;
        }
        char key[64], tag[64];
        snprintf(key, sizeof key, "tokens_per_s_b%d", b);
        for (int i = 0; i < n; i++)
            gvb_emit_series(w, key, b / t[i]);
        snprintf(tag, sizeof tag, "b%d_best_", b);
        double best = min_of(t, n);
        free(t);
        if (dec_check_step_peak(&c, &d, b, best, tag)) {
            rc = 1;
            goto out;
        }
        if (b == bmax)
            break;
    }
    /* primary: batch 1 and batch bmax back to back; sample = t(1) / t(bmax) */
    step_arg one = {.d = &d, .batch = 1}, full = {.d = &d, .batch = bmax};
    double *t1, *tb;
    int n;
    if (llm_time_pair(&c, w->iterations, w->warmup, decode_body, &one, decode_body, &full, &t1,
                      &tb, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    for (int i = 0; i < n; i++)
        gvb_emit_sample(w, gvb_batch_scaling_ratio(bmax / tb[i], bmax, 1 / t1[i]));
    free(t1), free(tb);
    gvb_emit_extra(w, "batch_max", bmax);
    gvb_emit_text(w, "method",
                  "decode step of every layer at batch B (one token per sequence, KV length %d); "
                  "sample = tokens/s at B=%d / (%d x tokens/s at B=1) from back-to-back steps "
                  "in alternating order; curve: tokens_per_s_b<B>",
                  d.cfg.kv_len, bmax, bmax);
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_003 = {.run = llm_003, .deadline_s = 180};

/* ---- LLM-009 Dynamic Batching Impact -------------------------------------------------------- */

static int llm_009(gvb_worker *w)
{
    llm_ctx c;
    llm_dec d;
    if (llm_setup(w, &c, 1))
        return 1;
    int rc = 0, *seq = NULL;
    double *t = NULL, *per_token = NULL, *rel = NULL;
    if (dec_prepare(w, &c, &d, dec_cfg_from_env(w), 0, 2)) {
        rc = 1;
        goto out;
    }
    int bmax = d.cfg.bmax;
    /* every batch size equally often, in a seeded order; n a multiple of bmax */
    int n = (w->iterations + bmax - 1) / bmax * bmax;
    seq = malloc(sizeof *seq * (size_t)n);
    t = malloc(sizeof *t * (size_t)n);
    per_token = malloc(sizeof *per_token * (size_t)n);
    rel = malloc(sizeof *rel * (size_t)n);
    if (!seq || !t || !per_token || !rel) {
        rc = gvb_report_status(w, GVB_FAIL, "out of host memory");
        goto out;
    }
    gvb_rng rng;
    gvb_rng_seed(&rng, w->seed);
    gvb_balanced_sequence(seq, (size_t)n, 1, bmax, &rng);
    if (gvb_barrier(w) != 0) {
        rc = gvb_report_status(w, GVB_FAIL, "start barrier failed");
        goto out;
    }
    /* warm-up: every batch size once, so first-use costs (kernel choice, module load) are out */
    for (int b = 1; b <= bmax; b++) {
        step_arg s = {.d = &d, .batch = b};
        if (decode_body(&c, &s) || cudaStreamSynchronize(c.stream) != cudaSuccess) {
            rc = gvb_report_status(w, GVB_FAIL, "warm-up at batch %d: %s", b, c.err);
            goto out;
        }
    }
    double best_gbps = 0;
    for (int i = 0; i < n; i++) {
        step_arg s = {.d = &d, .batch = seq[i]};
        double t0 = gvb_now();
        if (decode_body(&c, &s) || cudaStreamSynchronize(c.stream) != cudaSuccess) {
            rc = gvb_report_status(w, GVB_FAIL, "batch %d: %s", seq[i], c.err);
            goto out;
        }
        t[i] = gvb_now() - t0;
        per_token[i] = t[i] / seq[i];
        double bytes = d.cfg.layers * gvb_decoder_step_bytes(seq[i], d.cfg.hidden, d.cfg.ffn,
                                                             d.cfg.kv_len, 2);
        best_gbps = fmax(best_gbps, bytes / t[i] / 1e9);
        gvb_emit_series(w, "ms_per_token", per_token[i] * 1e3);
        gvb_emit_series(w, "step_ms", t[i] * 1e3);
        gvb_emit_series(w, "batch", seq[i]);
    }
    /* extra: the same variation with each step divided by the median step of its batch size,
     * which removes the part the workload itself causes */
    double *same = malloc(sizeof *same * (size_t)n);
    for (int b = 1; same && b <= bmax; b++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (seq[i] == b)
                same[k++] = t[i];
        double m = llm_median(same, k);
        for (int i = 0; i < n; i++)
            if (seq[i] == b)
                rel[i] = t[i] / m;
    }
    free(same);
    double cv = gvb_cv(per_token, (size_t)n);
    gvb_emit_value(w, cv);
    gvb_emit_extra(w, "cv_vs_same_batch_median", gvb_cv(rel, (size_t)n));
    gvb_emit_extra(w, "batch_max", bmax);
    gvb_emit_extra(w, "steps", n);
    gvb_emit_text(w, "method",
                  "%d decode steps, batch size uniform over 1..%d (each equally often, seeded "
                  "order); value = CV of step time / batch size (ms per token)",
                  n, bmax);
    gvb_emit_extra(w, "best_step_min_GBps", best_gbps);
    rc = llm_check_peak(&c, "best_step_min_GBps", best_gbps, c.peak.mem_gbps, "GB/s");
out:
    free(seq), free(t), free(per_token), free(rel);
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_009 = {.run = llm_009, .deadline_s = 180};
