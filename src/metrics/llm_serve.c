/* `gpu-virt-bench serve`: the built-in LLM serving workload on this process's GPU (device 0).
 * The decoder stack of the LLM metrics (llm_stack.h) with a cache slot per sequence serves a
 * seeded stream of requests by continuous batching (core/serve.h keeps the books): each step
 * admits waiting requests into free slots and prefills their prompts (the prefill yields a
 * request's first token), then runs one decode step over every active sequence at its own
 * KV length; a finished sequence frees its slot at once. Host clocks after a stream
 * synchronize time each prefill and decode step. Before that, the arithmetic is checked once
 * on a small stack; after it, the FLOP and byte rates are held against the device's peaks.
 * Method and output: docs/workload.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/serve.h"
#include "core/worker.h"
#include "metrics/llm_stack.h"
#include "stats/llm_formulas.h"

_Static_assert(GVB_SERVE_MAX_LAYERS == LLM_DEC_MAX_LAYERS, "serve's --layers bound is the stack's");

typedef struct serve_run {
    llm_ctx c;
    llm_dec d;
    gvb_serve_req *req;
    gvb_serve_sched s;
    int slot[GVB_SERVE_MAX_BATCH], len[GVB_SERVE_MAX_BATCH], row_req[GVB_SERVE_MAX_BATCH];
    double flops;         /* every prefill and decode step */
    double best_tflops;   /* the fastest step's */
    double best_min_gbps; /* the fastest decode step's bytes (weights + KV read once) */
} serve_run;

static gvb_serve_status fail(char *err, size_t errlen, gvb_serve_status st, const char *what,
                             const char *why)
{
    snprintf(err, errlen, "%s: %s", what, why);
    return st;
}

/* ---- the check: once, on a small stack ---------------------------------------------------- */

/* Three prompts of different lengths (24: the softmax's vector path; 5, 33: its other one)
 * into slots out of order, then a decode step of the three at their own lengths and one
 * without the sequence of slot 2: layer 0, the input load and the final store of each
 * against double-precision references (llm_dec_check). */
static gvb_serve_status serve_check(const gvb_serve_opts *o, gvb_serve_result *r, char *err,
                                    size_t errlen)
{
    static const int slot1[3] = {2, 0, 3}, len1[3] = {6, 25, 34};
    static const int slot2[2] = {0, 3}, len2[2] = {26, 35};
    const llm_dec_step steps[] = {
        {.rows = 5, .prefill = 1, .fill_slot = 2},
        {.rows = 24, .prefill = 1, .fill_slot = 0},
        {.rows = 33, .prefill = 1, .fill_slot = 3},
        {.rows = 3, .seq_slot = slot1, .seq_len = len1, .max_len = 34},
        {.rows = 2, .seq_slot = slot2, .seq_len = len2, .max_len = 35},
    };
    llm_dec_cfg g = {.hidden = 256, .heads = 4, .ffn = 512, .layers = 2, .kv_len = 64,
                     .bmax = 4, .prefill = 40, .seed = o->seed};
    static llm_ctx c;
    static llm_dec d;
    char adapted[200];
    gvb_serve_status st = GVB_SERVE_OK;
    if (llm_open(&c, 1, 0, 0) != 0 ||
        llm_dec_setup(&c, &d, g, LLM_DEC_PREFILL | LLM_DEC_SLOTS, adapted, sizeof adapted) != 0)
        st = fail(err, errlen, GVB_SERVE_ERROR, "the reference check's setup", c.err);
    else if (llm_dec_check(&c, &d, steps, (int)(sizeof steps / sizeof *steps)) != 0)
        st = fail(err, errlen, GVB_SERVE_UNTRUSTED, "the arithmetic check failed", c.err);
    else
        snprintf(r->check, sizeof r->check,
                 "layer 0, input load and final store of 3 prefills (5, 24, 33 tokens into "
                 "slots 2, 0, 3) and 2 decode steps at per-sequence lengths (6, 25, 34; 26, 35) "
                 "of a 2-layer hidden-256 stack against double-precision references: worst "
                 "relative error %.2g",
                 d.check_worst);
    llm_teardown(&c);
    return st;
}

/* ---- the run ------------------------------------------------------------------------------ */

static int prefill(serve_run *s, int i)
{
    const gvb_serve_req *q = &s->req[i];
    const llm_dec_cfg *g = &s->d.cfg;
    llm_dec_step st = {.rows = q->prompt, .prefill = 1, .fill_slot = q->slot};
    double t0 = gvb_now();
    if (llm_dec_forward(&s->c, &s->d, &st, NULL))
        return 1;
    LLM_CUDA(&s->c, cudaStreamSynchronize(s->c.stream));
    double t = gvb_now();
    gvb_serve_prefilled(&s->s, i, t);
    double f = g->layers * gvb_prefill_layer_flops(q->prompt, g->hidden, g->ffn);
    s->flops += f;
    s->best_tflops = fmax(s->best_tflops, f / (t - t0) / 1e12);
    return 0;
}

/* One decode step over the active sequences; *rows gets their count (0: none). */
static int decode(serve_run *s, int *rows)
{
    const llm_dec_cfg *g = &s->d.cfg;
    int max_len;
    *rows = gvb_serve_batch(&s->s, s->slot, s->len, s->row_req, &max_len);
    if (*rows == 0)
        return 0;
    llm_dec_step st = {.rows = *rows, .seq_slot = s->slot, .seq_len = s->len, .max_len = max_len};
    double t0 = gvb_now();
    if (llm_dec_forward(&s->c, &s->d, &st, NULL))
        return 1;
    LLM_CUDA(&s->c, cudaStreamSynchronize(s->c.stream));
    double t = gvb_now();
    gvb_serve_decoded(&s->s, s->row_req, *rows, t);
    /* FLOPs and bytes are linear in each row's length: the mean length stands for all */
    double keys = 0;
    for (int r = 0; r < *rows; r++)
        keys += s->len[r];
    double f = g->layers * gvb_decoder_step_flops(*rows, g->hidden, g->ffn, keys / *rows);
    double b = g->layers * gvb_decoder_step_bytes(*rows, g->hidden, g->ffn, keys / *rows, 2);
    s->flops += f;
    s->best_tflops = fmax(s->best_tflops, f / (t - t0) / 1e12);
    s->best_min_gbps = fmax(s->best_min_gbps, b / (t - t0) / 1e9);
    return 0;
}

/* Untimed: a prefill of the longest prompt and decode steps of 1..max batch rows, so the modules'
 * loading and cuBLAS's first calls are not the first request's time to first token. */
static int warm_up(serve_run *s, const gvb_serve_opts *o)
{
    int bmax = s->d.cfg.bmax;
    for (int r = 0; r < bmax; r++)
        s->slot[r] = r, s->len[r] = 1;
    llm_dec_step pre = {.rows = o->prompt_max, .prefill = 1};
    if (llm_dec_forward(&s->c, &s->d, &pre, NULL))
        return 1;
    /* a decode step at every batch size: cuBLAS picks (and CUDA loads lazily) a kernel per
     * row count, which would otherwise be paid inside a timed step (LLM-009 does the same) */
    for (int rows = 1; rows <= bmax; rows++) {
        llm_dec_step dec = {.rows = rows, .seq_slot = s->slot, .seq_len = s->len, .max_len = 1};
        if (llm_dec_forward(&s->c, &s->d, &dec, NULL))
            return 1;
    }
    LLM_CUDA(&s->c, cudaStreamSynchronize(s->c.stream));
    return 0;
}

/* Admits into every free slot and prefills, then one decode step, until all are done. */
static int serve_loop(serve_run *s)
{
    while (!gvb_serve_all_done(&s->s)) {
        double t = gvb_now();
        int first = s->s.next, admitted = 0, rows;
        while (gvb_serve_admit(&s->s, t) >= 0)
            admitted++;
        for (int i = first; i < first + admitted; i++)
            if (prefill(s, i))
                return 1;
        if (decode(s, &rows))
            return 1;
        if (!admitted && !rows && !gvb_serve_all_done(&s->s)) {
            snprintf(s->c.err, sizeof s->c.err, "the scheduler stalled with %d of %d requests "
                     "done (a bug)", s->s.done, s->s.n);
            return 1;
        }
    }
    return 0;
}

/* The model as the options ask, fewer layers (then a smaller batch) if the memory demands. */
static gvb_serve_status serve_setup(serve_run *s, const gvb_serve_opts *o, gvb_serve_result *r,
                                    char *err, size_t errlen)
{
    if (llm_open(&s->c, 1, 0, o->memory_mib << 20) != 0)
        return fail(err, errlen, GVB_SERVE_ERROR, "setup", s->c.err);
    llm_dec_cfg g = {.hidden = o->hidden, .heads = o->heads, .ffn = o->ffn, .layers = o->layers,
                     .kv_len = o->max_len, .bmax = o->max_batch, .prefill = o->prompt_max,
                     .seed = o->seed};
    if (s->c.tenant_b < s->c.total_b) /* --memory below the device's */
        snprintf(r->budget_from, sizeof r->budget_from, "--memory %llu MiB",
                 (unsigned long long)o->memory_mib);
    else
        snprintf(r->budget_from, sizeof r->budget_from, "the device's %zu MiB", s->c.total_b >> 20);
    r->budget_mib = (double)(s->c.budget_b >> 20);
    int rc = llm_dec_setup(&s->c, &s->d, g, LLM_DEC_PREFILL | LLM_DEC_SLOTS, r->adapted,
                           sizeof r->adapted);
    if (rc)
        return fail(err, errlen, GVB_SERVE_ERROR,
                    rc == 2 ? "the model does not fit the memory" : "setup", s->c.err);
    r->layers = s->d.cfg.layers;
    r->max_batch = s->d.cfg.bmax;
    r->model_mib = (double)(s->d.bytes >> 20);
    return GVB_SERVE_OK;
}

/* The rates against the device's peaks: above one is a measurement bug, not a result. */
static gvb_serve_status serve_peaks(serve_run *s, gvb_serve_result *r, char *err, size_t errlen)
{
    const gvb_peak *p = &s->c.peak;
    r->tflops = s->flops / r->sum.seconds / 1e12;
    r->best_tflops = s->best_tflops;
    r->peak_tflops = p->tflops[GVB_PREC_BF16];
    snprintf(r->peak_source, sizeof r->peak_source, "%s", p->source);
    if (llm_peak_error(&s->c, "tflops over the run", r->tflops, r->peak_tflops, "TFLOP/s") ||
        llm_peak_error(&s->c, "tflops of the fastest step", s->best_tflops, r->peak_tflops,
                       "TFLOP/s") ||
        llm_peak_error(&s->c, "bytes of the fastest decode step", s->best_min_gbps, p->mem_gbps,
                       "GB/s"))
        return fail(err, errlen, GVB_SERVE_UNTRUSTED, "rate check", s->c.err);
    return GVB_SERVE_OK;
}

gvb_serve_status gvb_serve_run(const gvb_serve_opts *o, gvb_serve_result *r, char *err,
                               size_t errlen)
{
    memset(r, 0, sizeof *r);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return fail(err, errlen, GVB_SERVE_NO_GPU, "no usable CUDA GPU: cudaGetDeviceCount",
                    cudaGetErrorString(e));
    if (count == 0)
        return fail(err, errlen, GVB_SERVE_NO_GPU, "no CUDA GPU found", "cudaGetDeviceCount is 0");
    gvb_serve_status st = GVB_SERVE_OK;
    if (!o->check)
        snprintf(r->check, sizeof r->check, "skipped (--no-check)");
    else if ((st = serve_check(o, r, err, errlen)) != GVB_SERVE_OK)
        return st;
    static serve_run s;
    memset(&s, 0, sizeof s);
    s.req = malloc(sizeof *s.req * (size_t)o->requests);
    if (!s.req)
        return fail(err, errlen, GVB_SERVE_ERROR, "requests", "out of host memory");
    st = serve_setup(&s, o, r, err, errlen);
    if (st == GVB_SERVE_OK && warm_up(&s, o) != 0)
        st = fail(err, errlen, GVB_SERVE_ERROR, "warm-up", s.c.err);
    if (st == GVB_SERVE_OK) {
        gvb_serve_requests(s.req, o->requests, o);
        gvb_serve_sched_init(&s.s, s.req, o->requests, s.d.cfg.bmax);
        double t0 = gvb_now();
        if (serve_loop(&s) != 0)
            st = fail(err, errlen, GVB_SERVE_ERROR, "serving", s.c.err);
        else if (gvb_serve_summarize(s.req, o->requests, gvb_now() - t0, &r->sum) != 0)
            st = fail(err, errlen, GVB_SERVE_ERROR, "summary", "a request without its times (a bug)");
        else
            st = serve_peaks(&s, r, err, errlen);
    }
    llm_teardown(&s.c);
    free(s.req);
    return st;
}
