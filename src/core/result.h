/* The data a run produces: results per (system, metric) with their samples, extras and
 * statistics, plus the run's metadata. Measurement produces these; only writers format them. */
#ifndef GVB_RESULT_H
#define GVB_RESULT_H

#include <stddef.h>

#include "core/catalog.h"
#include "stats/claim.h"
#include "stats/stats.h"

typedef enum { GVB_OK, GVB_SKIP, GVB_FAIL, GVB_INERT } gvb_status;
const char *gvb_status_name(gvb_status s);
int gvb_status_parse(const char *name, gvb_status *out);

/* A growable array of doubles with a name. */
typedef struct gvb_series {
    char *name;
    double *v;
    size_t n, cap;
    /* A named series' statistics as gvb_result_finish computed them (valid while stats_n
     * == n > 0): the results file is rewritten after every metric, and recomputing every
     * series' bootstrap each time made those writes grow to 0.7 s per metric. */
    gvb_stats stats;
    size_t stats_n;
} gvb_series;
int gvb_series_push(gvb_series *s, double x);
void gvb_series_free(gvb_series *s);

/* An ordered list of key -> number or text (host info, configuration, extras, proofs). */
typedef struct gvb_kv_item {
    char *key;
    int is_text;
    double num;
    char *text;
} gvb_kv_item;
typedef struct gvb_kv {
    gvb_kv_item *items;
    size_t n, cap;
} gvb_kv;
int gvb_kv_set_num(gvb_kv *kv, const char *key, double v);
int gvb_kv_set_text(gvb_kv *kv, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const gvb_kv_item *gvb_kv_get(const gvb_kv *kv, const char *key);
const char *gvb_kv_text(const gvb_kv *kv, const char *key); /* NULL if absent or numeric */
double gvb_kv_num(const gvb_kv *kv, const char *key);       /* NAN if absent or text */
void gvb_kv_free(gvb_kv *kv);


/* The most replicates a result may have (the runner's limit is 64; files read back with more
 * are treated as one group). */
#define GVB_RESULT_MAX_GROUPS 256

typedef struct gvb_result {
    /* identity, copied so that results read back from a file stand alone */
    char metric[16];
    char name[64];
    char unit[16];
    char category[16];
    gvb_direction direction;
    int tenants;
    char system[48];

    gvb_status status;
    char reason[512];

    int has_value;         /* primary value present */
    double value;          /* primary value (the samples' median unless the metric says) */
    gvb_series samples;    /* the primary samples, real ones, replicate after replicate */
    /* primary samples per replicate, in order (their sum is samples.n); empty: one group of
     * all samples (results from before replicates). Statistics and comparisons treat each
     * replicate (one run of the tenant processes) as a group: docs/results-format.md */
    gvb_series replicate_sizes;
    gvb_stats stats;       /* computed from samples */
    /* Read back from a file (gvb_result_describe): stats holds no CI, gvb_result_ci computes
     * it from the samples with this seed when a writer prints it. Reading 20,000 results
     * used to run 20,000 bootstraps before anything was checked or printed. */
    int ci_deferred;
    uint64_t ci_seed;
    gvb_kv extras;         /* named scalar or text extras */
    gvb_series *series;    /* named extra sample series */
    size_t n_series;
    double wall_s;
} gvb_result;

gvb_series *gvb_result_series(gvb_result *r, const char *name); /* find or add */
/* A named series of r, or NULL when absent or r is NULL (never creates it). */
const gvb_series *gvb_series_lookup(const gvb_result *r, const char *name);
/* The replicate sizes as counts for the grouped bootstrap (stats.h), in sizes[0..max).
 * Returns the number of groups written: 0 when none are recorded (one group of all samples)
 * or they do not add up to samples.n. */
size_t gvb_result_groups(const gvb_result *r, size_t *sizes, size_t max);
/* Replicates that produced samples (>= 1 when there are samples). */
size_t gvb_result_replicates(const gvb_result *r);
/* The primary value is the median of the samples (or no value is set). */
int gvb_result_value_is_median(const gvb_result *r);
/* The replicates' values, the unit of evidence of every claim (stats/claim.h), in replicate
 * order: the values the metric set per replicate (series replicate_values) when it sets its
 * primary value itself, else each replicate's median of its samples (one value of all samples
 * for files from before replicates). Returns how many were written (at most max); 0 when the
 * result is not OK or its primary value has no per-replicate values. */
size_t gvb_result_replicate_values(const gvb_result *r, double *out, size_t max);
/* The 95 % CI of the primary value into lo/hi: the bootstrap CI of the median when the value
 * is the median; -1 (no CI shown) when the value is the metric's own (the median's CI would
 * belong to another number). */
int gvb_result_value_ci(const gvb_result *r, double *lo, double *hi);
/* Why two results could not be compared by gvb_result_claim. */
typedef enum {
    GVB_CLAIM_OK = 0,
    GVB_CLAIM_NO_VALUES = -1,    /* a side's primary value is its own, with no per-replicate values */
    GVB_CLAIM_ONE_REPLICATE = -2, /* a side has fewer than 2 replicates */
    GVB_CLAIM_NO_INTERVAL = -3,  /* the rule gave no finite interval */
} gvb_claim_outcome;
/* The median of r's series `name` (a metric's one value a replicate) where it has one, else
 * its numeric extra `name` (the last replicate's), else NAN. */
double gvb_result_median_or_extra(const gvb_result *r, const char *name);
/* Why two results of `metric` could not be compared (outcome != GVB_CLAIM_OK), as the report
 * and --compare say it; for one replicate: the run chose one, or the metric runs one process
 * group by design. */
const char *gvb_claim_why(gvb_claim_outcome outcome, const char *metric);
/* a against b by the claim rule (stats/claim.h) on their replicates' values at
 * GVB_CLAIM_LEVEL, paired when `paired` and both have as many replicates. Both must be OK. */
gvb_claim_outcome gvb_result_claim(const gvb_result *a, const gvb_result *b, int paired,
                                   gvb_claim *c);
/* Plausibility of one result, as bits: a % of peak above 100 in an extra, a negative time,
 * >= 10 identical samples from a measured system without the extra "deterministic". A result
 * with any bit set is suspect and kept out of every claim (report, --compare, validate). */
enum {
    GVB_IMPLAUSIBLE_ABOVE_PEAK = 1,
    GVB_IMPLAUSIBLE_NEGATIVE_TIME = 2,
    GVB_IMPLAUSIBLE_IDENTICAL = 4,
};
unsigned gvb_result_implausible(const gvb_result *r, int is_model);
int gvb_unit_is_time(const char *unit);
int gvb_key_names_peak(const char *key); /* an extra's name that says "% of peak" */
void gvb_result_free(gvb_result *r);

/* One system under test as it was configured and proven in this run. */
typedef struct gvb_system_record {
    char name[48];
    char kind[32];
    gvb_kv config;
    gvb_kv activation; /* proof of activation, issue-specific keys */
} gvb_system_record;

typedef struct gvb_run {
    int schema_version;
    char tool_version[64];
    char started_at[40];
    char finished_at[40];
    double duration_s;
    char **argv;
    int argc;
    gvb_kv host;
    gvb_kv gpu;
    gvb_kv config;
    gvb_system_record *systems;
    size_t n_systems;
    gvb_result *results;
    size_t n_results, cap_results;
} gvb_run;

#define GVB_SCHEMA_VERSION 1

/* The baseline every layer is compared with is a kind, never a name: native@b is native.
 * The one test of it (runner, metrics, report). */
#define GVB_BASELINE_KIND "native"
int gvb_kind_is_baseline(const char *kind);

/* config.system_order of a run whose systems' replicates were interleaved round by round
 * (runner.h): replicate k of every system ran in round k, so the claim rule may pair them. */
#define GVB_ORDER_INTERLEAVED "interleaved"
/* run's systems were interleaved (config.system_order): its replicates may be paired. */
int gvb_run_interleaved(const gvb_run *run);

gvb_result *gvb_run_add_result(gvb_run *run);
gvb_system_record *gvb_run_add_system(gvb_run *run, const char *name, const char *kind);
const gvb_result *gvb_run_find(const gvb_run *run, const char *system, const char *metric);
/* The result of metric on the run's first system of the baseline kind (native, native@a). */
const gvb_result *gvb_run_find_baseline(const gvb_run *run, const char *metric);
void gvb_run_free(gvb_run *run);

/* Fill stats and, unless the metric set one, the primary value (median) from the samples. */
void gvb_result_finish(gvb_result *r, unsigned long long seed);
/* The same for a result read back from a file, without any bootstrap: the CI of the median
 * is deferred to gvb_result_ci, the series' statistics to their writer. */
void gvb_result_describe(gvb_result *r, unsigned long long seed);
/* The bootstrap 95 % CI of the median, NAN when there is none: stats' own, or for a result
 * read back, computed now (the interval gvb_result_finish would have stored). */
void gvb_result_ci(const gvb_result *r, double *lo, double *hi);
/* The run seed in a configuration (config.seed: the text of a whole number, as written, or a
 * number): 0 and *seed when it is a whole number 0..2^64-1 or absent (*seed = 0), else -1. */
int gvb_config_seed(const gvb_kv *config, uint64_t *seed);

#endif
