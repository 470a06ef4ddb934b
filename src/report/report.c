/* The comparison report's entry points: format names, rendering a model in one format, and
 * the files `run` writes when it measured two or more systems. */
#include <stdio.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"
#include "report/report.h"

static const char *const format_names[] = {"md", "html", "txt", "json"};

int gvb_report_format_parse(const char *name, gvb_report_format *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (gvb_report_format)i;
            return 0;
        }
    if (strcmp(name, "markdown") == 0 || strcmp(name, "text") == 0) {
        *out = name[0] == 'm' ? GVB_REPORT_MD : GVB_REPORT_TXT;
        return 0;
    }
    return -1;
}

int gvb_report_format_from_path(const char *path, gvb_report_format *out)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return -1;
    if (strcmp(dot + 1, "htm") == 0) {
        *out = GVB_REPORT_HTML;
        return 0;
    }
    return gvb_report_format_parse(dot + 1, out);
}

/* Renders the document built from the model with one of the doc renderers. */
static int via_doc(FILE *f, const gvb_model *m, gvb_report_format fmt)
{
    gvb_doc d;
    int rc = gvb_report_doc(&d, m);
    if (rc == 0)
        rc = fmt == GVB_REPORT_MD     ? gvb_doc_write_md(f, &d)
             : fmt == GVB_REPORT_HTML ? gvb_doc_write_html(f, &d, m)
                                      : gvb_doc_write_txt(f, &d);
    gvb_doc_free(&d);
    return rc;
}

int gvb_report_write_md(FILE *f, const gvb_model *m) { return via_doc(f, m, GVB_REPORT_MD); }
int gvb_report_write_html(FILE *f, const gvb_model *m) { return via_doc(f, m, GVB_REPORT_HTML); }
int gvb_report_write_txt(FILE *f, const gvb_model *m) { return via_doc(f, m, GVB_REPORT_TXT); }

int gvb_report_write(FILE *f, const gvb_model *m, gvb_report_format fmt)
{
    return fmt == GVB_REPORT_JSON ? gvb_report_write_json(f, m) : via_doc(f, m, fmt);
}

static int write_md(FILE *f, const void *m) { return gvb_report_write_md(f, m); }
static int write_html(FILE *f, const void *m) { return gvb_report_write_html(f, m); }

int gvb_report_write_run_files(const char *dir, const gvb_run *run, const gvb_run *baseline,
                               const char *baseline_path, char *err, size_t errlen)
{
    gvb_model m;
    const gvb_run *runs[1] = {run};
    const char *paths[1] = {"results.json"};
    if (gvb_model_build(&m, runs, paths, 1, baseline, baseline_path, err, errlen) != 0)
        return -1;
    static const struct { const char *file; int (*fn)(FILE *, const void *); } out[] = {
        {"report.md", write_md},
        {"report.html", write_html},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof out / sizeof out[0] && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, out[i].file);
        if (gvb_write_file_atomic(path, out[i].fn, &m) != 0) {
            snprintf(err, errlen, "cannot write %s", path);
            rc = -1;
        }
    }
    gvb_model_free(&m);
    return rc;
}
