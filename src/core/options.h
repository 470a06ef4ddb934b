/* Command-line options of `run` (and the older tool's flags, which keep their meaning),
 * size parsing and metric selection. Pure C: errors are returned as text, never printed. */
#ifndef GVB_OPTIONS_H
#define GVB_OPTIONS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/size.h"

#define GVB_MAX_SYSTEMS 16
#define GVB_MAX_PATTERNS 128
#define GVB_MAX_PRELOADS 8
#define GVB_MAX_EXTRA_ENV 32

/* --preload NAME=PATH and --env NAME:KEY=VALUE (for the preload system) */
typedef struct gvb_preload_spec {
    char name[48];
    char path[1024];
} gvb_preload_spec;

typedef struct gvb_env_spec {
    char system[48];
    char assignment[512]; /* KEY=VALUE */
} gvb_env_spec;

typedef struct gvb_options {
    char systems[GVB_MAX_SYSTEMS][48];
    int n_systems;
    char patterns[GVB_MAX_PATTERNS][32]; /* --metrics entries, globs allowed */
    int n_patterns;
    unsigned categories; /* bit per gvb_category from --category; 0 = none given */
    int iterations, warmup, processes;
    int iterations_set, warmup_set;
    /* times each (system, metric) is measured, each time in fresh tenant processes; the
     * --iterations are split over them (ceil(iterations / replicates) each) */
    int replicates, replicates_set;
    uint64_t memory_limit; /* bytes; 0 = not configured */
    int compute_limit;     /* percent; 0 = not configured */
    int auto_limits;       /* --limits auto: derive the unset ones from the GPU after the probe */
    char output[1024];
    uint64_t seed;
    int quick, verbose, json_only, allow_inert;
    char compare[1024];
    double deadline_s; /* per tenant process; 0 = each metric's default */
    double min_time_s;
    /* systems' own settings */
    char hami_lib[1024];
    char mig_profile[32];
    char calib[256]; /* --calib SPEC for the calib system, validated (calib/calib_account.h) */
    gvb_preload_spec preloads[GVB_MAX_PRELOADS];
    int n_preloads;
    gvb_env_spec extra_env[GVB_MAX_EXTRA_ENV];
    int n_extra_env;
    /* `workload`: the file holding the COMMAND and --metric-regex its tenants run
     * (workload/spec.h); "" for `run` */
    char workload[PATH_MAX];
    /* `workload --metric-name`: the unit its figure is shown in (tokens/s); "" the catalog's */
    char metric_name[16]; /* the size of a result's unit */
} gvb_options;

#define GVB_DEFAULT_ITERATIONS 100
#define GVB_DEFAULT_WARMUP 10
#define GVB_QUICK_ITERATIONS 30
#define GVB_QUICK_WARMUP 3
#define GVB_DEFAULT_PROCESSES 4
/* 3: the claim rule's t interval needs R - 1 >= 2 degrees of freedom to be of use (at 97.5 %,
 * t = 25.5 with 2 replicates, 6.2 with 3); docs/report.md, "Defaults". */
#define GVB_DEFAULT_REPLICATES 3
#define GVB_QUICK_REPLICATES 1
#define GVB_MAX_REPLICATES 64
#define GVB_DEFAULT_OUTPUT "results"
#define GVB_DEFAULT_SEED 20261124ull
/* --limits auto: each tenant gets 1 / GVB_AUTO_MEMORY_SHARE of the GPU's memory (the default
 * 4 tenants fill it) and GVB_AUTO_COMPUTE_PCT % compute */
#define GVB_AUTO_MEMORY_SHARE 4
#define GVB_AUTO_COMPUTE_PCT 50

void gvb_options_defaults(gvb_options *o);
/* Timed iterations of one replicate's worker: ceil(iterations / replicates). */
int gvb_replicate_iterations(const gvb_options *o);
/* The process groups one metric is measured in: --replicates, or 1 for a one_replicate
 * metric. */
int gvb_metric_replicates(const gvb_options *o, const gvb_metric_def *m);
/* Timed iterations of one replicate of m: ceil(--iterations x its iterations_scale /
 * gvb_metric_replicates). */
int gvb_metric_iterations(const gvb_options *o, const gvb_metric_def *m);

/* Parses run options (argv[0] is the subcommand or program name). Returns 0, or -1 with a
 * one-line message in err. */
int gvb_options_parse(int argc, char **argv, gvb_options *o, char *err, size_t errlen);


/* Files named by --hami-lib and --preload exist and are readable (paths with a '/'; a bare
 * library name is the loader's to search). Checked before any GPU work, so that a typo is a
 * usage error naming the file, not an INERT layer. Returns 0, or -1 with a one-line err. */
int gvb_options_check_files(const gvb_options *o, char *err, size_t errlen);

/* --limits auto, once the GPU's memory is known (gpu_memory_bytes; 0 = unknown): fills the
 * limits not given on the command line, memory a 1/GVB_AUTO_MEMORY_SHARE of the GPU's
 * (rounded down to MiB; left unset when unknown) and GVB_AUTO_COMPUTE_PCT % compute. Writes
 * one line saying what each tenant gets, and why, into line. */
void gvb_options_auto_limits(gvb_options *o, double gpu_memory_bytes, char *line, size_t len);

/* A whole decimal number in [lo, hi], nothing else on the string. Returns 0 or -1. */
int gvb_parse_long(const char *s, long lo, long hi, long *out);
/* A whole decimal number >= 0 that fits 64 bits, nothing else on the string. 0 or -1. */
int gvb_parse_u64(const char *s, uint64_t *out);
/* A finite number of seconds >= 0, nothing else on the string. 0 or -1. */
int gvb_parse_seconds(const char *s, double *out);

/* Checks a --metrics list as `run` would (IDs or globs of the catalog): 0, or -1 with err
 * naming the first unknown entry. `validate` checks its --aa-metrics so before any GPU work. */
int gvb_check_metric_list(const char *list, char *err, size_t errlen);

/* Metrics selected by --metrics (globs) and --category (union); neither: every metric not
 * hidden, in catalog order. Returns the count, or -1 with err naming an unknown entry. */
int gvb_select_metrics(const gvb_options *o, const gvb_metric_def **out, size_t max, char *err,
                       size_t errlen);

#endif
