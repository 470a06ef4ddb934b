/* LLM metrics on memory management: paged KV-cache block allocation (LLM-002), a stream-ordered
 * pool against cudaMalloc for the same pattern (LLM-005), and a large tensor allocated and
 * first touched (LLM-007). Methods: docs/metrics/llm.md. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "metrics/llm_common.h"
#include "stats/llm_formulas.h"
#include "stats/stats.h"

/* The stream-ordered pool the metrics use: the device's default pool (what cudaMallocAsync
 * draws from) told to keep what it has (release threshold: never), the way serving frameworks
 * configure theirs. Returns the CUDA error as int. */
static int pool_prepare(void)
{
    int supported = 0;
    cudaError_t e = cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, 0);
    if (e != cudaSuccess)
        return (int)e;
    if (!supported)
        return (int)cudaErrorNotSupported;
    cudaMemPool_t pool;
    e = cudaDeviceGetDefaultMemPool(&pool, 0);
    if (e != cudaSuccess)
        return (int)e;
    uint64_t keep = UINT64_MAX;
    return (int)cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
}

/* Whether an explicitly created pool works too (cudaMemPoolCreate, cudaMallocFromPoolAsync,
 * cudaFreeAsync): some layers track only cudaMallocAsync. Emitted as text "explicit_pool". */
static void explicit_pool_probe(llm_ctx *c, size_t bytes)
{
    struct cudaMemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = 0;
    cudaMemPool_t pool;
    void *p = NULL;
    const char *step = "cudaMemPoolCreate";
    cudaError_t e = cudaMemPoolCreate(&pool, &props);
    if (e == cudaSuccess) {
        step = "cudaMallocFromPoolAsync";
        e = cudaMallocFromPoolAsync(&p, bytes, pool, c->stream);
        if (e == cudaSuccess) {
            step = "cudaFreeAsync";
            e = cudaFreeAsync(p, c->stream);
        }
        if (e == cudaSuccess) {
            step = "cudaStreamSynchronize";
            e = cudaStreamSynchronize(c->stream);
        }
        cudaStreamSynchronize(c->stream);
        cudaMemPoolDestroy(pool);
    }
    if (e == cudaSuccess)
        gvb_emit_text(c->w, "explicit_pool", "works (create, allocate, free)");
    else
        gvb_emit_text(c->w, "explicit_pool", "fails: %s: %s (error %d)", step,
                      cudaGetErrorString(e), (int)e);
}

/* ---- LLM-002 KV Cache Allocation Speed ----------------------------------------------------- */

#define KV_BLOCKS 64 /* a sequence growing to 64 x 16 = 1024 tokens, one layer */

typedef struct kv_job {
    size_t block_bytes;
    void *p[KV_BLOCKS];
    int use_pool;
    double alloc_s, free_s;
} kv_job;

/* Allocates the blocks one by one (timed), then frees them (timed separately). */
static int kv_round(llm_ctx *c, kv_job *j)
{
    double t0 = gvb_now();
    for (int i = 0; i < KV_BLOCKS; i++) {
        if (j->use_pool)
            LLM_CUDA(c, cudaMallocAsync(&j->p[i], j->block_bytes, c->stream));
        else
            LLM_CUDA(c, cudaMalloc(&j->p[i], j->block_bytes));
    }
    if (j->use_pool)
        LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    double t1 = gvb_now();
    for (int i = KV_BLOCKS - 1; i >= 0; i--) { /* a finished sequence returns its pages */
        if (j->use_pool)
            LLM_CUDA(c, cudaFreeAsync(j->p[i], c->stream));
        else
            LLM_CUDA(c, cudaFree(j->p[i]));
    }
    if (j->use_pool)
        LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    j->alloc_s = t1 - t0;
    j->free_s = gvb_now() - t1;
    return 0;
}

/* The blocks are usable: each is written, the last one read back. */
static int kv_check(llm_ctx *c, kv_job *j)
{
    for (int i = 0; i < KV_BLOCKS; i++) {
        if (j->use_pool)
            LLM_CUDA(c, cudaMallocAsync(&j->p[i], j->block_bytes, c->stream));
        else
            LLM_CUDA(c, cudaMalloc(&j->p[i], j->block_bytes));
        LLM_CUDA(c, cudaMemsetAsync(j->p[i], i + 1, j->block_bytes, c->stream));
    }
    unsigned char last = 0;
    LLM_CUDA(c, cudaMemcpyAsync(&last, (char *)j->p[KV_BLOCKS - 1] + j->block_bytes - 1, 1,
                                cudaMemcpyDeviceToHost, c->stream));
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    for (int i = 0; i < KV_BLOCKS; i++) {
        if (j->use_pool)
            LLM_CUDA(c, cudaFreeAsync(j->p[i], c->stream));
        else
            LLM_CUDA(c, cudaFree(j->p[i]));
    }
    LLM_CUDA(c, cudaStreamSynchronize(c->stream));
    if (last != KV_BLOCKS) {
        snprintf(c->err, sizeof c->err, "KV block content wrong: read %u, wrote %u", last,
                 KV_BLOCKS);
        return 1;
    }
    return 0;
}

/* Runs warmup + n rounds; emits allocs/s (primary or <prefix>allocs_per_s) and frees/s. */
static int kv_measure(llm_ctx *c, kv_job *j, const char *prefix)
{
    gvb_worker *w = c->w;
    if (gvb_barrier(w) != 0) {
        snprintf(c->err, sizeof c->err, "start barrier: the parent is gone");
        return 1;
    }
    char akey[64], fkey[64];
    snprintf(akey, sizeof akey, "%sallocs_per_s", prefix);
    snprintf(fkey, sizeof fkey, "%sfrees_per_s", prefix);
    double measured = 0;
    for (int i = -w->warmup; i < 4 * w->iterations && (i < w->iterations || measured < w->min_time_s);
         i++) {
        if (kv_round(c, j))
            return 1;
        if (i < 0)
            continue;
        measured += j->alloc_s + j->free_s;
        if (prefix[0])
            gvb_emit_series(w, akey, KV_BLOCKS / j->alloc_s);
        else
            gvb_emit_sample(w, KV_BLOCKS / j->alloc_s);
        gvb_emit_series(w, fkey, KV_BLOCKS / j->free_s);
    }
    return 0;
}

static int llm_002(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 0))
        return 1;
    int tokens = llm_env_int("GVB_LLM_BLOCK_TOKENS", 16, 1, 4096);
    int heads = llm_env_int("GVB_LLM_HEADS", 32, 1, 1024);
    int hidden = llm_env_int("GVB_LLM_HIDDEN", 4096, 64, 65536);
    kv_job j = {.block_bytes = (size_t)tokens * (size_t)hidden * 2 /* K, V */ * 2 /* bf16 */};
    int rc = 0;
    if (j.block_bytes * KV_BLOCKS * 2 > c.budget_b) {
        rc = gvb_report_status(w, GVB_SKIP, "%d blocks of %zu KiB do not fit in %zu MiB",
                               KV_BLOCKS, j.block_bytes >> 10, c.budget_b >> 20);
        goto out;
    }
    if (kv_check(&c, &j) || kv_measure(&c, &j, "")) {
        rc = gvb_report_status(w, GVB_FAIL, "cudaMalloc path: %s", c.err);
        goto out;
    }
    int pe = pool_prepare();
    if (pe != 0) {
        gvb_emit_text(w, "pool_allocs_per_s", "not measured: %s", cudaGetErrorString((cudaError_t)pe));
    } else {
        j.use_pool = 1;
        if (kv_check(&c, &j) || kv_measure(&c, &j, "pool_"))
            rc = gvb_report_status(w, GVB_FAIL, "pool path: %s", c.err);
    }
    explicit_pool_probe(&c, j.block_bytes);
    gvb_emit_extra(w, "block_bytes", (double)j.block_bytes);
    gvb_emit_extra(w, "blocks_per_sample", KV_BLOCKS);
    gvb_emit_text(w, "method",
                  "block = %d tokens x %d heads x %d head_dim x 2 (K, V) x 2 bytes (bf16) = %zu KiB "
                  "(one layer); sample = %d blocks allocated one by one (a sequence growing to %d "
                  "tokens), allocs/s; frees timed separately; pool: cudaMallocAsync on the default "
                  "pool set to keep its memory, synchronized before the clock stops",
                  tokens, heads, hidden / heads, j.block_bytes >> 10, KV_BLOCKS,
                  KV_BLOCKS * tokens);
    gvb_emit_text(w, "peak", "no hardware peak applies to allocation rates");
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_002 = {.run = llm_002, .deadline_s = 120};

/* ---- LLM-005 Memory Pool Efficiency --------------------------------------------------------- */

#define POOL_ALLOCS 32

typedef struct pattern_job {
    size_t bytes[POOL_ALLOCS];
    int free_order[POOL_ALLOCS];
    void *p[POOL_ALLOCS];
} pattern_job;

static int raw_body(llm_ctx *c, void *arg)
{
    pattern_job *j = arg;
    for (int i = 0; i < POOL_ALLOCS; i++)
        LLM_CUDA(c, cudaMalloc(&j->p[i], j->bytes[i]));
    for (int i = 0; i < POOL_ALLOCS; i++)
        LLM_CUDA(c, cudaFree(j->p[j->free_order[i]]));
    return 0;
}

static int pool_body(llm_ctx *c, void *arg)
{
    pattern_job *j = arg;
    for (int i = 0; i < POOL_ALLOCS; i++)
        LLM_CUDA(c, cudaMallocAsync(&j->p[i], j->bytes[i], c->stream));
    for (int i = 0; i < POOL_ALLOCS; i++)
        LLM_CUDA(c, cudaFreeAsync(j->p[j->free_order[i]], c->stream));
    return 0; /* the timing loop synchronizes the stream before the clock stops */
}

/* The same sizes and free order for every system: a constant seed, not the run's. */
#define PATTERN_SEED 0x11505eedull

static int llm_005(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 0))
        return 1;
    pattern_job j;
    memset(&j, 0, sizeof j);
    gvb_rng rng;
    gvb_rng_seed(&rng, PATTERN_SEED);
    size_t total = 0;
    for (int i = 0; i < POOL_ALLOCS; i++) { /* log-uniform 256 KiB .. 64 MiB, 256-byte multiples */
        double lg = 18.0 + 8.0 * gvb_rng_unit(&rng);
        j.bytes[i] = ((size_t)pow(2.0, lg) + 255) / 256 * 256;
        total += j.bytes[i];
    }
    gvb_balanced_sequence(j.free_order, POOL_ALLOCS, 0, POOL_ALLOCS - 1, &rng);
    int rc = 0;
    if (total * 2 > c.budget_b) {
        rc = gvb_report_status(w, GVB_SKIP, "the pattern (%zu MiB) does not fit twice in %zu MiB",
                               total >> 20, c.budget_b >> 20);
        goto out;
    }
    int pe = pool_prepare();
    if (pe != 0) {
        rc = gvb_report_status(w, GVB_SKIP, "no stream-ordered pool: %s",
                               cudaGetErrorString((cudaError_t)pe));
        goto out;
    }
    /* the pool's memory is usable: write the largest allocation, read its last byte */
    unsigned char probe = 0;
    if (pool_body(&c, &j) != 0) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto pool_out;
    }
    void *q = NULL;
    if (cudaMallocAsync(&q, j.bytes[0], c.stream) != cudaSuccess ||
        cudaMemsetAsync(q, 0x5a, j.bytes[0], c.stream) != cudaSuccess ||
        cudaMemcpyAsync(&probe, (char *)q + j.bytes[0] - 1, 1, cudaMemcpyDeviceToHost, c.stream) !=
            cudaSuccess ||
        cudaFreeAsync(q, c.stream) != cudaSuccess || cudaStreamSynchronize(c.stream) != cudaSuccess ||
        probe != 0x5a) {
        rc = gvb_report_status(w, GVB_FAIL, "pool allocation not usable (read 0x%02x)", probe);
        goto pool_out;
    }
    double *raw, *pool;
    int n;
    if (llm_time_pair(&c, w->iterations, w->warmup, raw_body, &j, pool_body, &j, &raw, &pool, &n)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto pool_out;
    }
    for (int i = 0; i < n; i++) {
        gvb_emit_sample(w, gvb_relative_change_pct(pool[i], raw[i]));
        gvb_emit_series(w, "raw_us", raw[i] * 1e6);
        gvb_emit_series(w, "pool_us", pool[i] * 1e6);
    }
    free(raw), free(pool);
    gvb_emit_extra(w, "pattern_bytes", (double)total);
    gvb_emit_extra(w, "allocations_per_round", POOL_ALLOCS);
    gvb_emit_text(w, "method",
                  "round = %d allocations of log-uniform sizes 256 KiB..64 MiB (%zu MiB, fixed "
                  "seed), then all freed in a shuffled order; raw: cudaMalloc/cudaFree; pool: "
                  "cudaMallocAsync/cudaFreeAsync on the default pool set to keep its memory, "
                  "synchronized; sample = (pool - raw) / raw x 100 of back-to-back rounds",
                  POOL_ALLOCS, total >> 20);
    gvb_emit_text(w, "peak", "no hardware peak applies to allocation times");
    explicit_pool_probe(&c, j.bytes[0]);
pool_out:
    cudaStreamSynchronize(c.stream);
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_005 = {.run = llm_005, .deadline_s = 120};

/* ---- LLM-007 Large Tensor Allocation --------------------------------------------------------- */

typedef struct big_job {
    size_t bytes;
    double alloc_s, touch_s;
} big_job;

/* cudaMalloc (timed), first touch of every byte with cudaMemset + synchronize (timed), then the
 * free outside the clock. */
static int big_round(llm_ctx *c, big_job *j, int verify)
{
    void *p = NULL;
    double t0 = gvb_now();
    LLM_CUDA(c, cudaMalloc(&p, j->bytes));
    double t1 = gvb_now();
    cudaError_t e = cudaMemsetAsync(p, 0xa5, j->bytes, c->stream);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(c->stream);
    double t2 = gvb_now();
    unsigned char probe[3] = {0, 0, 0};
    size_t at[3] = {0, j->bytes / 2, j->bytes - 1};
    for (int i = 0; verify && e == cudaSuccess && i < 3; i++)
        e = cudaMemcpy(&probe[i], (char *)p + at[i], 1, cudaMemcpyDeviceToHost);
    cudaFree(p);
    if (e != cudaSuccess)
        return llm_fail_at(c, __FILE__, __LINE__, "cudaMemset (first touch)", cudaGetErrorString(e));
    if (verify && (probe[0] != 0xa5 || probe[1] != 0xa5 || probe[2] != 0xa5)) {
        snprintf(c->err, sizeof c->err, "first touch did not write the tensor: read %02x %02x %02x",
                 probe[0], probe[1], probe[2]);
        return 1;
    }
    j->alloc_s = t1 - t0;
    j->touch_s = t2 - t1;
    return 0;
}

static int llm_007(gvb_worker *w)
{
    llm_ctx c;
    if (llm_setup(w, &c, 0))
        return 1;
    big_job j = {.bytes = c.tenant_b / 2 / (2u << 20) * (2u << 20)};
    const char *basis = c.tenant_b < c.total_b ? "the configured memory limit" : "the total memory "
                                                                                  "cudaMemGetInfo reports";
    int rc = 0;
    if (j.bytes + (64u << 20) > c.free_b) {
        rc = gvb_report_status(w, GVB_SKIP, "50 %% of %s (%zu MiB) does not fit in the %zu MiB free",
                               basis, j.bytes >> 20, c.free_b >> 20);
        goto out;
    }
    if (big_round(&c, &j, 1)) {
        rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
        goto out;
    }
    if (gvb_barrier(w) != 0) {
        rc = gvb_report_status(w, GVB_FAIL, "start barrier failed");
        goto out;
    }
    /* 30 samples per metric, split over its replicates (each a 50 % tensor: 0.25 s a sample
     * on an idle H200); not fewer than 5 per replicate */
    int n = llm_capped_samples(w, 30), warm = w->warmup < 2 ? w->warmup : 2;
    double best_gbps = 0, *gbps = malloc(sizeof *gbps * (size_t)n);
    if (!gbps) {
        rc = gvb_report_status(w, GVB_FAIL, "out of host memory");
        goto out;
    }
    for (int i = -warm; i < n; i++) {
        if (big_round(&c, &j, 0)) {
            free(gbps);
            rc = gvb_report_status(w, GVB_FAIL, "%s", c.err);
            goto out;
        }
        if (i < 0)
            continue;
        gbps[i] = (double)j.bytes / j.touch_s / 1e9;
        best_gbps = fmax(best_gbps, gbps[i]);
        gvb_emit_sample(w, (j.alloc_s + j.touch_s) * 1e3);
        gvb_emit_series(w, "alloc_ms", j.alloc_s * 1e3);
        gvb_emit_series(w, "touch_ms", j.touch_s * 1e3);
        gvb_emit_series(w, "touch_GBps", gbps[i]);
    }
    double med_gbps = llm_median(gbps, n);
    free(gbps);
    gvb_emit_extra(w, "tensor_bytes", (double)j.bytes);
    gvb_emit_extra(w, "tenant_memory_bytes", (double)c.tenant_b);
    gvb_emit_extra(w, "reported_total_bytes", (double)c.total_b);
    gvb_emit_text(w, "method",
                  "tensor = 50 %% of %s (%zu MiB); sample = cudaMalloc + cudaMemset of every byte "
                  "+ synchronize; cudaFree not timed; %d samples",
                  basis, j.bytes >> 20, n);
    gvb_emit_extra(w, "peak_mem_GBps", c.peak.mem_gbps);
    rc = llm_check_peak(&c, "touch_GBps", med_gbps, c.peak.mem_gbps, "GB/s") ||
         llm_check_peak(&c, "touch_GBps_best", best_gbps, c.peak.mem_gbps, "GB/s");
out:
    llm_teardown(&c);
    return rc;
}
const gvb_metric_impl gvb_impl_llm_007 = {.run = llm_007, .deadline_s = 180};
