/* `gpu-virt-bench validate`: the suite checks that it measures what it claims (after nvbench
 * testing its timing with a kernel of known duration and fio's null engine). It runs
 * ordinary `run`s of native and of the calibration layer (systems/calib.c) with known
 * effects, reads their results back and checks that the metrics recover the effects, that an
 * A/A run claims no difference, that no throughput exceeds the device's peak, and that an
 * inert layer is caught. docs/validation.md lists every check and tolerance.
 *
 * This header: the plan (which runs, with which arguments; plan.c) and the checks, as pure
 * functions over results (checks.c; unit-tested with fake runs), plus spawning one child run
 * (plan.c). Printing is in report/validate_write.c; the subcommand in main.c. Pure C. A
 * command of its own, so it lives outside core/. */
#ifndef GVB_VALIDATE_VALIDATE_H
#define GVB_VALIDATE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "core/result.h"

/* ---- options ------------------------------------------------------------------------------ */

typedef struct gvb_validate_opts {
    char output[1024];       /* results go to output/<timestamp>/ */
    uint64_t seed;
    char aa_metrics[512];    /* A/A metric list; "" = every implemented GPU metric */
    char cases[256];         /* --cases: run only these (comma list of case names) */
} gvb_validate_opts;

#define GVB_VALIDATE_DEFAULT_OUTPUT "results/validate"

/* Parses `validate` options (argv[0] is "validate"). Returns 0, or -1 with a one-line err. */
int gvb_validate_parse(int argc, char **argv, gvb_validate_opts *o, char *err, size_t errlen);

/* ---- plan --------------------------------------------------------------------------------- */

typedef enum {
    GVB_CASE_DELAY, /* native vs calib launch_us/alloc_us: OH-001, OH-002 */
    GVB_CASE_MEM,   /* calib mem=: IS-001 */
    GVB_CASE_DUTY,  /* calib duty=: IS-003 */
    GVB_CASE_AA,    /* native@a.k vs native@b.k */
    GVB_CASE_INERT, /* calib that cannot be active: must be INERT, exit 5 */
    GVB_CASE_PEAK,  /* native throughput metrics with a % of peak, for the PEAK row */
} gvb_case_kind;

/* Process replicates. A metric's median moves from one fresh process to the next far more
 * than its within-process CI says (H100, 100 iterations: OH-001 9.4-12.1 us, OH-002 54-95 us
 * over 8 processes, CI half-widths mostly 0.5-2 %). Effects are therefore recovered as the
 * difference of the medians of per-process medians over R processes per system, interleaved
 * in one run (native@1,calib@1,native@2,...). */
#define GVB_VALIDATE_REPLICATES 6
#define GVB_VALIDATE_DELAY_ITERATIONS 10

/* Throughput metrics that report *pct_of_peak* extras (LLM attention, GEMM precisions). */
#define GVB_VALIDATE_PEAK_METRICS "LLM-001,LLM-008"

#define GVB_VALIDATE_MAX_ARGS 24
#define GVB_VALIDATE_MAX_CASES 16

typedef struct gvb_validate_case {
    char name[32]; /* also its directory */
    gvb_case_kind kind;
    double launch_us, alloc_us; /* DELAY */
    uint64_t mem;               /* MEM */
    int duty;                   /* DUTY */
    char args[GVB_VALIDATE_MAX_ARGS][768]; /* arguments after `run` (without --output) */
    int n_args;
    int bad_lib;          /* GVB_CALIB_LIB points the child at a path with no library */
    char calib_break[16]; /* GVB_CALIB_BREAK for the child ("" = inherit) */
    int skip;             /* not run; its checks SKIP with skip_reason */
    char skip_reason[128];
} gvb_validate_case;

/* The runs validate makes. Returns the number of cases, or -1 with err when --cases names
 * a case that does not exist. Cases not selected by --cases are skipped, saying so. */
int gvb_validate_plan(const gvb_validate_opts *o, gvb_validate_case *cases, int max, char *err,
                      size_t errlen);

/* ---- checks ------------------------------------------------------------------------------- */

typedef enum { GVB_CHECK_PASS, GVB_CHECK_FAIL, GVB_CHECK_SKIP } gvb_check_status;
const char *gvb_check_status_name(gvb_check_status s);

typedef struct gvb_check {
    char id[48];    /* e.g. "OH-001 launch_us=20" */
    char what[256]; /* what is compared */
    char unit[16];
    double expected, measured, tolerance; /* NAN where not applicable */
    char op[4];     /* how measured relates to expected: "~" within tolerance, "<=", ">=", "=" */
    gvb_check_status status;
    char detail[512];
} gvb_check;

/* A fresh check: ids and texts set, numbers NAN, status FAIL until a verdict. */
void gvb_check_init(gvb_check *c, const char *id, const char *what, const char *unit,
                    const char *op);
/* The check's status and its detail line. */
void gvb_check_verdict(gvb_check *c, gvb_check_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tolerance of a recovered delay: max(10 %, 1 us). */
double gvb_delay_tolerance_us(double injected_us);

/* Is system a member of group: the group's name itself, or the name followed by '@' or '.'
 * and a replicate number ("native" holds native@3; "native@a" holds native@a.2)? */
int gvb_system_in_group(const char *system, const char *group);

/* The injected delay against layer - base, each side the median of its processes' medians of
 * metric (series NULL = the primary samples). Missing results SKIP; one not OK FAILs. */
void gvb_check_delay(const gvb_run *run, const char *base, const char *layer, const char *metric,
                     const char *series, double injected_us, gvb_check *c);
/* IS-001 usable memory under calib mem=cap: cap - context charge (from the layer's own
 * activation proof) within 1 %. */
void gvb_check_mem(const gvb_run *run, const char *system, uint64_t cap, gvb_check *c);
/* IS-003 achieved share under calib duty=d: within 5 percentage points of d. */
void gvb_check_duty(const gvb_run *run, const char *system, int duty, gvb_check *c);
/* A/A by the report's rule (stats/claim.h on the replicates' values, paired when the run
 * interleaved its systems): of the metrics a and b both measured OK in >= 2 replicates
 * (pass/fail ones aside), the share claimed different must be <= GVB_AA_MAX_CLAIM_PCT. */
#define GVB_AA_MAX_CLAIM_PCT 5.0
void gvb_check_aa(const gvb_run *run, const char *a, const char *b, gvb_check *c);
/* The precision the defaults must reach: the median's 95 % CI half-width, % of the median,
 * on the H100 (issue 6), for the per-call latency metrics, checked on the A/A's processes. */
#define GVB_CI_MAX_HALF_PCT 2.0
#define GVB_VALIDATE_CI_METRICS {"OH-001", "OH-002", "OH-003", "OH-005"}
/* (ci_hi - ci_lo) / 2 / |median| x 100, or NAN without a CI. */
double gvb_ci_half_width_pct(const gvb_stats *s);
/* A process's CI is wide because of its host when its host reference (GVB_HOST_REF_SERIES,
 * one sample per primary sample) drifted by more than GVB_HOST_DRIFT_MAX_PCT over the
 * measurement and the primary samples moved with it: the Pearson correlation of the two
 * series' GVB_HOST_DRIFT_BLOCKS block medians >= GVB_HOST_CORR_MIN, a positive correlation
 * at one-sided p < 0.01 for 10 blocks (t > 2.896 with 8 degrees of freedom: r > 0.7154)
 * (gvb_block_drift_pct, gvb_block_corr; docs/validation.md). */
#define GVB_HOST_DRIFT_MAX_PCT 10.0
#define GVB_HOST_CORR_MIN 0.72
#define GVB_HOST_DRIFT_BLOCKS 10
/* Every result of metric in groups a and b has a CI half-width <= GVB_CI_MAX_HALF_PCT;
 * measured = the widest. A process above it FAILs the row unless its width is its host's
 * (above); when every process above it is, the row SKIPs: the host changed speed under the
 * measurement, and the precision is not shown either way. */
void gvb_check_ci_width(const gvb_run *run, const char *a, const char *b, const char *metric,
                        gvb_check *c);
/* No extra named *pct_of_peak* above 100 in any of the runs (NULL entries are skipped). */
void gvb_check_peak(const gvb_run *const *runs, size_t n, gvb_check *c);
/* The calib system could not be active: every result of it INERT and the run exited 5. */
void gvb_check_inert(const gvb_run *run, int exit_code, const char *system, const char *how,
                     gvb_check *c);

/* What one case's child run left: its exit status and its results (NULL if unreadable). */
typedef struct gvb_case_outcome {
    int exit_code;
    const gvb_run *run;
    char why[256]; /* why run is NULL */
} gvb_case_outcome;

/* All checks of the plan, given each case's outcome. Returns the number written. */
int gvb_validate_evaluate(const gvb_validate_case *cases, const gvb_case_outcome *out, int n,
                          gvb_check *checks, int max);

/* 0 if no check FAILed, else the number of failures. */
int gvb_validate_failures(const gvb_check *checks, int n);

/* ---- running a case ----------------------------------------------------------------------- */

/* Runs `self run <args> --output dir` with the case's environment (a bad_lib case gets
 * GVB_CALIB_LIB=dir/no-such-dir/libgvb-calib.so), stdout and stderr to log_path, and waits.
 * Returns its exit status (128 + signal if killed), or -1. */
int gvb_validate_spawn(const char *self, const gvb_validate_case *c, const char *dir,
                       const char *log_path, char *const *base_env);

#endif
