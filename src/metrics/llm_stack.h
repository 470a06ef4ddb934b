/* The synthetic Llama-shaped decoder stack (bf16, random weights, KV cache) shared by the
 * decoder metrics LLM-003/004/009 (llm_decoder.c) and the built-in serving workload
 * (llm_serve.c): its memory, its allocation within a budget, one layer, a forward pass, and
 * the checks of layer 0 against double-precision references.
 *
 * A layer (pre-norm, as in LLaMA; no RoPE, unit-gain RMSNorm, no embedding or LM head):
 *   h = rmsnorm(x); qkv = h Wqkv^T; append k, v to the cache; a = attention(q, cache);
 *   x += a Wo^T; h = rmsnorm(x); gu = h Wgu^T; m = silu(g) * u; x += m Wd^T.
 * GEMMs are cuBLAS bf16 with fp32 accumulation; rmsnorm, the cache append, decode attention
 * and silu*mul are our kernels (src/kernels/llm.cu); prefill attention is QK^T and PV through
 * cuBLAS with our causal softmax. Sizes: docs/metrics/llm.md. */
#ifndef GVB_LLM_STACK_H
#define GVB_LLM_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/llm_common.h"

#define LLM_DEC_MAX_LAYERS 64

typedef struct llm_dec_cfg {
    int hidden, heads, head_dim, ffn, layers;
    int kv_len;  /* cache positions per sequence (decode steps of the metrics attend to all) */
    int bmax;    /* sequences: decode rows at most, and cache slots */
    int prefill; /* prompt tokens at most */
    uint64_t seed; /* weights, cache, inputs, and the checks' sampled entries */
} llm_dec_cfg;

/* What llm_dec_setup allocates besides the layers. LLM_DEC_SLOTS: continuous batching, a
 * per-slot state (the next input of each slot's sequence: the final RMSNorm of its last
 * token's output, as a model's LM head would see it) and the per-row device arrays. */
enum { LLM_DEC_PREFILL = 1, LLM_DEC_SLOTS = 2 };

typedef struct llm_dec {
    llm_dec_cfg cfg;
    int flags;
    int cap;  /* cache positions per sequence */
    int rows; /* activation rows: max(bmax, prefill) */
    void *wqkv[LLM_DEC_MAX_LAYERS], *wo[LLM_DEC_MAX_LAYERS], *wgu[LLM_DEC_MAX_LAYERS];
    void *wd[LLM_DEC_MAX_LAYERS], *kc[LLM_DEC_MAX_LAYERS], *vc[LLM_DEC_MAX_LAYERS];
    void *x0, *x, *h, *qkv, *attn, *gu, *act, *scores; /* bf16 */
    void *state;             /* LLM_DEC_SLOTS: bmax rows of hidden, bf16 */
    int *slot_dev, *len_dev; /* LLM_DEC_SLOTS: bmax each, a decode step's rows */
    float scale;
    size_t bytes;
    float *check_before; /* x before a residual GEMM (rows x hidden), while checking */
    double check_worst;  /* largest relative error seen by the checks */
} llm_dec;

/* One forward pass. Prefill: `rows` prompt tokens of one sequence (x0's first rows as their
 * embeddings) into cache slot fill_slot from position 0, causal attention over the prompt.
 * Decode: one token per row. Without seq_slot, row r is slot r, input x0's row r, every
 * sequence at cfg.kv_len. With seq_slot (LLM_DEC_SLOTS; host arrays of rows ints), row r is the
 * sequence of slot seq_slot[r], its input is that slot's state, and it holds seq_len[r] tokens
 * with this one (max_len the longest, at most cap). With LLM_DEC_SLOTS the pass ends by storing
 * the final RMSNorm of each sequence's last output row into its slot's state. */
typedef struct llm_dec_step {
    int rows;
    int prefill;
    int fill_slot;
    const int *seq_slot, *seq_len;
    int max_len;
} llm_dec_step;

typedef enum {
    LLM_OP_LOAD, /* the inputs into x */
    LLM_OP_NORM1, LLM_OP_QKV, LLM_OP_ATTN, LLM_OP_OPROJ, LLM_OP_NORM2, LLM_OP_GU, LLM_OP_ACT,
    LLM_OP_DOWN,
    LLM_OP_STORE /* LLM_DEC_SLOTS: the final norm into the slots' state */
} llm_dec_op;

/* Called before (after = 0) and after (after = 1) the load, each operation of layer 0 and the
 * store, when checking. Returns 0, or 1 with c->err. */
typedef int (*llm_dec_hook)(llm_ctx *c, llm_dec *d, llm_dec_op op, int after,
                            const llm_dec_step *st);

/* Device bytes of the stack with these flags, cuBLAS's workspace included. */
size_t llm_dec_bytes(const llm_dec_cfg *g, int flags);

/* Allocates and fills the stack; fewer layers, then a smaller batch, if c->budget_b demands
 * (adapted then says so, else ""). Returns 0, 1 (c->err) on failure, 2 (c->err) when even one
 * layer at batch 1 does not fit. */
int llm_dec_setup(llm_ctx *c, llm_dec *d, llm_dec_cfg g, int flags, char *adapted, size_t alen);

/* A forward pass through every layer, with hook around the load, layer 0 and the store. */
int llm_dec_forward(llm_ctx *c, llm_dec *d, const llm_dec_step *st, llm_dec_hook hook);

/* Runs the n steps with the reference checks, in order (each step's cache writes stay for the
 * next); d->check_worst is the largest relative error. Returns 0, or 1 with c->err. */
int llm_dec_check(llm_ctx *c, llm_dec *d, const llm_dec_step *steps, int n);

#endif
