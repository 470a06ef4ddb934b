/* The comparison model: everything the comparison report says, computed once from one or more
 * results files (after nvbench's summaries): systems and their labels, per-metric cells with
 * the difference against native and its bootstrap CI, the best system where the data supports
 * one, per-category and per-system summaries, use-case recommendations by documented rules,
 * validity findings, an optional comparison with a baseline run, and what each system with a
 * limit was promised and delivered. Writers (Markdown, HTML, text, JSON) only format it. Pure
 * C; the rules are documented in docs/report.md. */
#ifndef GVB_REPORT_MODEL_H
#define GVB_REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "report/report.h"

#define GVB_MODEL_MAX_SYSTEMS 32

/* ---- significance ------------------------------------------------------------------------ */

typedef enum {
    GVB_EFF_UNTESTED, /* no CI could be computed (why says which reason) */
    GVB_EFF_SAME,     /* the 95 % CI contains the null: no significant difference */
    GVB_EFF_BETTER,   /* the CI excludes the null, in the metric's better direction */
    GVB_EFF_WORSE,
} gvb_eff_verdict;

/* One system against another on one metric, by the claim rule (stats/claim.h) on the
 * replicates' values: with all of them positive the estimate is the ratio a/b (null 1),
 * otherwise the difference a - b (null 0); the interval is at GVB_CLAIM_LEVEL. */
typedef struct gvb_effect {
    gvb_eff_verdict verdict;
    int is_ratio;
    int paired;     /* replicates paired by round (one interleaved run) */
    size_t n_a, n_b; /* replicates compared */
    double est, lo, hi;
    /* the smallest effect this comparison could have claimed (the interval's half-width: a
     * fraction for a ratio, the metric's unit for a difference); "no significant difference"
     * reads "no difference larger than this" */
    double mde;
    const char *why; /* static text, set when UNTESTED */
} gvb_effect;

/* Effect of result a against reference b (same metric); paired when both come from one run
 * with interleaved systems. UNTESTED when either has fewer than 2 replicates: one process
 * group per system says nothing about the variation between processes (docs/report.md). */
void gvb_effect_compute(const gvb_result *a, const gvb_result *b, int paired, gvb_effect *e);
/* Outcome of a pass/fail metric: 1 pass (value 1), 0 fails a check, -1 not measured. */
int gvb_pass_outcome(const gvb_result *r);
/* Relative size of a significant effect for ranking (|log ratio|, or |diff| / |b's median|). */
double gvb_effect_size(const gvb_effect *e, const gvb_result *b);

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct gvb_msys {
    char label[96]; /* every table names it so: "hami", "native@2", "mig-ideal (model)" */
    char name[48];  /* as in the results file */
    char kind[32];
    int file;       /* index of the input it came from */
    const gvb_system_record *rec; /* NULL when the file had no systems[] entry for it */
    int is_native, is_model, is_inert;
    int baseline;   /* the native it is compared with (same file when there is one); -1 none */
    /* summary against its baseline, over every metric both measured OK */
    int better, worse, same, untested;
    int top_metric; /* metric index of its largest significant difference, -1 none */
} gvb_msys;

/* A measurement (not a model, not an INERT layer): the only systems claims are made about. */
int gvb_msys_claimable(const gvb_msys *s);

typedef struct gvb_mcell {
    const gvb_result *r; /* NULL: not in the results */
    gvb_effect vs_base;  /* against its baseline native; UNTESTED for native itself and for
                            systems that are not claimable */
    int suspect;         /* failed a plausibility check (above peak, identical samples):
                            shown, but never part of a claim */
} gvb_mcell;

typedef enum {
    GVB_BEST_NONE,     /* fewer than two claimable systems measured it */
    GVB_BEST_CLAIMED,  /* best is significantly better than every other claimable system */
    GVB_BEST_SAME,     /* the leader is not significantly different from another system */
    GVB_BEST_UNTESTED, /* the leader could not be tested against another system */
    GVB_BEST_PASS,     /* pass/fail metric: decided by the outcome, not by a test */
} gvb_best_kind;

typedef struct gvb_mpick {
    gvb_best_kind kind;
    int best, runner_up; /* system indices, -1 */
    gvb_effect vs_runner_up; /* best against the runner-up (CLAIMED: BETTER) */
    int tied;            /* SAME: a system not distinguishable from the leader */
    gvb_effect vs_tied;  /* the leader against it */
} gvb_mpick;

typedef struct gvb_mmetric {
    char id[16], name[64], unit[16], category[16];
    gvb_direction direction;
    gvb_mcell *cells;    /* one per system */
    gvb_mpick best;      /* among all claimable systems, native included */
    gvb_mpick layer_best; /* among claimable sharing layers (native excluded) */
} gvb_mmetric;

typedef struct gvb_mcat {
    char name[16];
    size_t first, count; /* metrics of this category: metrics[first .. first+count) */
    int top_sys, top_metric; /* largest significant difference vs native, -1 none */
    int compared;        /* (system, metric) pairs tested against native */
    int significant;     /* of which significant */
    int wins[GVB_MODEL_MAX_SYSTEMS]; /* metrics where the system is the claimed best */
    int no_winner;       /* metrics with >= 2 claimable systems and no claimed best */
} gvb_mcat;

/* Use cases: gvb_usecases in the catalog (core/usecases.def). */

typedef enum {
    GVB_REC_NO_LAYER,  /* no claimable sharing layer measured */
    GVB_REC_ONE_LAYER, /* one layer: stated against native instead of a choice */
    GVB_REC_NO_DATA,   /* no metric of the use case measured by two layers */
    GVB_REC_PICK,      /* one layer wins, no other wins anything, it fails no check */
    GVB_REC_SPLIT,     /* several layers win different metrics, or the winner fails a check */
    GVB_REC_NONE_SIGNIFICANT,
} gvb_rec_outcome;

typedef struct gvb_mrec {
    const gvb_usecase *uc;
    gvb_rec_outcome outcome;
    int pick;     /* PICK: the system; ONE_LAYER: the layer */
    int used;     /* metrics of the use case that entered the rule */
    int wins[GVB_MODEL_MAX_SYSTEMS];
    int fails[GVB_MODEL_MAX_SYSTEMS]; /* pass/fail checks failed within the use case */
    /* ONE_LAYER: the layer against native on the use case's metrics */
    int better, worse, same;
} gvb_mrec;

typedef enum {
    GVB_WARN_ABOVE_PEAK,      /* an extra "...pct_of_peak..." above 100 */
    GVB_WARN_NEGATIVE_TIME,   /* a time metric with a negative median */
    GVB_WARN_IDENTICAL,       /* >= 10 samples, all the same value */
    GVB_WARN_FEW_SAMPLES,     /* fewer than 10 samples: wide CIs, claims unlikely */
    GVB_WARN_DUPLICATE,       /* the same (system, metric) twice in one file: first kept */
    GVB_WARN_INPUTS_DIFFER,   /* inputs differ in driver, CUDA or iterations */
    GVB_WARN_UNIT_DIFFERS,    /* a result's unit is not its metric's (another file's) */
} gvb_warn_kind;

typedef struct gvb_mwarn {
    gvb_warn_kind kind;
    int sys;              /* -1: not about one system */
    const gvb_result *r;  /* NULL: not about one result */
    char key[96];         /* the extra's name, or what differs */
    double value;
} gvb_mwarn;

typedef struct gvb_mcmp {
    int sys;               /* current system */
    int metric;
    const gvb_result *base;
    gvb_cmp_entry e;
} gvb_mcmp;

/* ---- promised and delivered (docs/report.md, "Promised and delivered") ----------------- */

typedef enum {
    GVB_KEPT_UNKNOWN, /* nothing to compare (not measured, no native value, no share recorded) */
    GVB_KEPT_LESS,    /* less than promised: the interval (or the value, or every shape) below */
    GVB_KEPT_AS,      /* as promised: the interval holds the promise (or, with no interval, the
                         value is within GVB_PROMISE_BAND_PP of it) */
    GVB_KEPT_MORE,    /* more than promised */
    GVB_KEPT_MIXED,   /* shapes on both sides of the promise (a range over kernel shapes) */
} gvb_kept;

/* What one promise delivered, in % (of the promised memory; of the GPU for compute; of the
 * native's value for a throughput). lo/hi: the claim rule's interval at GVB_CLAIM_LEVEL
 * (interval = 1), or the range over kernel shapes (shapes >= 2); NAN when neither exists and
 * `kept` was decided by the value alone. */
/* Without an interval, a value within this many percentage points of the promise is "as
 * promised" (the 5 pp the IS-003 verdict of issue 18 uses for "holds"). */
#define GVB_PROMISE_BAND_PP 5.0

typedef struct gvb_mdeliv {
    int metric;       /* metric index it was read from, -1 none */
    gvb_kept kept;
    double est, lo, hi;
    int interval;     /* lo/hi are the claim rule's interval */
    const char *why;  /* why kept is UNKNOWN, or why there is no interval: static, or why_text */
    char why_text[160];
} gvb_mdeliv;

/* One system with a limit (measured, not native, not a model, not INERT). Promises are read
 * from the results: the limit the promise metric itself recorded (gvb_promise_metric: memory's
 * limit_bytes, compute's target_pct), else the system's own (systems[].config), else the
 * run's config. */
typedef struct gvb_mpromise {
    int sys;
    double memory_bytes;        /* promised per tenant; 0 none */
    char memory_from[64];       /* where it was read ("" none) */
    double compute_pct;         /* promised share of the GPU; 0 none */
    char compute_from[64];
    gvb_mdeliv memory;          /* IS-001: usable memory as % of the promise */
    double usable_bytes;        /* NAN when not known */
    gvb_mdeliv compute;         /* IS-003: achieved share of the GPU, % */
    int shapes;                 /* kernel shapes the share covers (0: none recorded) */
    char worst_shape[48];       /* the shape farthest from the promise ("" none) */
    char unenforced[256];       /* shapes more than GVB_PROOF_COMPUTE_SLACK_PP above the
                                 * promise, ", " between them ("" none) */
    double worst_pp;            /* its distance from the promise, percentage points */
    const char *compute_kernel; /* IS-003's own text naming its kernel or method, or NULL */
    /* the activation proof's saturating kernel: its rate as % of native (NAN: not recorded),
     * and whether that exceeds the promise by more than 10 pp (GVB_PROOF_COMPUTE_SLACK_PP) */
    double proof_share_pct;
    int proof_not_enforced;
    gvb_mdeliv *tput;           /* throughput metrics under the compute limit: % of native */
    size_t n_tput;
} gvb_mpromise;

/* A metric whose value is a throughput (higher is better, a rate: FLOPS, or any unit per
 * second such as GB/s, tokens/s, allocs/s): under a compute limit it is compared with the
 * promised share. */
int gvb_metric_is_throughput(const char *unit, gvb_direction direction);


typedef struct gvb_minput {
    const gvb_run *run;
    char path[512];
} gvb_minput;

typedef struct gvb_model {
    gvb_minput *inputs;
    size_t n_inputs;
    const gvb_run *baseline; /* --compare, or NULL */
    char baseline_path[512];
    uint64_t seed;
    gvb_msys systems[GVB_MODEL_MAX_SYSTEMS];
    int n_systems;
    gvb_mmetric *metrics;
    size_t n_metrics;
    gvb_mcat *cats;
    size_t n_cats;
    gvb_mrec *recs;      /* one per use case */
    gvb_mwarn *warns;
    size_t n_warns, cap_warns;
    gvb_mcmp *cmps;
    size_t n_cmps;
    gvb_mpromise *promises; /* one per system with a limit, in system order */
    size_t n_promises;
    int status_count[4]; /* OK, SKIP, FAIL, INERT over every result */
    int metrics_ok;      /* distinct metrics measured OK by at least one system */
    int catalog_visible; /* metrics in the catalog (self-tests excluded) */
} gvb_model;

/* Whether n runs may be combined: they come from the same GPU model (gpu.name). Returns 0, or
 * -1 with a one-line reason naming both models and files. Every `report` format checks it
 * (gvb_model_build does), CSV included. */
int gvb_runs_same_gpu(const gvb_run *const *runs, const char *const *paths, size_t n, char *err,
                      size_t errlen);
/* Builds the model from n runs (paths name them in the report) and an optional baseline.
 * The runs must stay alive while the model is used. Returns 0, or -1 with a one-line reason
 * (mixed GPU models, no results, too many systems, out of memory). */
int gvb_model_build(gvb_model *m, const gvb_run *const *runs, const char *const *paths,
                    size_t n, const gvb_run *baseline, const char *baseline_path, char *err,
                    size_t errlen);
void gvb_model_free(gvb_model *m);

/* Index of a metric by ID, or -1. */
int gvb_model_metric(const gvb_model *m, const char *id);
/* Systems a and b were measured in one run with their replicates interleaved round by round:
 * their comparison pairs replicate k with replicate k. */
int gvb_model_paired(const gvb_model *m, int a, int b);
/* Display name of a category ("overhead" -> "Overhead", "llm" -> "LLM"). */
const char *gvb_category_title(const char *category);

/* For the model's own files (model.c, model_promises.c). */
const gvb_result *gvb_model_ok_result(const gvb_mmetric *mm, int s);    /* OK, else NULL */
const gvb_result *gvb_model_claim_result(const gvb_mmetric *mm, int s); /* OK, not suspect */
int gvb_model_promises(gvb_model *m); /* fills m->promises; -1 out of memory */

#endif
