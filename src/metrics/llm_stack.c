/* The decoder stack shared by the decoder metrics and `serve` (see llm_stack.h). */
#include "metrics/llm_stack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "stats/llm_formulas.h"
#include "stats/stats.h"

#define RMS_EPS 1e-5f
#define BF16_TOL 1e-2 /* one bf16 rounding of the output: 2^-9 relative, with margin */
#define ATTN_TOL 2e-2

/* Cache positions a sequence holds and rows of activations: a prefill's prompt may need more
 * than the decode's length and batch. */
static int dec_cap(const llm_dec_cfg *g, int flags)
{
    return (flags & LLM_DEC_PREFILL) && g->prefill > g->kv_len ? g->prefill : g->kv_len;
}
static int dec_rows(const llm_dec_cfg *g, int flags)
{
    return (flags & LLM_DEC_PREFILL) && g->prefill > g->bmax ? g->prefill : g->bmax;
}
/* One cache (K or V) of one layer, bytes (bf16). */
static size_t dec_cache_bytes(const llm_dec_cfg *g, int flags)
{
    return (size_t)g->bmax * g->heads * (size_t)dec_cap(g, flags) * g->head_dim * 2;
}

size_t llm_dec_bytes(const llm_dec_cfg *g, int flags)
{
    int pre = flags & LLM_DEC_PREFILL;
    size_t h = (size_t)g->hidden, f = (size_t)g->ffn, e = 2;
    size_t rows = (size_t)dec_rows(g, flags);
    size_t weights = (size_t)gvb_decoder_layer_params((double)h, (double)f) * e;
    size_t cache = 2 * dec_cache_bytes(g, flags);
    size_t acts = rows * (3 * h + 3 * h + 3 * f + f) * e;
    size_t scores = pre ? (size_t)g->heads * g->prefill * g->prefill * e : 0;
    size_t slots = flags & LLM_DEC_SLOTS ? (size_t)g->bmax * (h * e + 2 * sizeof(int)) : 0;
    return (size_t)g->layers * (weights + cache) + acts + scores + slots + (64u << 20) /* cuBLAS */;
}

int llm_dec_setup(llm_ctx *c, llm_dec *d, llm_dec_cfg g, int flags, char *adapted, size_t alen)
{
    memset(d, 0, sizeof *d);
    adapted[0] = '\0';
    if (g.heads < 1 || g.hidden % g.heads || (g.hidden / g.heads) % 2) {
        snprintf(c->err, sizeof c->err, "hidden %d is not a multiple of 2 x heads %d", g.hidden,
                 g.heads);
        return 1;
    }
    g.head_dim = g.hidden / g.heads;
    if (g.layers < 1 || g.layers > LLM_DEC_MAX_LAYERS) {
        snprintf(c->err, sizeof c->err, "layers %d: 1..%d", g.layers, LLM_DEC_MAX_LAYERS);
        return 1;
    }
    int pre = flags & LLM_DEC_PREFILL;
    llm_dec_cfg want = g;
    size_t limit = c->budget_b / 20 * 19;
    while (llm_dec_bytes(&g, flags) > limit && (g.layers > 1 || g.bmax > 1)) {
        if (g.layers > 1)
            g.layers--;
        else
            g.bmax /= 2;
    }
    if (llm_dec_bytes(&g, flags) > limit) {
        snprintf(c->err, sizeof c->err, "one layer needs %zu MiB; budget %zu MiB",
                 llm_dec_bytes(&g, flags) >> 20, c->budget_b >> 20);
        return 2;
    }
    if (g.layers != want.layers || g.bmax != want.bmax)
        snprintf(adapted, alen, "layers %d -> %d, max batch %d -> %d to fit the %zu MiB budget",
                 want.layers, g.layers, want.bmax, g.bmax, c->budget_b >> 20);
    d->cfg = g;
    d->flags = flags;
    d->cap = dec_cap(&g, flags);
    d->rows = dec_rows(&g, flags);
    d->scale = 1.0f / sqrtf((float)g.head_dim);
    d->bytes = llm_dec_bytes(&g, flags);
    size_t h = (size_t)g.hidden, f = (size_t)g.ffn, r = (size_t)d->rows;
    size_t cache = dec_cache_bytes(&g, flags);
    uint64_t seed = g.seed;
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
    if (pre)
        LLM_CUDA(c, llm_alloc(c, &d->scores, (size_t)g.heads * g.prefill * g.prefill * 2));
    LLM_CUDA(c, gvb_llm_fill_random(d->x0, GVB_DT_BF16, r * h, seed + 7, 1.7f, c->stream));
    if (flags & LLM_DEC_SLOTS) {
        size_t b = (size_t)g.bmax;
        LLM_CUDA(c, llm_alloc(c, &d->state, b * h * 2));
        LLM_CUDA(c, llm_alloc(c, (void **)&d->slot_dev, b * sizeof(int)));
        LLM_CUDA(c, llm_alloc(c, (void **)&d->len_dev, b * sizeof(int)));
        LLM_CUDA(c, gvb_llm_fill_random(d->state, GVB_DT_BF16, b * h, seed + 8, 1.0f, c->stream));
    }
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    return 0;
}

/* ---- one layer, with an optional checker between the operations ------------------------- */

#define STEP(op, call)                                                                         \
    do {                                                                                       \
        if (hook && hook(c, d, op, 0, st))                                                     \
            return 1;                                                                          \
        call;                                                                                  \
        if (hook && hook(c, d, op, 1, st))                                                     \
            return 1;                                                                          \
    } while (0)

static int dec_attention(llm_ctx *c, llm_dec *d, int l, const llm_dec_step *st)
{
    const llm_dec_cfg *g = &d->cfg;
    long long H = g->hidden, HD = g->head_dim, P = st->rows;
    int rows = st->rows;
    gvb_blas *b = &c->blas;
    char *qkv = d->qkv;
    if (!st->prefill) { /* serve's sequences each at its own slot and length, else all alike */
        const int *slot = st->seq_slot ? d->slot_dev : NULL;
        const int *len = st->seq_slot ? d->len_dev : NULL;
        LLM_CUDA(c, gvb_llm_kv_append(d->qkv, 3 * g->hidden, rows, 1, g->heads, g->head_dim,
                                      d->kc[l], d->vc[l], d->cap, g->kv_len - 1, slot, len,
                                      c->stream));
        LLM_CUDA(c, gvb_llm_decode_attention(d->qkv, 3 * g->hidden, d->kc[l], d->vc[l], d->attn,
                                             rows, g->heads, g->head_dim,
                                             st->seq_slot ? st->max_len : g->kv_len, d->cap,
                                             d->scale, slot, len, c->stream));
    } else {
        size_t slot = (size_t)st->fill_slot * g->heads * d->cap * g->head_dim * 2;
        LLM_CUDA(c, gvb_llm_kv_append(d->qkv, 3 * g->hidden, 1, rows, g->heads, g->head_dim,
                                      (char *)d->kc[l] + slot, (char *)d->vc[l] + slot, d->cap, 0,
                                      NULL, NULL, c->stream));
        /* per head: S = Q K^T over the prompt, causal softmax, A = P V */
        LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, rows, g->head_dim, qkv, 3 * H, HD,
                             qkv + 2 * H, 3 * H, HD, d->scores, P, P * P, g->heads, 0.0f));
        LLM_CUDA(c, gvb_llm_softmax_rows(d->scores, g->heads * rows, rows, rows, d->scale, 1,
                                         c->stream));
        LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 0, rows, g->head_dim, rows, d->scores, P, P * P,
                             qkv + 4 * H, 3 * H, HD, d->attn, H, HD, g->heads, 0.0f));
    }
    return 0;
}

static int dec_layer(llm_ctx *c, llm_dec *d, int l, const llm_dec_step *st, llm_dec_hook hook)
{
    const llm_dec_cfg *g = &d->cfg;
    long long H = g->hidden, F = g->ffn;
    int rows = st->rows;
    gvb_blas *b = &c->blas;
    STEP(LLM_OP_NORM1, LLM_CUDA(c, gvb_llm_rmsnorm(d->x, d->h, rows, g->hidden, RMS_EPS, c->stream)));
    STEP(LLM_OP_QKV, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, 3 * g->hidden, g->hidden, d->h,
                                          H, 0, d->wqkv[l], H, 0, d->qkv, 3 * H, 0, 1, 0.0f)));
    STEP(LLM_OP_ATTN, if (dec_attention(c, d, l, st)) return 1);
    STEP(LLM_OP_OPROJ, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, g->hidden, g->hidden,
                                            d->attn, H, 0, d->wo[l], H, 0, d->x, H, 0, 1, 1.0f)));
    STEP(LLM_OP_NORM2, LLM_CUDA(c, gvb_llm_rmsnorm(d->x, d->h, rows, g->hidden, RMS_EPS, c->stream)));
    STEP(LLM_OP_GU, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, 2 * g->ffn, g->hidden, d->h, H,
                                         0, d->wgu[l], H, 0, d->gu, 2 * F, 0, 1, 0.0f)));
    STEP(LLM_OP_ACT, LLM_CUDA(c, gvb_llm_silu_mul(d->gu, d->act, rows, g->ffn, 2 * g->ffn, c->stream)));
    STEP(LLM_OP_DOWN, LLM_BLAS(c, gvb_gemm(b, GVB_PREC_BF16, 1, rows, g->hidden, g->ffn, d->act, F,
                                           0, d->wd[l], F, 0, d->x, H, 0, 1, 1.0f)));
    return 0;
}

/* x: the prompt's embeddings or x0's rows (a fixed input), or each sequence's slot state */
static int dec_load(llm_ctx *c, llm_dec *d, const llm_dec_step *st)
{
    int H = d->cfg.hidden;
    if (st->prefill || !st->seq_slot) {
        LLM_CUDA(c, cudaMemcpyAsync(d->x, d->x0, (size_t)st->rows * H * 2,
                                    cudaMemcpyDeviceToDevice, c->stream));
        return 0;
    }
    size_t n = sizeof(int) * (size_t)st->rows;
    LLM_CUDA(c, cudaMemcpyAsync(d->slot_dev, st->seq_slot, n, cudaMemcpyHostToDevice, c->stream));
    LLM_CUDA(c, cudaMemcpyAsync(d->len_dev, st->seq_len, n, cudaMemcpyHostToDevice, c->stream));
    LLM_CUDA(c, gvb_llm_copy_rows(d->state, H, d->slot_dev, d->x, H, NULL, st->rows, H, c->stream));
    return 0;
}

/* the final norm of each sequence's last row: its next input */
static int dec_store(llm_ctx *c, llm_dec *d, const llm_dec_step *st)
{
    int H = d->cfg.hidden;
    if (st->prefill) {
        LLM_CUDA(c, gvb_llm_rmsnorm((char *)d->x + (size_t)(st->rows - 1) * H * 2,
                                    (char *)d->state + (size_t)st->fill_slot * H * 2, 1, H,
                                    RMS_EPS, c->stream));
        return 0;
    }
    LLM_CUDA(c, gvb_llm_rmsnorm(d->x, d->h, st->rows, H, RMS_EPS, c->stream));
    LLM_CUDA(c, gvb_llm_copy_rows(d->h, H, NULL, d->state, H, st->seq_slot ? d->slot_dev : NULL,
                                  st->rows, H, c->stream));
    return 0;
}

int llm_dec_forward(llm_ctx *c, llm_dec *d, const llm_dec_step *st, llm_dec_hook hook)
{
    int bad = st->rows < 1 || st->rows > (st->prefill ? d->cfg.prefill : d->cfg.bmax) ||
              (st->prefill && (!(d->flags & LLM_DEC_PREFILL) || st->fill_slot < 0 ||
                               st->fill_slot >= d->cfg.bmax)) ||
              (st->seq_slot && (!(d->flags & LLM_DEC_SLOTS) || st->max_len > d->cap));
    for (int r = 0; !bad && !st->prefill && st->seq_slot && r < st->rows; r++)
        bad = st->seq_slot[r] < 0 || st->seq_slot[r] >= d->cfg.bmax || st->seq_len[r] < 1 ||
              st->seq_len[r] > st->max_len;
    if (bad) {
        snprintf(c->err, sizeof c->err, "a %s step of %d rows does not fit the stack (a "
                 "scheduler bug)", st->prefill ? "prefill" : "decode", st->rows);
        return 1;
    }
    STEP(LLM_OP_LOAD, if (dec_load(c, d, st)) return 1);
    for (int l = 0; l < d->cfg.layers; l++)
        if (dec_layer(c, d, l, st, l == 0 ? hook : NULL))
            return 1;
    if (d->flags & LLM_DEC_SLOTS)
        STEP(LLM_OP_STORE, if (dec_store(c, d, st)) return 1);
    return 0;
}

/* ---- checks of layer 0 against double-precision references ------------------------------ */

static int check_result(llm_ctx *c, llm_dec *d, const char *what, double err, double tol)
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

static int out_of_memory(llm_ctx *c, const char *what)
{
    snprintf(c->err, sizeof c->err, "%s check: out of host memory", what);
    return 1;
}

/* out row orow[k] = rmsnorm(x row xrow[k]) for k < n (rows of hidden, bf16) */
static int check_norm_rows(llm_ctx *c, llm_dec *d, const char *what, int n, const int *xrow,
                           const void *out, const int *orow)
{
    int H = d->cfg.hidden;
    float *x = malloc(sizeof *x * (size_t)H), *y = malloc(sizeof *y * (size_t)H);
    double *o = malloc(sizeof *o * (size_t)H * n), *ref = malloc(sizeof *ref * (size_t)H * n);
    int rc = !x || !y || !o || !ref ? out_of_memory(c, what) : 0;
    for (int k = 0; k < n && !rc; k++) {
        rc = llm_fetch_f32(c, (char *)d->x + (size_t)xrow[k] * H * 2, GVB_DT_BF16, H, 1, H, x) ||
             llm_fetch_f32(c, (const char *)out + (size_t)orow[k] * H * 2, GVB_DT_BF16, H, 1, H, y);
        double ss = 0;
        for (int j = 0; j < H && !rc; j++)
            ss += (double)x[j] * x[j];
        double r = 1.0 / sqrt(ss / H + RMS_EPS);
        for (int j = 0; j < H && !rc; j++)
            o[k * H + j] = y[j], ref[k * H + j] = x[j] * r;
    }
    if (!rc)
        rc = check_result(c, d, what, gvb_rel_l2_error(o, ref, (size_t)H * n), BF16_TOL);
    free(x), free(y), free(o), free(ref);
    return rc;
}

static int check_silu(llm_ctx *c, llm_dec *d, int rows)
{
    int F = d->cfg.ffn;
    float *gu = malloc(sizeof *gu * (size_t)F * 2), *a = malloc(sizeof *a * (size_t)F);
    double *out = malloc(sizeof *out * (size_t)F), *ref = malloc(sizeof *ref * (size_t)F);
    int row = rows - 1;
    int rc = !gu || !a || !out || !ref ? out_of_memory(c, "silu") : 0;
    rc = rc || llm_fetch_f32(c, (char *)d->gu + (size_t)row * 2 * F * 2, GVB_DT_BF16, 2 * F, 1,
                             2 * F, gu) ||
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

/* Where row r's keys are: its cache slot and how many (a prefill's query r sees r + 1). */
static void row_keys(const llm_dec *d, const llm_dec_step *st, int r, int *slot, int *keys)
{
    *slot = st->prefill ? st->fill_slot : st->seq_slot ? st->seq_slot[r] : r;
    *keys = st->prefill ? r + 1 : st->seq_slot ? st->seq_len[r] : d->cfg.kv_len;
}

/* Attention rows of the first, middle and last rows at the first and last heads. Decode:
 * query = row's q, keys = its slot's cache (its length), and the appended position must equal
 * the row's k, v. Prefill: query i sees prompt keys 0..i (rows of qkv), and the slot's cache
 * position i must hold key and value i. */
static int check_attention(llm_ctx *c, llm_dec *d, const llm_dec_step *st)
{
    const llm_dec_cfg *g = &d->cfg;
    int HD = g->head_dim, H = g->hidden, rows = st->rows;
    int nk = st->prefill ? rows : st->seq_slot ? st->max_len : g->kv_len;
    float *q = malloc(sizeof *q * (size_t)HD), *o = malloc(sizeof *o * (size_t)HD);
    float *k = malloc(sizeof *k * (size_t)nk * HD), *v = malloc(sizeof *v * (size_t)nk * HD);
    float *kn = malloc(sizeof *kn * (size_t)HD), *vn = malloc(sizeof *vn * (size_t)HD);
    double *out = malloc(sizeof *out * (size_t)HD * 6), *ref = malloc(sizeof *ref * (size_t)HD * 6);
    int rc = !q || !o || !k || !v || !kn || !vn || !out || !ref ? out_of_memory(c, "attention") : 0;
    const int heads[2] = {0, g->heads - 1}, qrows[3] = {0, rows / 2, rows - 1};
    int n = 0;
    for (int hi = 0; hi < 2 && !rc; hi++) {
        int hh = heads[hi];
        for (int qi = 0; qi < 3 && !rc; qi++, n += HD) {
            int r = qrows[qi], slot, keys;
            row_keys(d, st, r, &slot, &keys);
            const char *row = (const char *)d->qkv + (size_t)r * 3 * H * 2;
            size_t base = ((size_t)slot * g->heads + hh) * d->cap * HD * 2;
            const char *kq = (const char *)d->qkv + ((size_t)H + (size_t)hh * HD) * 2;
            /* k, v: the keys attended to; kn, vn: the new token's, from the other side */
            rc = llm_fetch_f32(c, row + (size_t)hh * HD * 2, GVB_DT_BF16, HD, 1, HD, q) ||
                 llm_fetch_f32(c, (char *)d->attn + ((size_t)r * H + (size_t)hh * HD) * 2,
                               GVB_DT_BF16, HD, 1, HD, o);
            if (!rc && st->prefill)
                rc = llm_fetch_f32(c, kq, GVB_DT_BF16, 3 * H, keys, HD, k) ||
                     llm_fetch_f32(c, kq + (size_t)H * 2, GVB_DT_BF16, 3 * H, keys, HD, v) ||
                     llm_fetch_f32(c, (char *)d->kc[0] + base + (size_t)r * HD * 2, GVB_DT_BF16, HD, 1, HD, kn) ||
                     llm_fetch_f32(c, (char *)d->vc[0] + base + (size_t)r * HD * 2, GVB_DT_BF16, HD, 1, HD, vn);
            else if (!rc)
                rc = llm_fetch_f32(c, (char *)d->kc[0] + base, GVB_DT_BF16, HD, keys, HD, k) ||
                     llm_fetch_f32(c, (char *)d->vc[0] + base, GVB_DT_BF16, HD, keys, HD, v) ||
                     llm_fetch_f32(c, row + ((size_t)H + (size_t)hh * HD) * 2, GVB_DT_BF16, HD, 1, HD, kn) ||
                     llm_fetch_f32(c, row + ((size_t)2 * H + (size_t)hh * HD) * 2, GVB_DT_BF16, HD, 1, HD, vn);
            if (!rc && (memcmp(kn, k + (size_t)(keys - 1) * HD, sizeof *kn * HD) ||
                        memcmp(vn, v + (size_t)(keys - 1) * HD, sizeof *vn * HD))) {
                snprintf(c->err, sizeof c->err,
                         "KV-cache append: position %d of slot %d (row %d) head %d is not the "
                         "new k, v", keys - 1, slot, r, hh);
                rc = 1;
            }
            if (rc)
                break;
            gvb_attention_row_ref(q, k, v, (size_t)HD, keys, HD, d->scale, ref + n);
            for (int j = 0; j < HD; j++)
                out[n + j] = o[j];
        }
    }
    if (!rc)
        rc = check_result(c, d, st->prefill ? "prefill attention" : "decode attention",
                          gvb_rel_l2_error(out, ref, (size_t)n), ATTN_TOL);
    free(q), free(o), free(k), free(v), free(kn), free(vn), free(out), free(ref);
    return rc;
}

static int check_gemm_op(llm_ctx *c, llm_dec *d, const char *what, int rows, int n, int k,
                         const void *x, const void *w, const void *y, const float *before)
{
    double err = 0;
    if (llm_check_gemm(c, GVB_DT_BF16, GVB_DT_BF16, rows, n, k, x, k, w, k, y, n, before, 16,
                       d->cfg.seed, &err))
        return 1;
    return check_result(c, d, what, err, BF16_TOL);
}

/* The load copies whole rows: the first, middle and last must be their sources bit for bit. */
static int check_load(llm_ctx *c, llm_dec *d, const llm_dec_step *st)
{
    int H = d->cfg.hidden, rows = st->rows, pick[3] = {0, rows / 2, rows - 1};
    uint16_t *a = malloc(sizeof *a * (size_t)H), *b = malloc(sizeof *b * (size_t)H);
    int rc = !a || !b ? out_of_memory(c, "input load") : 0;
    for (int k = 0; k < 3 && !rc; k++) {
        int r = pick[k];
        const void *src = !st->prefill && st->seq_slot
                              ? (char *)d->state + (size_t)st->seq_slot[r] * H * 2
                              : (char *)d->x0 + (size_t)r * H * 2;
        LLM_CUDA(c, cudaMemcpy(a, (char *)d->x + (size_t)r * H * 2, (size_t)H * 2,
                               cudaMemcpyDeviceToHost));
        LLM_CUDA(c, cudaMemcpy(b, src, (size_t)H * 2, cudaMemcpyDeviceToHost));
        if (memcmp(a, b, (size_t)H * 2)) {
            snprintf(c->err, sizeof c->err, "input load: row %d is not its %s", r,
                     st->seq_slot && !st->prefill ? "slot's state" : "input row");
            rc = 1;
        }
    }
    free(a), free(b);
    return rc;
}

/* The store: each sequence's slot state is the final norm of its last row. */
static int check_store(llm_ctx *c, llm_dec *d, const llm_dec_step *st)
{
    int last = st->rows - 1;
    if (st->prefill)
        return check_norm_rows(c, d, "final norm into the slot", 1, &last, d->state, &st->fill_slot);
    int rows[3] = {0, st->rows / 2, last}, slots[3];
    for (int k = 0; k < 3; k++)
        slots[k] = st->seq_slot ? st->seq_slot[rows[k]] : rows[k];
    return check_norm_rows(c, d, "final norm into the slots", 3, rows, d->state, slots);
}

static int check_op(llm_ctx *c, llm_dec *d, llm_dec_op op, int after, const llm_dec_step *st)
{
    const llm_dec_cfg *g = &d->cfg;
    int H = g->hidden, F = g->ffn, rows = st->rows, ends[2] = {0, st->rows - 1};
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    if (!after) {
        if (op == LLM_OP_OPROJ || op == LLM_OP_DOWN) /* residual GEMMs: remember x */
            return llm_fetch_f32(c, d->x, GVB_DT_BF16, H, rows, H, d->check_before);
        return 0;
    }
    switch (op) {
    case LLM_OP_LOAD: return check_load(c, d, st);
    case LLM_OP_NORM1: return check_norm_rows(c, d, "rmsnorm", 2, ends, d->h, ends);
    case LLM_OP_QKV: return check_gemm_op(c, d, "QKV GEMM", rows, 3 * H, H, d->h, d->wqkv[0], d->qkv, NULL);
    case LLM_OP_ATTN: return check_attention(c, d, st);
    case LLM_OP_OPROJ:
        return check_gemm_op(c, d, "output projection", rows, H, H, d->attn, d->wo[0], d->x,
                             d->check_before);
    case LLM_OP_NORM2: return 0; /* the same kernel as LLM_OP_NORM1 */
    case LLM_OP_GU: return check_gemm_op(c, d, "gate/up GEMM", rows, 2 * F, H, d->h, d->wgu[0], d->gu, NULL);
    case LLM_OP_ACT: return check_silu(c, d, rows);
    case LLM_OP_DOWN:
        return check_gemm_op(c, d, "down projection", rows, H, F, d->act, d->wd[0], d->x,
                             d->check_before);
    case LLM_OP_STORE: return check_store(c, d, st);
    }
    return 0;
}

int llm_dec_check(llm_ctx *c, llm_dec *d, const llm_dec_step *steps, int n)
{
    int rows = 1;
    for (int i = 0; i < n; i++)
        rows = steps[i].rows > rows ? steps[i].rows : rows;
    d->check_before = malloc(sizeof(float) * (size_t)rows * d->cfg.hidden);
    d->check_worst = 0;
    if (!d->check_before)
        return out_of_memory(c, "decoder");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = llm_dec_forward(c, d, &steps[i], check_op);
    free(d->check_before);
    d->check_before = NULL;
    return rc;
}
