/* Shared host side of the contention metrics (BW, CACHE, PCIE, SCHED): the device as a
 * tenant sees it, a memory budget that respects limits, measurement windows, the
 * victim/aggressor roles, a streaming-copy load and the device-to-device copy ceiling.
 * Roles: tenant 0 is the victim (or the tenant that measures), the others are aggressors.
 * Methods: docs/metrics/bandwidth.md ("Common method"). */
#ifndef GVB_CONTEND_H
#define GVB_CONTEND_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#include "core/result.h"
#include "core/worker.h"
#include "metrics/metric_util.h"

typedef struct gvb_dev {
    int sms;                 /* multiprocessors this process sees (MPS may report fewer) */
    size_t l2_bytes;         /* cudaDeviceProp.l2CacheSize */
    size_t smem_per_sm, smem_per_block_optin;
    size_t free_b, total_b;  /* cudaMemGetInfo after the context exists */
    cudaStream_t stream;     /* a non-blocking stream for the metric */
} gvb_dev;

/* Creates the context and a stream, fills d. On failure reports FAIL and returns non-zero. */
int gvb_dev_open(gvb_worker *w, gvb_dev *d);
void gvb_dev_close(gvb_dev *d);

/* Bytes this tenant may allocate: 80 % of the smaller of the free memory it sees and the
 * configured --memory-limit, split evenly among `share` tenants that allocate at once (so
 * tenants that share one limit still fit, and every system gets the same sizes when a limit
 * is configured). */
size_t gvb_mem_budget(const gvb_worker *w, const gvb_dev *d, int share);

/* cudaMalloc of up to `want` bytes, halving on out-of-memory but never below `min`; *got is
 * the size allocated. Returns cudaSuccess or the last error. */
cudaError_t gvb_alloc_upto(void **p, size_t want, size_t min, size_t *got);

/* Measurement window of one phase (seconds): 0.4 s (0.2 s with --quick), at least
 * --min-time. */
double gvb_window_s(const gvb_worker *w);
/* The same window meant for the whole metric and split over its replicates, for windows
 * whose samples pool over the replicates: 0.4 s / replicates, at least the --quick window
 * (0.2 s), at least --min-time. */
double gvb_window_share_s(const gvb_worker *w);

/* Per-call values are kept in gvb_series (core/result.h). */
double gvb_series_median(const gvb_series *s); /* NAN when empty */
double gvb_series_sum(const gvb_series *s);

/* ---- victim and aggressors ------------------------------------------------------------------
 * In a contended phase (1, 2, ...) the aggressors' load runs from before the victim measures
 * until it is done, and no longer: each aggressor counts itself ready on the tenants' shared
 * page (metric_util.h) once it has completed a call of the phase (so a layer that holds a
 * fresh process back has let it go), the victim waits for all of them (gvb_contend_await),
 * measures, and raises the stop flag of the phase (gvb_shared_stop_phase). */

/* The start barrier with the shared page: tenant 0 creates the page before the barrier, the
 * others open it after. Reports FAIL and returns non-zero when it cannot. */
int gvb_contend_barrier(gvb_worker *w, gvb_shared **sh);
/* Victim, before it measures `phase`: waits until its w->tenants - 1 aggressors have each
 * completed a call of the phase. Reports FAIL when they have not within
 * GVB_AGGRESSOR_START_S (an aggressor failed or is held back). */
#define GVB_AGGRESSOR_START_S 10.0
int gvb_contend_await(gvb_worker *w, gvb_shared *sh, int phase);
/* Closes the page (NULL: nothing to do); tenant 0 (the victim) first stops every phase, so
 * that no aggressor outlives a victim that is done or failed. */
void gvb_contend_close(gvb_shared *sh, const gvb_worker *w);

/* How long a run of calls lasts: until window_s has passed or max_calls calls were made
 * (max_calls <= 0: no cap), whichever comes first; with sh (an aggressor's, gvb_until_victim)
 * also until the victim has measured `phase`, and the first call counts the caller ready. */
typedef struct gvb_until {
    double window_s;
    int max_calls;
    gvb_shared *sh;
    int phase;
} gvb_until;
gvb_until gvb_until_window(double window_s, int max_calls);
/* An aggressor's run in `phase`: until the victim has measured it, bounded by
 * GVB_AGGRESSOR_START_S + 4 windows + 5 s in case the victim died without a word. */
gvb_until gvb_until_victim(const gvb_worker *w, gvb_shared *sh, int phase);

/* Calls body (gvb_body_fn, as in gvb_measure) at least once and until u says. Each call's
 * seconds (its own, or the host time around it) go to out (NULL: not kept). Returns 0 or the
 * body's non-zero code. */
int gvb_run_until(gvb_until u, gvb_body_fn body, void *arg, gvb_series *out);
/* gvb_run_until(gvb_until_window(window_s, max_calls), ...) */
int gvb_run_window(double window_s, int max_calls, gvb_body_fn body, void *arg, gvb_series *out);
/* The untimed warm-up: w->warmup calls, but no longer than a quarter window. */
int gvb_run_warmup(const gvb_worker *w, gvb_body_fn body, void *arg);

/* A streaming device-to-device copy between two buffers much larger than L2. One call is
 * `reps` copies then a stream synchronize; it moves gvb_copy_load_bytes() bytes (read+write). */
typedef struct gvb_copy_load {
    char *a, *b;
    size_t bytes; /* of each buffer */
    int reps, blocks;
    int use_memcpy; /* 1: cudaMemcpyAsync instead of the kernel (the ceiling) */
    cudaStream_t stream;
    cudaError_t err;
} gvb_copy_load;
/* Sizes the buffers from the budget (largest power of two, at most 1 GiB each, at least
 * 4 x L2) and warms them. Reports SKIP/FAIL and returns non-zero when it cannot. */
int gvb_copy_load_init(gvb_worker *w, const gvb_dev *d, gvb_copy_load *c, int share);
void gvb_copy_load_free(gvb_copy_load *c);
double gvb_copy_load_bytes(const gvb_copy_load *c);
int gvb_copy_body(void *arg, double *sample_s);
/* GB/s of each call's seconds in s, into out (per-sample bandwidth). */
int gvb_series_to_gbs(const gvb_series *s, double bytes_per_call, gvb_series *out);
/* Device-to-device copy ceiling: the best GB/s (read+write counted) of cudaMemcpyAsync over
 * the same buffers and sizes as the kernel, over a few calls. Returns 0 or a cudaError_t. */
int gvb_d2d_ceiling(gvb_copy_load *c, double *gbs);

/* Victim streaming bandwidth alone: the ceiling, the solo samples (GB/s) and the extras
 * d2d_ceiling_gbs, solo_gbs, solo_pct_of_d2d, buffer_bytes, blocks. Tenant 0 only. */
int gvb_stream_solo(gvb_worker *w, gvb_copy_load *c, gvb_series *gbs);

/* Parent side: a numeric extra of tenant `tenant` ("t<i>.name" when the metric ran with more
 * than one tenant). Returns 0 or -1 when missing. */
int gvb_tenant_extra(const gvb_result *r, int tenant, const char *name, double *v);

/* FAIL with a cudaError_t that a launcher returned as int, with the place. */
#define GVB_CUDA_RC(w, rc, what)                                                             \
    do {                                                                                     \
        int rc_ = (rc);                                                                      \
        if (rc_ != 0)                                                                        \
            return gvb_report_status((w), GVB_FAIL, "%s:%d: %s: %s", __FILE__, __LINE__,    \
                                     (what), cudaGetErrorString((cudaError_t)rc_));          \
    } while (0)

#endif
