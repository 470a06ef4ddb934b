/* The runner: for each system, for each metric, start fresh tenant processes (this binary,
 * exec'd as a worker with the system's environment), release them together at the start
 * barrier, collect their samples over pipes, kill any that crash or overrun, and turn what
 * came back into results. The parent never touches CUDA. Pure C. */
#ifndef GVB_RUNNER_H
#define GVB_RUNNER_H

#include <signal.h>

#include "core/group.h"
#include "core/options.h"
#include "core/result.h"
#include "systems/system.h"

#define GVB_DEFAULT_DEADLINE_S 300.0

/* Where a run stands, before each measurement slot (one tenant group: one replicate of one
 * metric on one system). */
typedef struct gvb_progress {
    int done, total;             /* slots started, this one included, of all */
    const char *system, *metric;
    int replicate, replicates;   /* 1-based */
    double elapsed_s;
    double eta_s;                /* estimated seconds left for the whole run; NAN: unknown */
} gvb_progress;

typedef struct gvb_runner_hooks {
    void *ctx;
    /* after each metric (all systems) and at the end, e.g. to rewrite the result files */
    void (*on_result)(void *ctx, const gvb_run *run);
    void (*on_progress)(void *ctx, const gvb_progress *p);
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
    /* the run's GPU hold (gvb_monitor_hold), or NULL: workloads read the energy through it */
    struct gvb_monitor *hold;
} gvb_runner;

/* gvb_stop_requested (core/group.h) ends the run with what it measured. */

/* The order of the systems in round `replicate` (0-based) of the metric at metric_index:
 * order[p] is the index of the system run p-th. Rotating: each round starts one system later,
 * so over the rounds every system takes every position (drift and order effects fall on all
 * alike). */
void gvb_round_order(int n_systems, int metric_index, int replicate, int *order);

/* Seconds left, estimated from measured durations: for each of n metrics, slot_s[i] seconds
 * over slot_n[i] finished slots and left[i] slots to go; a metric with no finished slot is
 * estimated at the mean slot of all finished ones. NAN while nothing has finished. */
double gvb_eta_estimate(const double *slot_s, const int *slot_n, const int *left, size_t n);

/* Runs every selected (system, metric): every system set up first, then metric by metric
 * with the systems' replicates interleaved (gvb_round_order), teardown at the end. Results are appended to run. Returns 0, or -1 if the
 * run was interrupted. */
int gvb_runner_run(gvb_runner *rn, gvb_system *systems, int n_systems,
                   const gvb_metric_def *const *metrics, size_t n_metrics, gvb_run *run);

/* Runs the GPU probe worker (no sharing layer) and fills gpu with what it reports. Returns
 * 0, or -1 with a one-line reason (e.g. no CUDA GPU). */
int gvb_runner_probe(gvb_runner *rn, gvb_kv *gpu, char *err, size_t errlen);

#endif
