/* Helpers shared by the metric implementations: child processes of a tenant, a small shared
 * page between the tenants of one metric, the allocate-until-full search, and lookups that
 * reduce functions use on the parent side (monitor series, extras). */
#ifndef GVB_METRIC_UTIL_H
#define GVB_METRIC_UTIL_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#include "core/result.h"
#include "core/worker.h"

/* ---- tenant side ------------------------------------------------------------------------ */

/* The native baseline applies no limits, so limit-relative metrics use the whole GPU there. */
int gvb_is_native(const gvb_worker *w);

/* Runs this binary as a child, `gpu-virt-bench <args...>` (args[0] is the hidden subcommand),
 * from /proc/self/exe with the tenant's own environment (the system's layer stays on), or
 * with the layer variables removed (strip_layers: an unconstrained reference). Its stdout is
 * captured into out (NUL-terminated); its stderr goes to the tenant's. *t_spawn is the
 * monotonic time just before the spawn. Returns 0 when it exited 0 in time, else -1 with why. */
int gvb_child_run(char *const *args, int strip_layers, double timeout_s, char *out, size_t outlen,
                  double *t_spawn, char *why, size_t whylen);

/* Hidden subcommands run by gvb_child_run: the catalog names them (its child column) and
 * main() calls them through the metric's child_main. */
/* OH-004: driver init + context + first kernel, stamped against t_main */
int gvb_ctxinit_main(int argc, char **argv, double t_main);
int gvb_isref_main(int argc, char **argv, double t_main); /* IS-003/IS-004: unconstrained kernel time */

/* A page shared by the tenants of one metric run (POSIX shm named after the runner's pid and
 * the metric): a stop flag that a victim raises when it has measured, a count of aggressors
 * whose load runs, and a few values. Tenant 0 creates it before the start barrier; the others
 * open it after the barrier. */
typedef struct gvb_shared {
    int stop;  /* the last contended phase the victim has measured (INT_MAX: all) */
    int ready; /* aggressor loads started, summed over the phases */
    unsigned long long value[8];
} gvb_shared;
gvb_shared *gvb_shared_open(const gvb_worker *w);
void gvb_shared_close(gvb_shared *s, const gvb_worker *w); /* tenant 0 also unlinks it */
/* The stop flag of a victim with several contended phases (phase 1, 2, ...): raised to
 * `phase` when that phase is measured, never lowered; one victim writes it. An aggressor of
 * phase k stops once it reads a value >= k. */
void gvb_shared_stop_phase(gvb_shared *s, int phase);
int gvb_shared_phase_stopped(gvb_shared *s, int phase);
void gvb_shared_set_stop(gvb_shared *s); /* every phase */
int gvb_shared_stopped(gvb_shared *s);   /* phase 1 */
/* Aggressors count themselves in once per phase when their load runs; the victim reads the
 * sum. */
void gvb_shared_add_ready(gvb_shared *s);
int gvb_shared_ready(gvb_shared *s);

/* A numeric extra when v is finite, else the text extra name = why (the protocol carries no
 * NaN: a tenant sending one would fail the metric). */
int gvb_emit_finite(gvb_worker *w, const char *name, double v, const char *why);

/* Allocate-until-full: cudaMalloc chunks starting at max_chunk, halving after each failure
 * down to min_chunk (the resolution), with no cap on the number of chunks. */
typedef struct gvb_alloc_set {
    void **p;
    size_t *size; /* bytes of each chunk */
    size_t n, cap;
    size_t bytes;          /* total held */
    cudaError_t last_err;  /* the error of the last failed cudaMalloc */
} gvb_alloc_set;
/* Returns 0 when it stopped on out-of-memory (the normal end), -1 on any other error
 * (last_err: e.g. a sticky fault) or when the host runs out of memory. */
int gvb_alloc_fill(gvb_alloc_set *s, size_t max_chunk, size_t min_chunk);
void gvb_alloc_release(gvb_alloc_set *s);

/* ---- parent side (reduce) ----------------------------------------------------------------- */

/* Tenant t's series as the runner stores it ("t<i>.<name>" with several tenants), or NULL. */
const gvb_series *gvb_tenant_series(const gvb_result *r, int t, const char *name, int tenants);
/* A numeric extra of r, or NAN when absent or text. */
double gvb_extra_num(const gvb_result *r, const char *key);
/* The NVML monitor's series `what` of tenant t ("monitor.t<t>.<what>"), or NULL when the
 * monitor was unavailable. */
const gvb_series *gvb_monitor_series(const gvb_result *r, int t, const char *what);
/* Every tenant's samples into r's, tenant after tenant. */
void gvb_copy_samples(gvb_result *r, const gvb_series *per_tenant, int tenants);
/* Records that no monitor series were there to check the tenant's own numbers against
 * (keeps the runner's reason when it gave one). */
void gvb_monitor_unavailable(gvb_result *r);

/* Sleeps s seconds (nanosleep). */
void gvb_sleep_s(double s);

#endif
