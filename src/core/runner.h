/* The runner: for each system, for each metric, start fresh tenant processes (this binary,
 * exec'd as a worker with the system's environment), release them together at the start
 * barrier, collect their samples over pipes, kill any that crash or overrun, and turn what
 * came back into results. The parent never touches CUDA. Pure C. */
#ifndef GVB_RUNNER_H
#define GVB_RUNNER_H

#include <signal.h>

#include "core/options.h"
#include "core/result.h"
#include "systems/system.h"

#define GVB_DEFAULT_DEADLINE_S 300.0

typedef struct gvb_runner_hooks {
    void *ctx;
    /* after each (system, metric) result, e.g. to rewrite the result files */
    void (*on_result)(void *ctx, const gvb_run *run);
    /* before each metric: index (1-based) of total, the system and metric, elapsed seconds */
    void (*on_progress)(void *ctx, int i, int total, const char *system, const char *metric,
                        double elapsed_s);
    /* a line a worker wrote on stderr (only forwarded with --verbose) */
    void (*on_worker_log)(void *ctx, const char *system, const char *metric, int tenant,
                          const char *line);
} gvb_runner_hooks;

typedef struct gvb_runner {
    const gvb_options *opts;
    const char *self_exe; /* path this binary is exec'd from for workers */
    char *const *base_env;
    gvb_runner_hooks hooks;
    /* the unconstrained compute rate a compute limit is checked against (activation proof):
     * 0 not measured yet, 1 measured, -1 could not be measured */
    int native_ref_state;
    double native_rate_kps;
} gvb_runner;

/* Set from a SIGINT/SIGTERM handler: running tenants are killed, systems torn down, and the
 * run ends with what it measured. */
extern volatile sig_atomic_t gvb_stop_requested;

/* Runs every selected (system, metric). Results are appended to run. Returns 0, or -1 if the
 * run was interrupted. */
int gvb_runner_run(gvb_runner *rn, gvb_system *systems, int n_systems,
                   const gvb_metric_def *const *metrics, size_t n_metrics, gvb_run *run);

/* Runs the GPU probe worker (no sharing layer) and fills gpu with what it reports. Returns
 * 0, or -1 with a one-line reason (e.g. no CUDA GPU). */
int gvb_runner_probe(gvb_runner *rn, gvb_kv *gpu, char *err, size_t errlen);

#endif
