/* The worker side: what a metric sees inside each tenant process. The framework owns the
 * start barrier and the timing loop (after nvbench's state.exec); metrics supply bodies and
 * emit numbers. Nothing here formats results: numbers go to the parent over the pipe.
 * Pure C (no CUDA): metrics bring their own device code. */
#ifndef GVB_WORKER_H
#define GVB_WORKER_H

#include <limits.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/protocol.h"
#include "core/result.h"


typedef struct gvb_worker {
    const gvb_metric_def *metric;
    char system[48];
    char kind[32]; /* the system's kind ("native" for native@b too): gvb_kind_is_baseline */
    int tenant, tenants;
    int iterations, warmup;
    int replicates; /* process groups this metric is measured in (this is one of them) */
    int replicate;  /* which of them, 0-based (the round: the same for every system) */
    double min_time_s;
    uint64_t seed;
    int quick;
    uint64_t memory_limit; /* bytes, 0 = none configured */
    int compute_limit;     /* percent, 0 = none configured */
    char workload[PATH_MAX]; /* `workload`'s spec file, "" for `run` */
    double deadline_s;     /* when the runner kills this tenant; 0 not said */
    int out_fd, go_fd; /* go_fd: phase 0's barrier fd; phase k's is go_fd + k */
    int barrier_done;
    int phase; /* the last phase this tenant passed (0 after the start barrier) */
    int status_sent;
} gvb_worker;

/* Emitters: one protocol line each. Return 0 or -1 (pipe closed, bad name). */
int gvb_emit_sample(gvb_worker *w, double v);
int gvb_emit_series(gvb_worker *w, const char *series, double v);
int gvb_emit_extra(gvb_worker *w, const char *name, double v);
int gvb_emit_text(gvb_worker *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gvb_emit_value(gvb_worker *w, double v);
/* Reports SKIP/FAIL/INERT (or OK) with a reason; returns 1 so a metric can
 * `return gvb_report_status(...)`. */
int gvb_report_status(gvb_worker *w, gvb_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tells the parent this tenant is ready and blocks until every tenant is. Idempotent. */
int gvb_barrier(gvb_worker *w);

/* The next phase barrier (1, 2, ... up to GVB_MAX_PHASES-1), for metrics with a solo phase
 * followed by a contended one: blocks until every tenant has reached it or exited. Returns
 * 0, or -1 when there are no phases left or the parent is gone. */
int gvb_sync(gvb_worker *w);

/* Monotonic seconds. */
double gvb_now(void);

/* This process group's share of a count meant for the whole metric: ceil(total /
 * w->replicates), for samples that are fresh processes already or budgets per metric. */
int gvb_replicate_share(const gvb_worker *w, int total);
/* The same with a floor per process group: max(at_least, ceil(total / w->replicates)). */
int gvb_replicate_share_min(const gvb_worker *w, int total, int at_least);
/* The same rounded down, with a floor per process group: max(at_least, floor(total /
 * w->replicates)), for counts whose pooled number should not grow past total when the
 * replicates do not divide it (the worker does not know which replicate it is, so an exact
 * split is not possible): 3 groups of 10 get 3 each, 9 in all. */
int gvb_replicate_share_down(const gvb_worker *w, int total, int at_least);
/* A time window meant for the whole metric, split the same way: max(at_least_s,
 * total_s / w->replicates). Windows pooled over the replicates keep at least total_s. */
double gvb_replicate_window_s(const gvb_worker *w, double total_s, double at_least_s);
/* Whether item (0-based) of a set meant for the whole metric is measured in this process
 * group: item i belongs to replicate i mod w->replicates, so the replicates together cover
 * the set once (every round measures the same items on every system). */
int gvb_replicate_owns(const gvb_worker *w, int item);

/* The shared timing loop. Runs w->warmup untimed calls, then timed calls until both
 * w->iterations samples and w->min_time_s of measured time are reached. Each call is one
 * sample, emitted as `scale * seconds` into `series` (NULL: the primary samples). A body
 * that times only part of its work stores its own seconds in *sample_s; otherwise the loop
 * times the whole call. A body returns 0, or non-zero to stop (the loop returns it). */
typedef int (*gvb_body_fn)(void *arg, double *sample_s);
int gvb_measure(gvb_worker *w, const char *series, double scale, gvb_body_fn body, void *arg);

/* Several bodies measured together in rounds: each round calls every body once, in the
 * given order, so no body is measured only after the others have run (a driver's state
 * drifts during a run; docs/validation.md). Warm-up and iterations count rounds; min-time
 * counts the measured time of all bodies. Body k's samples go to bodies[k].series (NULL:
 * the primary samples). A failing body stops the loop: its code is returned and *failed
 * (if not NULL) is set to its index. gvb_measure is this with one body. With the metric's
 * impl->host_ref and a primary body, each timed round adds one host reference sample. */
#define GVB_MAX_ROUND_BODIES 16
/* The host reference of metrics with impl->host_ref: GVB_HOST_REF_CALLS getppid system calls
 * after each round's bodies, timed apart from them, in every loop that has a primary body:
 * one sample per primary sample, ns per call, in series GVB_HOST_REF_SERIES (catalog.h). */
#define GVB_HOST_REF_CALLS 32
typedef struct gvb_round_body {
    const char *series;
    gvb_body_fn body;
    void *arg;
} gvb_round_body;
int gvb_measure_rounds(gvb_worker *w, double scale, gvb_round_body *bodies, int n, int *failed);

/* The worker's argv (argv[0] the subcommand, then what gvb_handoff_encode wrote) into *w.
 * Returns 0, or -1 with one line on stderr (unknown or out-of-range argument, no --metric). */
int gvb_worker_parse(int argc, char **argv, gvb_worker *w);
/* Worker entry: parses the worker's argv, runs the metric, reports its status. */
int gvb_worker_main(int argc, char **argv);

#endif
