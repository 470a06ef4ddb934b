/* The metric catalog: identity, category, unit, direction, tenants and requirements of each
 * metric, expanded from catalog.def. Pure C; the implementations live in src/metrics/. */
#ifndef GVB_CATALOG_H
#define GVB_CATALOG_H

#include <stddef.h>

typedef enum {
    GVB_CAT_OVERHEAD,
    GVB_CAT_ISOLATION,
    GVB_CAT_LLM,
    GVB_CAT_BANDWIDTH,
    GVB_CAT_CACHE,
    GVB_CAT_PCIE,
    GVB_CAT_NCCL,
    GVB_CAT_SCHEDULING,
    GVB_CAT_FRAGMENTATION,
    GVB_CAT_ERROR,
    GVB_CAT_SELFTEST,
    GVB_CAT_COUNT
} gvb_category;

typedef enum { GVB_LOWER, GVB_HIGHER, GVB_PASS } gvb_direction;

/* tenants == GVB_TENANTS_N: as many tenant processes as --processes */
#define GVB_TENANTS_N 0

enum {
    GVB_REQ_GPU = 1u << 0,       /* a CUDA GPU */
    GVB_REQ_MULTI_GPU = 1u << 1, /* two or more GPUs (but see the test modes below) */
    GVB_REQ_NCCL = 1u << 2,      /* NCCL at run time */
    GVB_REQ_CUBLAS = 1u << 3,    /* cuBLAS / cuBLASLt */
    GVB_REQ_CUPTI = 1u << 4,     /* hardware counters (falls back to a proxy) */
    GVB_REQ_NVML = 1u << 5,      /* the unhooked NVML monitor */
};

typedef enum {
#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl) GVB_M_##sym,
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
} gvb_metric_def;

/* The fallback for a metric whose issue has not landed: SKIP "not implemented". */
extern const gvb_metric_impl gvb_impl_unimplemented;
#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl) extern const gvb_metric_impl impl;
#include "core/catalog.def"
#undef GVB_METRIC

extern const gvb_metric_def gvb_catalog[GVB_METRIC_COUNT];

const gvb_metric_def *gvb_metric_find(const char *code);
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
