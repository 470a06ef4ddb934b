/* The report's workload section: what a user's program (`gpu-virt-bench workload`,
 * docs/workload.md) got under each system: its value, the same program alone, the slowdown of
 * co-location, Jain's fairness over the tenants, and how each tenant's program ended. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/catalog.h"
#include "report/doc.h"
#include "report/model.h"
#include "report/sections.h"
#include "stats/stats.h"

/* A workload metric of N tenants (WL-001..003), not the alone one. */
static int together_metric(const gvb_mmetric *mm)
{
    const gvb_metric_def *def = gvb_metric_find(mm->id);
    return def && def->category == GVB_CAT_WORKLOAD && def->tenants == GVB_TENANTS_N;
}

/* "exit 0, signal 9 (Killed)": the tenants' last ends (t<i>.exit, or exit alone). */
static void exits(const gvb_result *r, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->extras.n && off < len; i++) {
        const gvb_kv_item *it = &r->extras.items[i];
        const char *dot = strchr(it->key, '.');
        if (it->is_text && (!strcmp(it->key, "exit") || (dot && !strcmp(dot, ".exit"))))
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                                    it->text ? it->text : "?");
    }
}

/* The median of a series with its unit ("%.0f" MiB: a size of thousands reads as one), else
 * "unavailable" when the monitor said why (the extra `why`), else "-" (it saw nothing). */
static void median_cell(gvb_doc *d, const gvb_result *r, const char *name, const char *unit,
                        const char *why)
{
    const gvb_series *s = gvb_series_lookup(r, name);
    gvb_nbuf b;
    if (s && s->n && !strcmp(unit, "MiB"))
        gvb_doc_cell(d, GVB_CELL_NUM, "%.0f MiB", gvb_median(s->v, s->n));
    else if (s && s->n)
        gvb_doc_cell(d, GVB_CELL_NUM, "%s %s", gvb_sec_num(gvb_median(s->v, s->n), b), unit);
    else if (why && gvb_kv_text(&r->extras, why))
        gvb_doc_cell(d, GVB_CELL_NUM, "unavailable");
    else
        gvb_doc_cell(d, GVB_CELL_NUM, "-");
}

void gvb_sec_workload(gvb_doc *d, const gvb_model *m)
{
    int any = 0;
    for (size_t k = 0; k < m->n_metrics; k++)
        any |= together_metric(&m->metrics[k]);
    if (!any)
        return;
    gvb_doc_heading(d, 2, "workload", "Your workload under each system");
    gvb_doc_para(d, "The program of gpu-virt-bench workload under every system (docs/workload.md). "
                    "Value: the median over every tenant and replicate. Alone: the same program "
                    "as the only tenant (measured when there were two or more). Slowdown: how "
                    "much worse the median was together than alone (positive: worse). Fairness: "
                    "Jain's index over the tenants' medians as speeds (1: all got the same, 1/N: "
                    "one got everything), from the last replicate. Trend: with --duration, the "
                    "slope of each run's figure (else its wall time) over the soak, in %% of its "
                    "mean per minute (the median over the tenants; last replicate). GPU energy: "
                    "the device's NVML energy counter around each replicate's whole process "
                    "group (every process on the GPU counts), the median over the replicates; with "
                    "--metric-units, also that energy over the units of work all tenants' "
                    "programs printed (starts included). Peak "
                    "memory and SM utilization: the unhooked NVML monitor's view of each "
                    "tenant's programs (its descendants), the median over tenants and "
                    "replicates of each one's peak and of its mean SM utilization while it held "
                    "memory; with --duration the trend cell adds the slope of that memory (a "
                    "leak shows as MiB/min). SM utilization is unavailable where NVML gives no "
                    "per-process utilization and under MPS (an MPS server's clients run in its "
                    "context, and NVML does not attribute their kernels to them). "
                    "Differences "
                    "between systems "
                    "are claimed in the category table by the same rule as any metric.");
    for (size_t k = 0; k < m->n_metrics; k++) {
        const gvb_mmetric *mm = &m->metrics[k];
        if (!together_metric(mm))
            continue;
        gvb_doc_para(d, "%s %s (%s, %s is better):", mm->id, mm->name, mm->unit,
                     mm->direction == GVB_HIGHER ? "higher" : "lower");
        gvb_doc_table(d, 11);
        gvb_doc_cell(d, 0, "System");
        gvb_doc_cell(d, GVB_CELL_NUM, "Tenants");
        gvb_doc_cell(d, GVB_CELL_NUM, "Value");
        gvb_doc_cell(d, GVB_CELL_NUM, "Alone");
        gvb_doc_cell(d, GVB_CELL_NUM, "Slowdown together");
        gvb_doc_cell(d, GVB_CELL_NUM, "Fairness");
        gvb_doc_cell(d, GVB_CELL_NUM, "Trend (--duration)");
        gvb_doc_cell(d, GVB_CELL_NUM, "GPU energy a replicate");
        gvb_doc_cell(d, GVB_CELL_NUM, "Peak memory a tenant");
        gvb_doc_cell(d, GVB_CELL_NUM, "SM utilization a tenant");
        gvb_doc_cell(d, 0, "Programs ended");
        for (int s = 0; s < m->n_systems; s++) {
            const gvb_result *r = mm->cells[s].r;
            if (!r)
                continue;
            gvb_nbuf a, b, c;
            char ends[256];
            exits(r, ends, sizeof ends);
            double alone = gvb_kv_num(&r->extras, "alone_median");
            double slow = gvb_kv_num(&r->extras, "slowdown_vs_alone_pct");
            double fair = gvb_kv_num(&r->extras, "fairness_jain");
            gvb_doc_cell(d, 0, "%s", m->systems[s].label);
            gvb_doc_cell(d, GVB_CELL_NUM, "%d", r->tenants);
            if (r->status != GVB_OK) {
                gvb_doc_cell(d, 0, "%s", gvb_status_name(r->status));
                for (int col = 0; col < 7; col++)
                    gvb_doc_cell(d, 0, "-");
                gvb_doc_cell(d, 0, "%s", r->reason);
                continue;
            }
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", gvb_sec_num(r->value, a));
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", isfinite(alone) ? gvb_sec_num(alone, b) : "-");
            if (isfinite(slow))
                gvb_doc_cell(d, GVB_CELL_NUM, "%+.1f %%", slow);
            else
                gvb_doc_cell(d, GVB_CELL_NUM, "-");
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", isfinite(fair) ? gvb_sec_num(fair, c) : "-");
            double trend = gvb_kv_num(&r->extras, "trend_pct_per_min");
            double runs = gvb_kv_num(&r->extras, "runs");
            double mtrend = gvb_kv_num(&r->extras, "memory_trend_mib_per_min");
            char tc[128] = "-", rc[32] = "", mc[64] = "";
            if (isfinite(runs))
                snprintf(rc, sizeof rc, " (%.0f runs)", runs);
            if (isfinite(mtrend))
                snprintf(mc, sizeof mc, "; memory %+.3g MiB/min", mtrend);
            if (isfinite(trend))
                snprintf(tc, sizeof tc, "%+.3g %%/min%s%s", trend, rc, mc);
            gvb_doc_cell(d, GVB_CELL_NUM, "%s", tc);
            const gvb_series *en = gvb_series_lookup(r, "energy_j");
            const gvb_series *eu = gvb_series_lookup(r, "energy_per_unit_j");
            gvb_nbuf e2;
            if (en && en->n && eu && eu->n)
                gvb_doc_cell(d, GVB_CELL_NUM, "%s J (%s J a unit)",
                             gvb_sec_num(gvb_median(en->v, en->n), b),
                             gvb_sec_num(gvb_median(eu->v, eu->n), e2));
            else if (en && en->n)
                gvb_doc_cell(d, GVB_CELL_NUM, "%s J", gvb_sec_num(gvb_median(en->v, en->n), b));
            else
                gvb_doc_cell(d, GVB_CELL_NUM, "-");
            median_cell(d, r, "peak_used_mib", "MiB", NULL);
            median_cell(d, r, "sm_util_pct", "%", "monitor.sm_util");
            gvb_doc_cell(d, 0, "%s", ends[0] ? ends : "-");
        }
    }
}
