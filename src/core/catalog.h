/* The metric catalog: identity, category, unit, direction, tenants and requirements of each
 * metric, and what the report, the mig-ideal model and main() need to know about it, expanded
 * from catalog.def (metrics), categories.def and usecases.def. Pure C; the implementations
 * live in src/metrics/. */
#ifndef GVB_CATALOG_H
#define GVB_CATALOG_H

#include <stddef.h>

typedef enum {
#define GVB_CATEGORY(sym, name, title, doc) GVB_CAT_##sym,
#include "core/categories.def"
#undef GVB_CATEGORY
    GVB_CAT_COUNT
} gvb_category;

typedef enum { GVB_LOWER, GVB_HIGHER, GVB_PASS } gvb_direction;

/* tenants == GVB_TENANTS_N: as many tenant processes as --processes */
#define GVB_TENANTS_N 0

/* Use cases (usecases.def): GVB_UC_* indexes gvb_usecases, GVB_USE_* is a metric's flag. */
typedef enum {
#define GVB_USECASE(sym, id, title) GVB_UC_##sym,
#include "core/usecases.def"
#undef GVB_USECASE
    GVB_UC_COUNT
} gvb_usecase_id;
enum {
#define GVB_USECASE(sym, id, title) GVB_USE_##sym = 1u << GVB_UC_##sym,
#include "core/usecases.def"
#undef GVB_USECASE
};

/* How the mig-ideal model (src/systems/mig_ideal.c) computes a metric from native. */
typedef enum {
    GVB_MIG_NONE,           /* not defined by the model: SKIP */
    GVB_MIG_SOLO_PCT,       /* the victim keeps 100 % of its solo value */
    GVB_MIG_ZERO,           /* no slowdown, eviction or loss: 0 */
    GVB_MIG_EQUAL_SHARES,   /* identical instances: Jain index 1 */
    GVB_MIG_COMPUTE_SCALED, /* native x the profile's SMs / 132 */
} gvb_mig_rule;
#define GVB_MIG(rule, what) {GVB_MIG_##rule, what}
#define GVB_NO_MIG {GVB_MIG_NONE, NULL}

/* A metric's chart in the HTML report (src/report/charts.c); the report draws the
 * distributions first, then the value bars, then the time series. */
typedef enum {
    GVB_MCHART_NONE,
    GVB_MCHART_DISTRIBUTION, /* every system's samples */
    GVB_MCHART_VALUE_BARS,   /* every system's value */
    GVB_MCHART_SERIES,       /* the first series over time */
} gvb_metric_chart;
#define GVB_CHART(kind, caption) {GVB_MCHART_##kind, caption}
#define GVB_NO_CHART {GVB_MCHART_NONE, NULL}

enum {
    GVB_REQ_GPU = 1u << 0,       /* a CUDA GPU */
    GVB_REQ_MULTI_GPU = 1u << 1, /* two or more GPUs (but see the test modes below) */
    GVB_REQ_NCCL = 1u << 2,      /* NCCL at run time */
    GVB_REQ_CUBLAS = 1u << 3,    /* cuBLAS / cuBLASLt */
    GVB_REQ_CUPTI = 1u << 4,     /* hardware counters (falls back to a proxy) */
    GVB_REQ_NVML = 1u << 5,      /* the unhooked NVML monitor */
};

typedef enum {
#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl, uses, mig, chart, child) \
    GVB_M_##sym,
#include "core/catalog.def"
#undef GVB_METRIC
    GVB_METRIC_COUNT
} gvb_metric_id;

struct gvb_worker;
struct gvb_result;
struct gvb_series;
struct gvb_run;

/* How a metric is implemented. Only run is required. */
/* Test modes that run a multi-GPU metric's machinery on one GPU when set to 1
 * (docs/metrics/nccl.md, docs/metrics/llm.md); the runner then leaves the decision to it. */
#define GVB_ENV_NCCL_ALLOW_SINGLE "GVB_NCCL_ALLOW_SINGLE"
#define GVB_ENV_LLM_TP_SAME_GPU "GVB_LLM_TP_SAME_GPU"

typedef struct gvb_metric_impl {
    /* Runs inside every tenant process (worker side). Returns 0 on success; on SKIP/FAIL it
     * reports the status with gvb_report_status() and returns non-zero. */
    int (*run)(struct gvb_worker *w);
    /* Parent side, optional: combine the tenants' primary samples into the result (for
     * metrics whose primary value is a function of all tenants, e.g. a fairness index).
     * Default: every tenant's samples are the metric's samples. */
    void (*reduce)(struct gvb_result *r, const struct gvb_series *per_tenant, int tenants);
    /* Wall-clock limit for one tenant process, seconds (0: the runner's default). */
    double deadline_s;
    /* Run the ground-truth NVML monitor during this metric even with one tenant (it always
     * runs for GPU metrics with more than one); its series (monitor.*) are in the result
     * before reduce is called. */
    int monitor;
    /* 1: a tenant that dies of a signal the runner did not send (the metric kills or faults
     * tenants on purpose, IS-010) does not fail the metric; every tenant's end is recorded
     * as the text extra t<i>.exit ("exit 0", "signal 9 (Killed)") before reduce. */
    int tolerate_tenant_death;
    /* 1: the GPU's energy counter is read (through the run's GPU hold) around each replicate's
     * process group: energy_j (the workloads) */
    int energy;
    /* Parent side, optional: called once after every system has run, for a metric whose
     * value is defined against another system of the same invocation (OH-010: degradation
     * vs native). It may rewrite r's samples, value and status; stats are recomputed. */
    void (*cross_system)(struct gvb_result *r, const struct gvb_run *run);
    /* Cheap per-call latencies: the metric takes iterations_scale x --iterations samples
     * (0 or 1: as given). A sample of OH-001/002/003 costs well under a millisecond, and 100
     * of them left the median's 95 % CI wider than 2 % (docs/validation.md). A fixed
     * multiple, not a time budget, so every system is measured after the same history. */
    int iterations_scale;
    /* 1: measured as one process group whatever --replicates says, for a metric whose result
     * is a fixed set of scenarios (ERR-003); the report then claims no difference for it. */
    int one_replicate;
    /* 1: every timed round of the primary samples also times a host reference that no GPU
     * layer touches (raw getppid system calls), series GVB_HOST_REF_SERIES, so a wide CI can
     * be told apart from a host whose speed changed during the measurement
     * (docs/validation.md). */
    int host_ref;
    /* Required when the catalog names a child subcommand for the metric: main() calls it
     * with that subcommand's arguments (argv[0] is the subcommand) and the time main() began
     * (OH-004 measures a fresh process from it). Returns the process's exit status. */
    int (*child_main)(int argc, char **argv, double t_main);
} gvb_metric_impl;
#define GVB_HOST_REF_SERIES "host_syscall_ns"

typedef struct gvb_metric_def {
    gvb_metric_id id;
    const char *code;  /* "OH-001" */
    gvb_category category;
    const char *name;
    const char *unit;
    gvb_direction direction;
    int tenants;
    unsigned requires;
    const gvb_metric_impl *impl;
    unsigned uses; /* GVB_USE_* */
    struct {
        gvb_mig_rule rule;
        const char *what; /* the model's assumption, in its results' reason */
    } mig;
    struct {
        gvb_metric_chart kind;
        const char *caption;
    } chart;
    const char *child; /* hidden subcommand of its child processes, or NULL */
} gvb_metric_def;

typedef struct gvb_category_def {
    const char *name, *title;
    const char *doc; /* docs/metrics/<name>.md, or NULL */
} gvb_category_def;
extern const gvb_category_def gvb_categories[GVB_CAT_COUNT];

/* Use cases and the metrics that decide them (docs/report.md, "Recommendations"). */
typedef struct gvb_usecase {
    const char *id, *title;
    unsigned flag; /* GVB_USE_*: the metrics with it in their uses decide the use case */
} gvb_usecase;
extern const gvb_usecase gvb_usecases[GVB_UC_COUNT];
extern const size_t gvb_n_usecases;

/* The fallback for a metric whose issue has not landed: SKIP "not implemented". */
extern const gvb_metric_impl gvb_impl_unimplemented;
#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl, uses, mig, chart, child) \
    extern const gvb_metric_impl impl;
#include "core/catalog.def"
#undef GVB_METRIC

extern const gvb_metric_def gvb_catalog[GVB_METRIC_COUNT];

const gvb_metric_def *gvb_metric_find(const char *code);

/* The metrics that measure what a tenant is promised (the report's "Promised and delivered"):
 * usable memory against a memory limit, the achieved share against a compute limit. */
typedef enum { GVB_PROMISE_MEMORY, GVB_PROMISE_COMPUTE, GVB_PROMISE_COUNT } gvb_promise_kind;
const char *gvb_promise_metric(gvb_promise_kind k);
/* A compute share more than this above a compute limit: "compute limit not enforced" for
 * the activation proof's kernel (systems/proof_rules.c and the report's promises alike). */
#define GVB_PROOF_COMPUTE_SLACK_PP 10.0
/* The first metric whose child processes run the hidden subcommand cmd, or NULL. */
const gvb_metric_def *gvb_metric_child_find(const char *cmd);
const char *gvb_category_name(gvb_category c);
int gvb_category_parse(const char *name, gvb_category *out);
const char *gvb_direction_name(gvb_direction d);
int gvb_direction_parse(const char *name, gvb_direction *out);
int gvb_metric_hidden(const gvb_metric_def *m);
int gvb_metric_implemented(const gvb_metric_def *m);
/* "gpu,cublas" style description of a requirement mask into buf. */
const char *gvb_requires_str(unsigned req, char *buf, size_t len);
/* Number of tenant processes a metric runs with, given --processes. */
int gvb_metric_tenants(const gvb_metric_def *m, int processes);

#endif
