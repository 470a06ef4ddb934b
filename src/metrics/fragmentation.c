/* Fragmentation metrics (FRAG-xxx): what a seeded alloc/free pattern leaves behind for the
 * tenant's allocator (its own, or the sharing layer's accounting on top of the driver's).
 * The pattern is src/stats/frag.h's plan, sized from the bytes this tenant can really
 * allocate (so a memory limit sizes it down). Methods in docs/metrics/fragmentation.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpu/cuda_check.h"
#include "stats/frag.h"
#include "stats/stats.h"

#define MIB (1024.0 * 1024.0)
#define SEARCH_STEP (2ull << 20) /* resolution of the largest-block search */
#define FRAG_TRIALS_MAX 3
#define FRAG_TRIAL_BUDGET_S 4.0 /* no trial starts that would end past this (the first always runs) */
/* Both are for the whole metric: each of --replicates process groups gets its share. */

typedef struct probe_ctx {
    int probes;
    cudaError_t err;
} probe_ctx;

/* One probe of the search: 1 if `bytes` can be allocated (freed at once), 0 if out of
 * memory, -1 on any other error (kept in err). */
static int try_alloc(void *arg, uint64_t bytes)
{
    probe_ctx *c = arg;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes);
    c->probes++;
    if (e == cudaSuccess)
        return (c->err = cudaFree(p)) == cudaSuccess ? 1 : -1;
    cudaGetLastError(); /* out-of-memory is not sticky: clear it */
    if (e == cudaErrorMemoryAllocation)
        return 0;
    c->err = e;
    return -1;
}

/* Largest single cudaMalloc that succeeds, to 2 MiB, at most hi (gvb_largest_search). */
static size_t largest_alloc(size_t hi, int *probes, double *seconds, cudaError_t *err)
{
    probe_ctx c = {0};
    double t0 = gvb_now();
    uint64_t v = gvb_largest_search(hi, SEARCH_STEP, try_alloc, &c);
    *seconds += gvb_now() - t0;
    *probes += c.probes;
    *err = c.err;
    return (size_t)v;
}

typedef struct frag_env {
    gvb_worker *w;
    size_t free0, total0; /* cudaMemGetInfo before anything */
    size_t usable;        /* largest allocatable block before the pattern */
    int probes;
    double search_s; /* time spent in largest-block searches */
} frag_env;

/* Context, barrier, and the tenant's usable bytes before any pattern. */
static int frag_setup(gvb_worker *w, frag_env *env)
{
    *env = (frag_env){.w = w};
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0));
    GVB_CUDA_TRY(w, cudaMemGetInfo(&env->free0, &env->total0));
    if (gvb_barrier(w) != 0)
        return gvb_report_status(w, GVB_FAIL, "start barrier failed");
    cudaError_t e;
    env->usable = largest_alloc(env->free0, &env->probes, &env->search_s, &e);
    if (e != cudaSuccess)
        return gvb_report_status(w, GVB_FAIL, "largest-block search: %s", cudaGetErrorString(e));
    if (env->usable < (64ull << 20))
        return gvb_report_status(w, GVB_SKIP, "only %zu MiB allocatable: too little for the pattern",
                                 env->usable >> 20);
    gvb_emit_extra(w, "memory_free_reported_MiB", (double)env->free0 / MIB);
    gvb_emit_extra(w, "memory_total_reported_MiB", (double)env->total0 / MIB);
    gvb_emit_extra(w, "usable_before_MiB", (double)env->usable / MIB);
    return 0;
}

typedef struct frag_run {
    gvb_frag_plan plan;
    void **slot;
    uint64_t *bytes; /* per slot, while allocated */
    uint64_t held; /* bytes the pattern really holds (failed allocations excluded) */
    int alloc_failures;
} frag_run;

/* Carries out the plan for seed. An allocation that runs out of memory is counted and its
 * slot left empty (the plan was sized from the measured usable bytes, so this means the
 * layer or driver gives less than it gave a moment ago). */
static int frag_pattern(frag_env *env, uint64_t seed, frag_run *r)
{
    gvb_worker *w = env->w;
    *r = (frag_run){0};
    if (gvb_frag_plan_make(&r->plan, seed, env->usable) != 0)
        return gvb_report_status(w, GVB_FAIL, "cannot make the pattern for %zu bytes", env->usable);
    r->slot = calloc(r->plan.n_slots, sizeof *r->slot);
    r->bytes = calloc(r->plan.n_slots, sizeof *r->bytes);
    if (!r->slot || !r->bytes)
        return gvb_report_status(w, GVB_FAIL, "out of host memory");
    double t0 = gvb_now();
    for (size_t i = 0; i < r->plan.n_ops; i++) {
        const gvb_frag_op *o = &r->plan.ops[i];
        if (o->alloc) {
            cudaError_t e = cudaMalloc(&r->slot[o->slot], o->bytes);
            if (e == cudaSuccess) {
                r->held += r->bytes[o->slot] = o->bytes;
                continue;
            }
            cudaGetLastError();
            r->slot[o->slot] = NULL;
            if (e != cudaErrorMemoryAllocation)
                return gvb_report_status(w, GVB_FAIL, "pattern cudaMalloc(%llu): %s",
                                         (unsigned long long)o->bytes, cudaGetErrorString(e));
            r->alloc_failures++;
        } else if (r->slot[o->slot]) {
            GVB_CUDA_TRY(w, cudaFree(r->slot[o->slot]));
            r->slot[o->slot] = NULL;
            r->held -= r->bytes[o->slot];
            r->bytes[o->slot] = 0;
        }
    }
    gvb_emit_series(w, "pattern_s", gvb_now() - t0);
    return 0;
}

/* Frees what the pattern still holds. */
static int frag_release(frag_env *env, frag_run *r)
{
    int rc = 0;
    for (size_t s = 0; r->slot && s < r->plan.n_slots; s++) {
        if (r->slot[s] && cudaFree(r->slot[s]) != cudaSuccess && !rc)
            rc = gvb_report_status(env->w, GVB_FAIL, "cudaFree after the pattern failed");
        r->slot[s] = NULL;
    }
    free(r->slot);
    free(r->bytes);
    r->slot = NULL;
    r->bytes = NULL;
    gvb_frag_plan_free(&r->plan);
    return rc;
}

static void emit_pattern_extras(gvb_worker *w, const frag_run *r)
{
    gvb_emit_extra(w, "pattern_ops", (double)r->plan.n_ops);
    gvb_emit_extra(w, "pattern_peak_MiB", (double)r->plan.peak / MIB);
    gvb_emit_extra(w, "pattern_live_blocks_end", (double)r->plan.live_end);
    gvb_emit_extra(w, "pattern_alloc_failures", r->alloc_failures);
}

/* Whether trial t may start, t0 being when the first started: one trial of a large GPU's
 * pattern takes about a second, so a large GPU gets fewer trials than a limited tenant. */
static int frag_next_trial(const gvb_worker *w, int t, double t0)
{
    if (t == 0)
        return 1;
    int max = w->quick ? 1 : gvb_replicate_share(w, FRAG_TRIALS_MAX);
    double budget = gvb_replicate_window_s(w, FRAG_TRIAL_BUDGET_S, 0);
    double spent = gvb_now() - t0;
    return t < max && spent + spent / t <= budget;
}
static uint64_t trial_seed(const gvb_worker *w, int t) { return w->seed + 1000003ull * (uint64_t)t; }

/* The trial loop of FRAG-001 and FRAG-003: setup, then per trial a pattern, measure(),
 * and the release of what is still held. measure() emits the trial's sample. */
typedef int (*frag_measure_fn)(frag_env *env, frag_run *r);

static int frag_trials(gvb_worker *w, frag_measure_fn measure)
{
    frag_env env;
    if (frag_setup(w, &env))
        return 1;
    double t0 = gvb_now();
    int t = 0;
    for (; frag_next_trial(w, t, t0); t++) {
        frag_run r;
        int rc = frag_pattern(&env, trial_seed(w, t), &r);
        if (!rc && t == 0)
            emit_pattern_extras(w, &r);
        if (!rc)
            rc = measure(&env, &r);
        if (frag_release(&env, &r) || rc)
            return 1;
    }
    gvb_emit_extra(w, "trials", t);
    gvb_emit_extra(w, "search_probes", env.probes);
    gvb_emit_extra(w, "search_s", env.search_s);
    return 0;
}

/* ---- FRAG-001 Fragmentation Index ------------------------------------------------------ */

static int measure_index(frag_env *env, frag_run *r)
{
    gvb_worker *w = env->w;
    size_t free_b = 0, total_b = 0;
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free_b, &total_b));
    /* what the tenant may still allocate: the layer's (or driver's) free count, and the
     * usable bytes before the pattern less what the pattern holds; the smaller counts
     * (a limit that cudaMemGetInfo does not show, e.g. MPS's, makes the first too big) */
    double budget_free = (double)env->usable - (double)r->held;
    double total_free = fmin((double)free_b, budget_free);
    if (!(total_free > 0))
        return gvb_report_status(w, GVB_FAIL, "the pattern left no free memory to measure");
    cudaError_t e;
    size_t largest = largest_alloc(free_b, &env->probes, &env->search_s, &e);
    if (e != cudaSuccess)
        return gvb_report_status(w, GVB_FAIL, "largest-block search after the pattern: %s",
                                 cudaGetErrorString(e));
    gvb_emit_sample(w, gvb_frag_index((double)largest, total_free));
    gvb_emit_series(w, "largest_after_MiB", (double)largest / MIB);
    gvb_emit_series(w, "free_reported_after_MiB", (double)free_b / MIB);
    gvb_emit_series(w, "free_by_budget_after_MiB", budget_free / MIB);
    gvb_emit_series(w, "held_after_MiB", (double)r->held / MIB);
    return 0;
}

static int frag_001(gvb_worker *w) { return frag_trials(w, measure_index); }
const gvb_metric_impl gvb_impl_frag_001 = {.run = frag_001, .deadline_s = 120};

/* ---- FRAG-002 Allocation Latency Degradation ------------------------------------------ */

/* n cudaMalloc latencies (us) of `bytes`; each allocation is freed, untimed. */
static int alloc_latencies(gvb_worker *w, size_t bytes, int n, double *us)
{
    for (int i = 0; i < n; i++) {
        void *p = NULL;
        double t0 = gvb_now();
        cudaError_t e = cudaMalloc(&p, bytes);
        double t = gvb_now() - t0;
        if (e != cudaSuccess)
            return gvb_report_status(w, GVB_FAIL, "cudaMalloc(%zu) for the latency sample: %s",
                                     bytes, cudaGetErrorString(e));
        GVB_CUDA_TRY(w, cudaFree(p));
        us[i] = t * 1e6;
    }
    return 0;
}

static int latency_phase(gvb_worker *w, const char *tag, const size_t *sizes, int n_sizes, int n,
                         double **out)
{
    for (int k = 0; k < n_sizes; k++) {
        double warm[16];
        int nw = w->warmup < 16 ? w->warmup : 16;
        if (alloc_latencies(w, sizes[k], nw, warm) || alloc_latencies(w, sizes[k], n, out[k]))
            return 1;
        char name[64];
        snprintf(name, sizeof name, "%s_%s_us", tag, k == 0 ? "primary" : "64KiB");
        for (int i = 0; i < n; i++)
            gvb_emit_series(w, name, out[k][i]);
    }
    return 0;
}

static int frag_002(gvb_worker *w)
{
    frag_env env;
    if (frag_setup(w, &env))
        return 1;
    /* 64 MiB as OH-002, smaller where the tenant has little memory */
    size_t primary = env.usable / 32 / SEARCH_STEP * SEARCH_STEP;
    if (primary > (64ull << 20))
        primary = 64ull << 20;
    if (primary < SEARCH_STEP)
        primary = SEARCH_STEP;
    const size_t sizes[2] = {primary, 64u << 10};
    int n = w->iterations < 10 ? 10 : w->iterations > 1000 ? 1000 : w->iterations;
    double *buf = calloc((size_t)n * 4, sizeof *buf);
    if (!buf)
        return gvb_report_status(w, GVB_FAIL, "out of host memory");
    double *before[2] = {buf, buf + n}, *after[2] = {buf + 2 * n, buf + 3 * n};
    int rc = latency_phase(w, "before", sizes, 2, n, before);
    frag_run r = {0};
    if (!rc)
        rc = frag_pattern(&env, trial_seed(w, 0), &r);
    if (!rc)
        rc = latency_phase(w, "after", sizes, 2, n, after);
    if (!rc) {
        emit_pattern_extras(w, &r);
        double ratio, lo, hi;
        if (gvb_bootstrap_ratio_ci(after[0], (size_t)n, before[0], (size_t)n, w->seed,
                                   GVB_BOOTSTRAP_RESAMPLES, GVB_CI_LEVEL, &ratio, &lo, &hi) != 0) {
            rc = gvb_report_status(w, GVB_FAIL, "median allocation latency before the pattern is 0");
        } else {
            gvb_emit_value(w, ratio);
            gvb_emit_extra(w, "ratio_ci95_lo", lo);
            gvb_emit_extra(w, "ratio_ci95_hi", hi);
            gvb_emit_extra(w, "ratio_64KiB", gvb_median(after[1], (size_t)n) /
                                                 gvb_median(before[1], (size_t)n));
            gvb_emit_extra(w, "primary_bytes", (double)primary);
            gvb_emit_extra(w, "held_after_MiB", (double)r.held / MIB);
        }
    }
    if (frag_release(&env, &r) && !rc)
        rc = 1;
    free(buf);
    return rc;
}
const gvb_metric_impl gvb_impl_frag_002 = {.run = frag_002, .deadline_s = 120};

/* ---- FRAG-003 Memory Compaction Efficiency -------------------------------------------- */

static int measure_after_free(frag_env *env, frag_run *r)
{
    gvb_worker *w = env->w;
    if (frag_release(env, r))
        return 1;
    size_t free_b = 0, total_b = 0;
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free_b, &total_b));
    cudaError_t e;
    /* search above the reported free count too: a layer whose count leaked would hide
     * memory that is really there */
    size_t hi = free_b > env->usable ? free_b : env->usable;
    size_t after = largest_alloc(hi, &env->probes, &env->search_s, &e);
    if (e != cudaSuccess)
        return gvb_report_status(w, GVB_FAIL, "largest-block search after freeing: %s",
                                 cudaGetErrorString(e));
    gvb_emit_sample(w, gvb_percent((double)after, (double)env->usable));
    gvb_emit_series(w, "usable_after_free_MiB", (double)after / MIB);
    gvb_emit_series(w, "free_reported_after_free_MiB", (double)free_b / MIB);
    return 0;
}

static int frag_003(gvb_worker *w) { return frag_trials(w, measure_after_free); }
const gvb_metric_impl gvb_impl_frag_003 = {.run = frag_003, .deadline_s = 120};
