/* The report's back sections (baseline, validity, charts, methodology): how this run was made
 * and how far to trust it, worded from the model like the rest (see sections.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/doc.h"
#include "report/model.h"
#include "report/sections.h"
#include "stats/claim.h"

/* ---- baseline --------------------------------------------------------------------------------- */

void gvb_sec_baseline(gvb_doc *d, const gvb_model *m)
{
    if (!m->baseline)
        return;
    gvb_doc_heading(d, 2, "baseline", "Against the baseline run");
    int count[4] = {0};
    for (size_t i = 0; i < m->n_cmps; i++)
        count[m->cmps[i].e.label]++;
    gvb_doc_para(d,
                 "Each metric measured in both this report and %s (started %s), labelled from the "
                 "%g %% Welch t CI of the ratio of the replicates' values (current / baseline; "
                 "two runs are not paired): SAME when the CI lies within 1 +- %.0f %%, otherwise "
                 "BETTER or WORSE when it excludes 1 (by the metric's direction), UNSURE when it "
                 "is too wide to call or missing, or a run has one replicate (its process to "
                 "process variation is unknown). %d SAME, %d BETTER, %d WORSE, %d UNSURE.",
                 m->baseline_path, m->baseline->started_at, GVB_CLAIM_LEVEL * 100,
                 GVB_CMP_TOLERANCE * 100,
                 count[GVB_CMP_SAME], count[GVB_CMP_BETTER], count[GVB_CMP_WORSE],
                 count[GVB_CMP_UNSURE]);
    if (!m->n_cmps)
        return;
    gvb_doc_table(d, 7);
    gvb_doc_cell(d, 0, "Metric");
    gvb_doc_cell(d, 0, "System");
    gvb_doc_cell(d, 0, "Baseline system");
    gvb_doc_cell(d, GVB_CELL_NUM, "Median");
    gvb_doc_cell(d, GVB_CELL_NUM, "Baseline median");
    gvb_doc_cell(d, 0, "Ratio (%g %% CI)", GVB_CLAIM_LEVEL * 100);
    gvb_doc_cell(d, 0, "Label");
    for (size_t i = 0; i < m->n_cmps; i++) {
        const gvb_mcmp *c = &m->cmps[i];
        const gvb_mmetric *mm = &m->metrics[c->metric];
        const gvb_result *r = mm->cells[c->sys].r;
        gvb_nbuf a, b, x, y, z;
        gvb_doc_cell(d, 0, "%s %s (%s)", mm->id, mm->name, mm->unit);
        gvb_doc_cell(d, 0, "%s", m->systems[c->sys].label);
        gvb_doc_cell(d, 0, "%s", c->base->system);
        if (!c->e.both_ok) {
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_status_name(r->status));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_status_name(c->base->status));
            gvb_doc_cell(d, 0, "-");
        } else {
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->value, a));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(c->base->value, b));
            gvb_doc_cell(d, 0, "%s (%s to %s)", gvb_sec_num(c->e.ratio, x), gvb_sec_num(c->e.lo, y),
                         gvb_sec_num(c->e.hi, z));
        }
        gvb_doc_cell(d, c->e.label == GVB_CMP_WORSE ? GVB_CELL_STRONG : 0, "%s%s%s",
                     gvb_cmp_label_name(c->e.label), c->e.why ? ": " : "",
                     c->e.why ? c->e.why : "");
    }
}

/* ---- validity ------------------------------------------------------------------------------- */

static int ci_contains(const char *hay, const char *needle)
{
    for (; *hay; hay++) {
        size_t i = 0;
        while (needle[i] && hay[i] &&
               (hay[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (!needle[i])
            return 1;
    }
    return 0;
}

static void warn_text(const gvb_model *m, const gvb_mwarn *w, char *buf, size_t len)
{
    const char *who = w->sys >= 0 ? m->systems[w->sys].label : "";
    const char *id = w->r ? w->r->metric : "";
    gvb_nbuf v;
    switch (w->kind) {
    case GVB_WARN_ABOVE_PEAK:
        snprintf(buf, len, "%s %s: %s = %s, above 100 %% of the device's peak: a bug, not a "
                           "result; left out of every claim",
                 who, id, w->key, gvb_sec_num(w->value, v));
        break;
    case GVB_WARN_NEGATIVE_TIME:
        snprintf(buf, len, "%s %s: negative median time (%s %s); left out of every claim", who, id,
                 gvb_sec_num(w->value, v),
                 w->r->unit);
        break;
    case GVB_WARN_IDENTICAL:
        snprintf(buf, len, "%s %s: all %zu samples are identical (%s): likely one value copied, "
                           "not separate measurements; left out of every claim",
                 who, id, w->r->samples.n, gvb_sec_num(w->value, v));
        break;
    case GVB_WARN_FEW_SAMPLES:
        snprintf(buf, len, "%s %s: only %.0f sample%s: its confidence intervals are wide or absent",
                 who, id, w->value, w->value == 1 ? "" : "s");
        break;
    case GVB_WARN_DUPLICATE:
        snprintf(buf, len, "%s %s: appears more than once in its file; the first is used", who, id);
        break;
    case GVB_WARN_INPUTS_DIFFER:
        snprintf(buf, len, "the input files differ in %s (see Methodology)", w->key);
        break;
    case GVB_WARN_UNIT_DIFFERS:
        snprintf(buf, len, "%s %s: its unit is %s, the metric's in this report %s (another "
                           "file's): not the same figure; left out of every claim",
                 who, id, w->r->unit, w->key);
        break;
    }
}

void gvb_sec_validity(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "validity", "Validity");
    gvb_doc_heading(d, 3, NULL, "Activation proof");
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (!sy->rec) {
            gvb_doc_bullet(d, "%s: no activation record in its file.", sy->label);
            continue;
        }
        const gvb_kv *a = &sy->rec->activation;
        char proof[1024];
        const char *why = gvb_kv_text(a, "reason");
        gvb_sec_kv_join(a, "status", "reason", proof, sizeof proof);
        gvb_doc_bullet(d, "%s: %s%s%s%s; proof: %s", sy->label, gvb_sec_kv_text_or(a, "status", "?"),
                       why && *why ? " (" : "", why && *why ? why : "", why && *why ? ")" : "",
                       proof[0] ? proof : "none recorded");
    }
    gvb_doc_heading(d, 3, NULL, "INERT systems and models");
    int n = 0;
    for (int s = 0; s < m->n_systems; s++) {
        const gvb_msys *sy = &m->systems[s];
        if (sy->is_inert) {
            n++;
            const char *why = sy->rec ? gvb_kv_text(&sy->rec->activation, "reason") : NULL;
            gvb_doc_bullet(d, "%s: the sharing layer was not active%s%s; its numbers describe "
                              "native and are excluded from every claim.",
                           sy->label, why ? ": " : "", why ? why : "");
        } else if (sy->is_model) {
            n++;
            gvb_doc_bullet(d, "%s: a model computed from native measurements, not measured; "
                              "excluded from every claim.",
                           sy->label);
        }
    }
    if (!n)
        gvb_doc_para(d, "None.");

    gvb_doc_heading(d, 3, NULL, "SKIP and FAIL");
    n = 0;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = m->metrics[k].cells[s].r;
            if (!r || (r->status != GVB_SKIP && r->status != GVB_FAIL))
                continue;
            if (!n++) {
                gvb_doc_table(d, 4);
                gvb_doc_cell(d, 0, "System");
                gvb_doc_cell(d, 0, "Metric");
                gvb_doc_cell(d, 0, "Status");
                gvb_doc_cell(d, 0, "Reason");
            }
            gvb_doc_cell(d, 0, "%s", m->systems[s].label);
            gvb_doc_cell(d, 0, "%s %s", r->metric, r->name);
            gvb_doc_cell(d, r->status == GVB_FAIL ? GVB_CELL_STRONG : 0, "%s",
                         gvb_status_name(r->status));
            gvb_doc_cell(d, 0, "%s", r->reason[0] ? r->reason : "(no reason recorded)");
        }
    if (!n)
        gvb_doc_para(d, "None.");

    gvb_doc_heading(d, 3, NULL, "Plausibility warnings");
    gvb_doc_para(d, "Checked: extras reporting %% of the device's peak above 100; negative times; "
                    "10 or more samples all identical; fewer than 5 samples; duplicate results; "
                    "inputs that differ in driver, CUDA, iterations or limits.");
    for (size_t i = 0; i < m->n_warns; i++) {
        char t[512];
        warn_text(m, &m->warns[i], t, sizeof t);
        gvb_doc_bullet(d, "%s.", t);
    }
    if (!m->n_warns)
        gvb_doc_para(d, "None found.");

    gvb_doc_heading(d, 3, NULL, "Ground-truth monitor");
    n = 0;
    for (size_t k = 0; k < m->n_metrics; k++)
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = m->metrics[k].cells[s].r;
            if (!r)
                continue;
            char series[1024] = "", extras[1024] = "";
            size_t off = 0;
            for (size_t i = 0; i < r->n_series && off < sizeof series; i++) {
                const gvb_series *se = &r->series[i];
                if (strncmp(se->name, "monitor.", 8) != 0)
                    continue;
                gvb_nbuf v;
                off += (size_t)snprintf(series + off, sizeof series - off, "%s%s (%zu samples, "
                                        "median %s)", off ? ", " : "", se->name, se->n,
                                        gvb_sec_num(gvb_median(se->v, se->n), v));
            }
            off = 0;
            for (size_t i = 0; i < r->extras.n && off < sizeof extras; i++) {
                const gvb_kv_item *it = &r->extras.items[i];
                if (!ci_contains(it->key, "disagree") && !ci_contains(it->key, "monitor"))
                    continue;
                gvb_nbuf v;
                off += (size_t)snprintf(extras + off, sizeof extras - off, "%s%s = %s",
                                        off ? ", " : "", it->key,
                                        it->is_text ? it->text : gvb_sec_num(it->num, v));
            }
            if (!series[0] && !extras[0])
                continue;
            n++;
            gvb_doc_bullet(d, "%s %s: %s%s%s%s", m->systems[s].label, r->metric,
                           extras[0] ? "layer vs monitor: " : "", extras,
                           extras[0] && series[0] ? "; monitor series: " : series[0] ? "monitor series: " : "",
                           series);
        }
    if (!n)
        gvb_doc_para(d, "No ground-truth monitor data in these results (no monitor.* series and no "
                        "extras about disagreement with the layer).");
}

/* ---- charts (HTML) and methodology ---------------------------------------------------------- */

void gvb_sec_charts(gvb_doc *d, const gvb_model *m)
{
    d->html_only = 1;
    gvb_doc_heading(d, 2, "distributions", "Distributions and time series");
    /* the catalog's charts, grouped by kind in this order, catalog order within a kind */
    static const struct { gvb_metric_chart of; gvb_chart_kind kind; } kinds[] = {
        {GVB_MCHART_DISTRIBUTION, GVB_CHART_DISTRIBUTION},
        {GVB_MCHART_VALUE_BARS, GVB_CHART_VALUE_BARS},
        {GVB_MCHART_SERIES, GVB_CHART_SERIES},
    };
    for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++)
        for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
            const gvb_metric_def *c = &gvb_catalog[i];
            if (c->chart.kind != kinds[j].of)
                continue;
            gvb_doc_heading(d, 3, NULL, "%s (%s)", c->chart.caption, c->code);
            int k = gvb_model_metric(m, c->code);
            if (k < 0)
                gvb_doc_para(d, "%s: not measured.", c->code);
            else
                gvb_doc_chart(d, kinds[j].kind, k);
        }
    d->html_only = 0;
}

void gvb_sec_methodology(gvb_doc *d, const gvb_model *m)
{
    gvb_doc_heading(d, 2, "methodology", "Methodology");
    gvb_doc_para(d, "Every (system, metric) ran in fresh worker processes with the system's "
                    "environment; multi-tenant metrics released their tenants together at a start "
                    "barrier. Statistics are recomputed from the raw samples when the report reads "
                    "the files. Confidence intervals: percentile bootstrap, %d resamples, seeded "
                    "from the first file's seed, so the report is reproducible.",
                 GVB_BOOTSTRAP_RESAMPLES);
    for (size_t f = 0; f < m->n_inputs; f++) {
        const gvb_run *r = m->inputs[f].run;
        gvb_doc_heading(d, 3, NULL, "File %zu: %s", f + 1, m->inputs[f].path);
        const gvb_kv *g = &r->gpu;
        if (g->n)
            gvb_doc_bullet(d, "Device: %s, %s, PCI %s, %d GPU(s) visible, MIG mode %s",
                           gvb_sec_kv_text_or(g, "name", "?"), gvb_sec_kv_text_or(g, "uuid", "?"),
                           gvb_sec_kv_text_or(g, "pci_bus_id", "?"),
                           isfinite(gvb_kv_num(g, "gpu_count")) ? (int)gvb_kv_num(g, "gpu_count") : 0,
                           gvb_sec_kv_text_or(g, "mig_mode", "?"));
        else
            gvb_doc_bullet(d, "Device: none used");
        if (g->n)
            gvb_doc_bullet(d, "Driver %s, CUDA driver %s, CUDA runtime %s",
                           gvb_sec_kv_text_or(g, "driver_version", "?"),
                           gvb_sec_kv_text_or(g, "cuda_driver_version", "?"),
                           gvb_sec_kv_text_or(g, "cuda_runtime_version", "?"));
        gvb_doc_bullet(d, "Host: %s, %s, %s, %.0f CPUs online", gvb_sec_kv_text_or(&r->host, "hostname", "?"),
                       gvb_sec_kv_text_or(&r->host, "kernel", "?"), gvb_sec_kv_text_or(&r->host, "cpu", "?"),
                       gvb_kv_num(&r->host, "cpus_online"));
        char cfg[1024];
        gvb_sec_kv_join(&r->config, NULL, NULL, cfg, sizeof cfg);
        gvb_doc_bullet(d, "Configuration: %s", cfg[0] ? cfg : "not recorded");
        gvb_nbuf dur;
        gvb_doc_bullet(d, "Started %s, finished %s, duration %s s; tool version %s",
                       r->started_at[0] ? r->started_at : "?",
                       r->finished_at[0] ? r->finished_at : "?", gvb_sec_num(r->duration_s, dur),
                       r->tool_version[0] ? r->tool_version : "?");
        /* the command exactly, each argument quoted when the shell would need it */
        char cmd[4096];
        size_t off = 0;
        cmd[0] = '\0';
        for (int i = 0; i < r->argc && off < sizeof cmd; i++) {
            const char *a = r->argv[i];
            int quote = !*a || strpbrk(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") != NULL;
            if (!quote) {
                off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s%s", i ? " " : "", a);
                continue;
            }
            off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s'", i ? " " : "");
            for (; *a && off < sizeof cmd; a++)
                off += (size_t)snprintf(cmd + off, sizeof cmd - off, *a == '\'' ? "'\\''" : "%c",
                                        *a);
            if (off < sizeof cmd)
                off += (size_t)snprintf(cmd + off, sizeof cmd - off, "'");
        }
        gvb_doc_para(d, "Command:");
        gvb_doc_code(d, r->argc ? cmd : "(not recorded)");
    }
}
