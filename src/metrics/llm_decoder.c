/* A synthetic transformer decoder stack (7B-like layer shape, bf16, KV cache) and the metrics
 * built on it: batch-size scaling (LLM-003), per-token decode latency and time to first token
 * (LLM-004), and decode-latency variation under dynamic batching (LLM-009).
 *
 * A layer (pre-norm, as in LLaMA; no RoPE, unit-gain RMSNorm, no embedding or LM head):
 *   h = rmsnorm(x); qkv = h Wqkv^T; append k, v to the cache; a = attention(q, cache);
 *   x += a Wo^T; h = rmsnorm(x); gu = h Wgu^T; m = silu(g) * u; x += m Wd^T.
 * GEMMs are cuBLAS bf16 with fp32 accumulation; rmsnorm, the cache append, decode attention
 * and silu*mul are our kernels (src/kernels/llm.cu); prefill attention is QK^T and PV through
 * cuBLAS with our causal softmax. Sizes: docs/metrics/llm.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "metrics/llm_common.h"
#include "stats/llm_formulas.h"
#include "stats/stats.h"

#define DEC_MAX_LAYERS 64
#define RMS_EPS 1e-5f
#define BF16_TOL 1e-2  /* one bf16 rounding of the output: 2^-9 relative, with margin */
#define ATTN_TOL 2e-2

typedef struct dec_cfg {
    int hidden, heads, head_dim, ffn, layers, kv_len, bmax, prefill;
} dec_cfg;

typedef struct dec {
    dec_cfg cfg;
    int cap;  /* cache positions per sequence */
    int rows; /* activation rows: max(bmax, prefill) */
    void *wqkv[DEC_MAX_LAYERS], *wo[DEC_MAX_LAYERS], *wgu[DEC_MAX_LAYERS], *wd[DEC_MAX_LAYERS];
    void *kc[DEC_MAX_LAYERS], *vc[DEC_MAX_LAYERS];
    void *x0, *x, *h, *qkv, *attn, *gu, *act, *scores; /* bf16 */
    float scale;
    size_t bytes;
    float *check_before; /* x before a residual GEMM (rows x hidden), while checking */
    double check_worst;  /* largest relative error seen by the checks */
} dec;

static size_t dec_bytes(const dec_cfg *g, int with_prefill)
{
    size_t h = (size_t)g->hidden, f = (size_t)g->ffn, e = 2;
    size_t cap = (size_t)(with_prefill && g->prefill > g->kv_len ? g->prefill : g->kv_len);
    size_t rows = (size_t)(with_prefill && g->prefill > g->bmax ? g->prefill : g->bmax);
    size_t weights = (size_t)gvb_decoder_layer_params((double)h, (double)f) * e;
    size_t cache = 2 * (size_t)g->bmax * g->heads * cap * g->head_dim * e;
    size_t acts = rows * (3 * h + 3 * h + 3 * f + f) * e;
    size_t scores = with_prefill ? (size_t)g->heads * g->prefill * g->prefill * e : 0;
    return (size_t)g->layers * (weights + cache) + acts + scores + (64u << 20) /* cuBLAS */;
}

static dec_cfg dec_cfg_from_env(const gvb_worker *w)
{
    dec_cfg g = {
        .hidden = llm_env_int("GVB_LLM_HIDDEN", 4096, 64, 65536),
        .heads = llm_env_int("GVB_LLM_HEADS", 32, 1, 1024),
        .ffn = llm_env_int("GVB_LLM_FFN", 11008, 64, 262144),
        .layers = llm_env_int("GVB_LLM_LAYERS", 4, 1, DEC_MAX_LAYERS),
        .kv_len = llm_env_int("GVB_LLM_KV_LEN", 512, 1, 65536),
        .bmax = llm_env_int("GVB_LLM_BMAX", w->quick ? 8 : 32, 1, 1024),
        .prefill = llm_env_int("GVB_LLM_PREFILL", 512, 1, 16384),
    };
    g.head_dim = g.hidden / g.heads;
    return g;
}

/* Allocates and fills the stack; fewer layers, then a smaller batch, if the budget demands.
 * Returns 0, 1 (c->err) on failure, 2 when even one layer at batch 1 does not fit. */
static int dec_setup(llm_ctx *c, dec *d, dec_cfg g, int with_prefill, char *adapted, size_t alen)
{
    memset(d, 0, sizeof *d);
    adapted[0] = '\0';
    if (g.hidden % g.heads || g.head_dim % 2) {
        snprintf(c->err, sizeof c->err, "hidden %d is not a multiple of 2 x heads %d", g.hidden,
                 g.heads);
        return 1;
    }
    dec_cfg want = g;
    size_t limit = c->budget_b / 20 * 19;
    while (dec_bytes(&g, with_prefill) > limit && (g.layers > 1 || g.bmax > 1)) {
        if (g.layers > 1)
            g.layers--;
        else
            g.bmax /= 2;
    }
    if (dec_bytes(&g, with_prefill) > limit) {
        snprintf(c->err, sizeof c->err, "one layer needs %zu MiB; budget %zu MiB",
                 dec_bytes(&g, with_prefill) >> 20, c->budget_b >> 20);
        return 2;
    }
    if (g.layers != want.layers || g.bmax != want.bmax)
        snprintf(adapted, alen, "layers %d -> %d, max batch %d -> %d to fit the %zu MiB budget",
                 want.layers, g.layers, want.bmax, g.bmax, c->budget_b >> 20);
    d->cfg = g;
    d->cap = with_prefill && g.prefill > g.kv_len ? g.prefill : g.kv_len;
    d->rows = with_prefill && g.prefill > g.bmax ? g.prefill : g.bmax;
    d->scale = 1.0f / sqrtf((float)g.head_dim);
    d->bytes = dec_bytes(&g, with_prefill);
    size_t h = (size_t)g.hidden, f = (size_t)g.ffn, r = (size_t)d->rows;
    size_t cache = (size_t)g.bmax * g.heads * d->cap * g.head_dim * 2;
    uint64_t seed = c->w->seed;
    for (int l = 0; l < g.layers; l++) {
        /* weights uniform in +-sqrt(3 / fan_in): unit variance outputs from unit inputs */
        LLM_CUDA(c, llm_alloc(c, &d->wqkv[l], 3 * h * h * 2));
        LLM_CUDA(c, llm_alloc(c, &d->wo[l], h * h * 2));
        LLM_CUDA(c, llm_alloc(c, &d->wgu[l], 2 * f * h * 2));
        LLM_CUDA(c, llm_alloc(c, &d->wd[l], h * f * 2));
        LLM_CUDA(c, llm_alloc(c, &d->kc[l], cache));
        LLM_CUDA(c, llm_alloc(c, &d->vc[l], cache));
        float sh = sqrtf(3.0f / (float)h), sf = sqrtf(3.0f / (float)f);
        uint64_t s = seed + 16 * (uint64_t)l;
        LLM_CUDA(c, gvb_llm_fill_random(d->wqkv[l], GVB_DT_BF16, 3 * h * h, s + 1, sh, c->stream));
        LLM_CUDA(c, gvb_llm_fill_random(d->wo[l], GVB_DT_BF16, h * h, s + 2, sh, c->stream));
        LLM_CUDA(c, gvb_llm_fill_random(d->wgu[l], GVB_DT_BF16, 2 * f * h, s + 3, sh, c->stream));
        LLM_CUDA(c, gvb_llm_fill_random(d->wd[l], GVB_DT_BF16, h * f, s + 4, sf, c->stream));
        /* cached keys and values of earlier tokens: random, the size of real ones */
        LLM_CUDA(c, gvb_llm_fill_random(d->kc[l], GVB_DT_BF16, cache / 2, s + 5, 2.0f, c->stream));
        LLM_CUDA(c, gvb_llm_fill_random(d->vc[l], GVB_DT_BF16, cache / 2, s + 6, 1.0f, c->stream));
    }
    LLM_CUDA(c, llm_alloc(c, &d->x0, r * h * 2));
    LLM_CUDA(c, llm_alloc(c, &d->x, r * h * 2));
    LLM_CUDA(c, llm_alloc(c, &d->h, r * h * 2));
    LLM_CUDA(c, llm_alloc(c, &d->qkv, r * 3 * h * 2));
    LLM_CUDA(c, llm_alloc(c, &d->attn, r * h * 2));
    LLM_CUDA(c, llm_alloc(c, &d->gu, r * 2 * f * 2));
    LLM_CUDA(c, llm_alloc(c, &d->act, r * f * 2));
    if (with_prefill)
        LLM_CUDA(c, llm_alloc(c, &d->scores, (size_t)g.heads * g.prefill * g.prefill * 2));
    LLM_CUDA(c, gvb_llm_fill_random(d->x0, GVB_DT_BF16, r * h, seed + 7, 1.7f, c->stream));
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    return 0;
}

/* ---- one layer, with an optional checker between the operations ------------------------- */

typedef enum { OP_NORM1, OP_QKV, OP_ATTN, OP_OPROJ, OP_NORM2, OP_GU, OP_ACT, OP_DOWN } dec_op;

/* Called before (after = 0) and after (after = 1) each operation of layer 0 when checking. */
typedef int (*dec_hook)(llm_ctx *c, dec *d, dec_op op, int after, int rows, int prefill);

#define STEP(op, call)                                                                         \
    do {                                                                                       \
        if (hook && hook(c, d, op, 0, rows, prefill))                                          \
            return 1;                                                                          \
        call;                                                                                  \
        if (hook && hook(c, d, op, 1, rows, prefill))                                          \
            return 1;                                                                          \
    } while (0)

/* Decode (prefill = 0): rows = batch, one new token per sequence at position kv_len - 1,
 * attention over kv_len cached tokens. Prefill: rows = prompt tokens of one sequence, cached
 * at positions 0.., causal attention through cuBLAS + our softmax. */
static int dec_layer(llm_ctx *c, dec *d, int l, int rows, int prefill, dec_hook hook)
{
    const dec_cfg *g = &d->cfg;
    long long H = g->hidden, F = g->ffn, HD = g->head_dim, P = rows;
    gvb_blas *b = &c->blas;
    char *qkv = d->qkv;
    STEP(OP_NORM1, LLM_CUDA(c, gvb_llm_rmsnorm(d->x, d->h, rows, g->hidden, RMS_EPS, c->stream)));
    STEP(OP_QKV, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, 3 * g->hidden, g->hidden, d->h, H,
                                      0, d->wqkv[l], H, 0, d->qkv, 3 * H, 0, 1, 0.0f)));
    if (!prefill) {
        STEP(OP_ATTN, {
            LLM_CUDA(c, gvb_llm_kv_append(d->qkv, 3 * g->hidden, rows, 1, g->heads, g->head_dim,
                                          d->kc[l], d->vc[l], d->cap, g->kv_len - 1, c->stream));
            LLM_CUDA(c, gvb_llm_decode_attention(d->qkv, 3 * g->hidden, d->kc[l], d->vc[l],
                                                 d->attn, rows, g->heads, g->head_dim, g->kv_len,
                                                 d->cap, d->scale, c->stream));
        });
    } else {
        STEP(OP_ATTN, {
            LLM_CUDA(c, gvb_llm_kv_append(d->qkv, 3 * g->hidden, 1, rows, g->heads, g->head_dim,
                                          d->kc[l], d->vc[l], d->cap, 0, c->stream));
            /* per head: S = Q K^T over the prompt, causal softmax, A = P V */
            LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, rows, g->head_dim, qkv, 3 * H, HD,
                                 qkv + 2 * H, 3 * H, HD, d->scores, P, P * P, g->heads, 0.0f));
            LLM_CUDA(c, gvb_llm_softmax_rows(d->scores, g->heads * rows, rows, rows, d->scale, 1,
                                             c->stream));
            LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 0, rows, g->head_dim, rows, d->scores, P, P * P,
                                 qkv + 4 * H, 3 * H, HD, d->attn, H, HD, g->heads, 0.0f));
        });
    }
    STEP(OP_OPROJ, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, g->hidden, g->hidden, d->attn,
                                        H, 0, d->wo[l], H, 0, d->x, H, 0, 1, 1.0f)));
    STEP(OP_NORM2, LLM_CUDA(c, gvb_llm_rmsnorm(d->x, d->h, rows, g->hidden, RMS_EPS, c->stream)));
    STEP(OP_GU, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, 2 * g->ffn, g->hidden, d->h, H, 0,
                                     d->wgu[l], H, 0, d->gu, 2 * F, 0, 1, 0.0f)));
    STEP(OP_ACT, LLM_CUDA(c, gvb_llm_silu_mul(d->gu, d->act, rows, g->ffn, 2 * g->ffn, c->stream)));
    STEP(OP_DOWN, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, g->hidden, g->ffn, d->act, F, 0,
                                       d->wd[l], F, 0, d->x, H, 0, 1, 1.0f)));
    return 0;
}

/* A forward pass through every layer from the same input rows (a fixed prompt / tokens). */
static int dec_forward(llm_ctx *c, dec *d, int rows, int prefill, dec_hook hook)
{
    LLM_CUDA(c, cudaMemcpyAsync(d->x, d->x0, (size_t)rows * d->cfg.hidden * 2,
                                cudaMemcpyDeviceToDevice, c->stream));
    for (int l = 0; l < d->cfg.layers; l++)
        if (dec_layer(c, d, l, rows, prefill, l == 0 ? hook : NULL))
            return 1;
    return 0;
}

typedef struct step_arg {
    dec *d;
    int batch;
} step_arg;

static int decode_body(llm_ctx *c, void *arg)
{
    step_arg *s = arg;
    return dec_forward(c, s->d, s->batch, 0, NULL);
}

static int prefill_body(llm_ctx *c, void *arg)
{
    dec *d = arg;
    return dec_forward(c, d, d->cfg.prefill, 1, NULL);
}

/* ---- checks of layer 0 against double-precision references ------------------------------ */

static int check_result(llm_ctx *c, dec *d, const char *what, double err, double tol)
{
    if (err > d->check_worst || isnan(err))
        d->check_worst = err;
    if (!(err <= tol)) {
        snprintf(c->err, sizeof c->err, "%s differs from the reference: relative error %.3g > %.3g",
                 what, err, tol);
        return 1;
    }
    return 0;
}

static int check_rmsnorm(llm_ctx *c, dec *d, int rows)
{
    int H = d->cfg.hidden, rr[2] = {0, rows - 1};
    float *x = malloc(sizeof *x * (size_t)H), *y = malloc(sizeof *y * (size_t)H);
    double *out = malloc(sizeof *out * (size_t)H * 2), *ref = malloc(sizeof *ref * (size_t)H * 2);
    int rc = !x || !y || !out || !ref;
    for (int k = 0; k < 2 && !rc; k++) {
        rc = llm_fetch_f32(c, (char *)d->x + (size_t)rr[k] * H * 2, GVB_DT_BF16, H, 1, H, x) ||
             llm_fetch_f32(c, (char *)d->h + (size_t)rr[k] * H * 2, GVB_DT_BF16, H, 1, H, y);
        double ss = 0;
        for (int j = 0; j < H && !rc; j++)
            ss += (double)x[j] * x[j];
        double r = 1.0 / sqrt(ss / H + RMS_EPS);
        for (int j = 0; j < H && !rc; j++)
            out[k * H + j] = y[j], ref[k * H + j] = x[j] * r;
    }
    if (!rc)
        rc = check_result(c, d, "rmsnorm", gvb_rel_l2_error(out, ref, (size_t)H * 2), BF16_TOL);
    free(x), free(y), free(out), free(ref);
    return rc;
}

static int check_silu(llm_ctx *c, dec *d, int rows)
{
    int F = d->cfg.ffn;
    float *gu = malloc(sizeof *gu * (size_t)F * 2), *a = malloc(sizeof *a * (size_t)F);
    double *out = malloc(sizeof *out * (size_t)F), *ref = malloc(sizeof *ref * (size_t)F);
    int row = rows - 1;
    int rc = !gu || !a || !out || !ref ||
             llm_fetch_f32(c, (char *)d->gu + (size_t)row * 2 * F * 2, GVB_DT_BF16, 2 * F, 1, 2 * F, gu) ||
             llm_fetch_f32(c, (char *)d->act + (size_t)row * F * 2, GVB_DT_BF16, F, 1, F, a);
    for (int j = 0; j < F && !rc; j++) {
        double g = gu[j], u = gu[F + j];
        out[j] = a[j];
        ref[j] = g / (1.0 + exp(-g)) * u;
    }
    if (!rc)
        rc = check_result(c, d, "silu(g) * u", gvb_rel_l2_error(out, ref, (size_t)F), BF16_TOL);
    free(gu), free(a), free(out), free(ref);
    return rc;
}

/* Attention rows of the first and last (row, head) pairs. Decode: query = row's q, keys =
 * the row's cache (kv_len positions), and the appended position must equal the row's k, v.
 * Prefill: query i sees prompt keys 0..i (rows of qkv). */
static int check_attention(llm_ctx *c, dec *d, int rows, int prefill)
{
    const dec_cfg *g = &d->cfg;
    int HD = g->head_dim, H = g->hidden, nk = prefill ? rows : g->kv_len;
    float *q = malloc(sizeof *q * (size_t)HD), *o = malloc(sizeof *o * (size_t)HD);
    float *k = malloc(sizeof *k * (size_t)nk * HD), *v = malloc(sizeof *v * (size_t)nk * HD);
    float *kn = malloc(sizeof *kn * (size_t)HD), *vn = malloc(sizeof *vn * (size_t)HD);
    double *out = malloc(sizeof *out * (size_t)HD * 6), *ref = malloc(sizeof *ref * (size_t)HD * 6);
    int rc = !q || !o || !k || !v || !kn || !vn || !out || !ref;
    if (rc)
        snprintf(c->err, sizeof c->err, "attention check: out of host memory");
    const int heads[2] = {0, g->heads - 1};
    int qrows[3] = {0, rows / 2, rows - 1}, nq = prefill ? 3 : 2;
    if (!prefill)
        qrows[1] = rows - 1;
    int n = 0;
    for (int hi = 0; hi < 2 && !rc; hi++) {
        int hh = heads[hi];
        for (int qi = 0; qi < nq && !rc; qi++, n += HD) {
            int r = qrows[qi], keys = prefill ? r + 1 : nk;
            const char *row = (const char *)d->qkv + (size_t)r * 3 * H * 2;
            rc = llm_fetch_f32(c, row + (size_t)hh * HD * 2, GVB_DT_BF16, HD, 1, HD, q) ||
                 llm_fetch_f32(c, (char *)d->attn + ((size_t)r * H + (size_t)hh * HD) * 2,
                               GVB_DT_BF16, HD, 1, HD, o);
            if (rc)
                break;
            if (prefill) {
                const char *kq = (const char *)d->qkv + ((size_t)H + (size_t)hh * HD) * 2;
                rc = llm_fetch_f32(c, kq, GVB_DT_BF16, 3 * H, keys, HD, k) ||
                     llm_fetch_f32(c, kq + (size_t)H * 2, GVB_DT_BF16, 3 * H, keys, HD, v);
            } else {
                size_t base = ((size_t)r * g->heads + hh) * d->cap * HD * 2;
                rc = llm_fetch_f32(c, (char *)d->kc[0] + base, GVB_DT_BF16, HD, keys, HD, k) ||
                     llm_fetch_f32(c, (char *)d->vc[0] + base, GVB_DT_BF16, HD, keys, HD, v) ||
                     llm_fetch_f32(c, row + ((size_t)H + (size_t)hh * HD) * 2, GVB_DT_BF16, HD, 1, HD, kn) ||
                     llm_fetch_f32(c, row + ((size_t)2 * H + (size_t)hh * HD) * 2, GVB_DT_BF16, HD, 1, HD, vn);
                if (!rc && (memcmp(kn, k + (size_t)(keys - 1) * HD, sizeof *kn * HD) ||
                            memcmp(vn, v + (size_t)(keys - 1) * HD, sizeof *vn * HD))) {
                    snprintf(c->err, sizeof c->err,
                             "KV-cache append: position %d of row %d head %d is not the new k, v",
                             keys - 1, r, hh);
                    rc = 1;
                }
            }
            if (rc)
                break;
            gvb_attention_row_ref(q, k, v, (size_t)HD, keys, HD, d->scale, ref + n);
            for (int j = 0; j < HD; j++)
                out[n + j] = o[j];
        }
    }
    if (!rc)
        rc = check_result(c, d, prefill ? "prefill attention" : "decode attention",
                          gvb_rel_l2_error(out, ref, (size_t)n), ATTN_TOL);
    free(q), free(o), free(k), free(v), free(kn), free(vn), free(out), free(ref);
    return rc;
}

static int check_gemm_op(llm_ctx *c, dec *d, const char *what, int rows, int n, int k, const void *x,
                         const void *w, const void *y, const float *before)
{
    double err = 0;
    if (llm_check_gemm(c, GVB_DT_BF16, GVB_DT_BF16, rows, n, k, x, k, w, k, y, n, before, 16,
                       c->w->seed, &err))
        return 1;
    return check_result(c, d, what, err, BF16_TOL);
}

static int check_hook(llm_ctx *c, dec *d, dec_op op, int after, int rows, int prefill)
{
    const dec_cfg *g = &d->cfg;
    int H = g->hidden, F = g->ffn;
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    if (!after) {
        if (op == OP_OPROJ || op == OP_DOWN) /* residual GEMMs: remember x */
            return llm_fetch_f32(c, d->x, GVB_DT_BF16, H, rows, H, d->check_before);
        return 0;
    }
    switch (op) {
    case OP_NORM1: return check_rmsnorm(c, d, rows);
    case OP_QKV: return check_gemm_op(c, d, "QKV GEMM", rows, 3 * H, H, d->h, d->wqkv[0], d->qkv, NULL);
    case OP_ATTN: return check_attention(c, d, rows, prefill);
    case OP_OPROJ:
        return check_gemm_op(c, d, "output projection", rows, H, H, d->attn, d->wo[0], d->x,
                             d->check_before);
    case OP_NORM2: return 0; /* the same kernel as OP_NORM1 */
    case OP_GU: return check_gemm_op(c, d, "gate/up GEMM", rows, 2 * F, H, d->h, d->wgu[0], d->gu, NULL);
    case OP_ACT: return check_silu(c, d, rows);
    case OP_DOWN:
        return check_gemm_op(c, d, "down projection", rows, H, F, d->act, d->wd[0], d->x,
                             d->check_before);
    }
    return 0;
}

/* Checks layer 0 of a decode step at `batch` (and of the prefill when with_prefill), then
 * emits the worst relative error. Returns 0, or 1 with c->err. */
static int dec_check(llm_ctx *c, dec *d, int batch, int with_prefill)
{
    int rows = with_prefill && d->cfg.prefill > batch ? d->cfg.prefill : batch;
    d->check_before = malloc(sizeof(float) * (size_t)rows * d->cfg.hidden);
    d->check_worst = 0;
    if (!d->check_before) {
        snprintf(c->err, sizeof c->err, "out of host memory");
        return 1;
    }
    int rc = dec_forward(c, d, batch, 0, check_hook) ||
             (with_prefill && dec_forward(c, d, d->cfg.prefill, 1, check_hook));
    free(d->check_before);
    d->check_before = NULL;
    if (!rc)
        gvb_emit_extra(c->w, "check_rel_error_worst", d->check_worst);
    return rc;
}

/* ---- shared metric scaffolding --------------------------------------------------------- */

static void dec_describe(gvb_worker *w, const dec *d, const char *adapted)
{
    const dec_cfg *g = &d->cfg;
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
static int dec_prepare(gvb_worker *w, llm_ctx *c, dec *d, dec_cfg g, int with_prefill,
                       int check_batch)
{
    char adapted[200];
    int rc = dec_setup(c, d, g, with_prefill, adapted, sizeof adapted);
    if (rc == 2)
        return gvb_report_status(w, GVB_SKIP, "%s", c->err);
    if (rc)
        return gvb_report_status(w, GVB_FAIL, "%s", c->err);
    if (check_batch > d->cfg.bmax)
        check_batch = d->cfg.bmax;
    if (dec_check(c, d, check_batch, with_prefill))
        return gvb_report_status(w, GVB_FAIL, "%s", c->err);
    dec_describe(w, d, adapted);
    return 0;
}

/* Decode-step throughputs of one step time against the device's peaks: bytes (weights + KV
 * read once, a lower bound on DRAM traffic) and FLOPs. */
static int dec_check_step_peak(llm_ctx *c, const dec *d, int batch, double secs, const char *tag)
{
    const dec_cfg *g = &d->cfg;
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
    dec d;
    if (llm_setup(w, &c, 1))
        return 1;
    int rc = 0;
    dec_cfg g = dec_cfg_from_env(w);
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
    dec d;
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
    dec d;
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
