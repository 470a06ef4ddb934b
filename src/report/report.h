/* Writers and readers of results: JSON (the record of a run), CSV (one row per system x
 * metric), a text summary, and the comparison against a baseline run. Each format is one
 * writer over the same gvb_run (after nvbench's printers). Pure C. */
#ifndef GVB_REPORT_H
#define GVB_REPORT_H

#include <stdio.h>

#include "core/result.h"
#include "validate/validate.h"

/* Writes via path.tmp + rename, so a reader never sees a half-written file. */
int gvb_write_atomic(const char *path, int (*write_fn)(FILE *f, const gvb_run *run),
                     const gvb_run *run);
int gvb_write_file_atomic(const char *path, int (*write_fn)(FILE *f, const void *ctx),
                          const void *ctx);

int gvb_json_write(FILE *f, const gvb_run *run);
/* Reads a results file; returns 0, or -1 with a one-line reason. */
int gvb_json_read(const char *path, gvb_run *run, char *err, size_t errlen);

int gvb_csv_write(FILE *f, const gvb_run *run);
int gvb_text_write(FILE *f, const gvb_run *run);

/* Comparison of a run against a baseline run (--compare): each metric measured in both is
 * labelled SAME / BETTER / WORSE / UNSURE from the bootstrap CI of the ratio of medians
 * (two-stage over the replicates). BETTER or WORSE needs >= 2 replicates on both sides: with
 * one process group per run, run-to-run variation is unknown and the label is UNSURE. */
typedef enum { GVB_CMP_SAME, GVB_CMP_BETTER, GVB_CMP_WORSE, GVB_CMP_UNSURE } gvb_cmp_label;
const char *gvb_cmp_label_name(gvb_cmp_label l);
/* Ratio CI [lo, hi] of current/baseline medians -> label. SAME when the CI lies within
 * 1 +- tolerance (equivalent in practice); otherwise BETTER/WORSE when it excludes 1
 * (direction-aware); UNSURE when it includes 1 but is too wide to call, or is missing. */
#define GVB_CMP_TOLERANCE 0.05
gvb_cmp_label gvb_cmp_classify(double lo, double hi, gvb_direction dir, double tolerance);
/* One metric of the current run against its baseline result. */
typedef struct gvb_cmp_entry {
    int both_ok;  /* both OK; otherwise the label is UNSURE and the ratio NAN */
    int is_ratio; /* ratio current/baseline (else a difference, for values of both signs) */
    /* the effect by the claim rule (stats/claim.h, unpaired: two runs) and its interval at
     * GVB_CLAIM_LEVEL; mde: the interval's half-width (the smallest change it could show) */
    double ratio, lo, hi, mde;
    gvb_cmp_label label;
    /* set (static text) when no interval could be computed (one replicate, ...) */
    const char *why;
} gvb_cmp_entry;
void gvb_compare_one(const gvb_result *cur, const gvb_result *base, gvb_cmp_entry *e);
/* The baseline result for r: same system and metric, or the only one of that metric. */
const gvb_result *gvb_compare_match(const gvb_run *base, const gvb_result *r);
int gvb_compare_write(FILE *f, const gvb_run *current, const gvb_run *baseline);

/* Formats a number for humans with 4 significant digits ("12.35", "1.235e+06"). */
const char *gvb_fmt_num(double v, char *buf, size_t len);

/* The comparison report (report/model.h builds what it says; docs/report.md). */
typedef enum { GVB_REPORT_MD, GVB_REPORT_HTML, GVB_REPORT_TXT, GVB_REPORT_JSON } gvb_report_format;
struct gvb_model;
/* "md", "html", "txt", "json"; returns 0 or -1. */
int gvb_report_format_parse(const char *name, gvb_report_format *out);
/* The format a file name asks for by its extension; -1 if none. */
int gvb_report_format_from_path(const char *path, gvb_report_format *out);
int gvb_report_write(FILE *f, const struct gvb_model *m, gvb_report_format fmt);
int gvb_report_write_md(FILE *f, const struct gvb_model *m);
int gvb_report_write_html(FILE *f, const struct gvb_model *m);
int gvb_report_write_txt(FILE *f, const struct gvb_model *m);
int gvb_report_write_json(FILE *f, const struct gvb_model *m);
/* End of `run`: report.md and report.html in dir from the run (and its --compare baseline).
 * Returns 0, or -1 with a one-line reason. */
int gvb_report_write_run_files(const char *dir, const gvb_run *run, const gvb_run *baseline,
                               const char *baseline_path, char *err, size_t errlen);
/* `validate` output (report/validate_write.c): the pass/fail table and validate.json. */
typedef struct gvb_validate_report {
    const gvb_check *checks;
    int n_checks;
    const gvb_validate_case *cases;
    const int *exit_codes;        /* per case */
    const char *const *results;   /* per case: its results.json path, or NULL */
    int n_cases;
    const gvb_kv *gpu;            /* the probe's description of the GPU */
    const char *dir;              /* where validate wrote its runs */
    const char *started_at;
    double wall_s;
} gvb_validate_report;
int gvb_validate_write_text(FILE *f, const gvb_validate_report *r);
int gvb_validate_write_json(FILE *f, const gvb_validate_report *r);

/* `list` output */
int gvb_catalog_write_text(FILE *f, int all);
int gvb_catalog_write_json(FILE *f, int all);

#endif
