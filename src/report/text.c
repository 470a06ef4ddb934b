/* Text summary of a run: header, then one line per (system, metric). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

const char *gvb_fmt_num(double v, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
        snprintf(buf, len, "%.3e", v);
    else
        snprintf(buf, len, "%.4g", v);
    return buf;
}

static const char *kv_or(const gvb_kv *kv, const char *key, const char *dflt)
{
    const char *s = gvb_kv_text(kv, key);
    return s ? s : dflt;
}

int gvb_text_write(FILE *f, const gvb_run *run)
{
    fprintf(f, "gpu-virt-bench %s  started %s  duration %.1f s\n", run->tool_version,
            run->started_at, run->duration_s);
    const gvb_kv_item *mem = gvb_kv_get(&run->gpu, "memory_total_bytes");
    if (run->gpu.n)
        fprintf(f, "GPU: %s  (%s, driver %s, CUDA %s, %.0f MiB)\n",
                kv_or(&run->gpu, "name", "?"), kv_or(&run->gpu, "uuid", "?"),
                kv_or(&run->gpu, "driver_version", "?"),
                kv_or(&run->gpu, "cuda_driver_version", "?"),
                mem && !mem->is_text ? mem->num / 1048576.0 : NAN);
    else
        fprintf(f, "GPU: none used\n");
    for (size_t i = 0; i < run->n_systems; i++) {
        const gvb_system_record *s = &run->systems[i];
        const char *st = gvb_kv_text(&s->activation, "status");
        const char *why = gvb_kv_text(&s->activation, "reason");
        fprintf(f, "system %s (%s): activation %s%s%s\n", s->name, s->kind, st ? st : "?",
                why ? ": " : "", why ? why : "");
    }
    fprintf(f, "\n%-10s %-10s %-32s %-6s %12s %10s %-24s %6s %s\n", "system", "metric", "name",
            "status", "value", "unit", "95% CI of median", "n", "reason");
    int counts[4] = {0};
    for (size_t i = 0; i < run->n_results; i++) {
        const gvb_result *r = &run->results[i];
        char v[32], lo[32], hi[32], ci[64] = "";
        double ci_lo, ci_hi;
        gvb_result_ci(r, &ci_lo, &ci_hi);
        if (r->stats.n > 1 && isfinite(ci_lo))
            snprintf(ci, sizeof ci, "[%s, %s]", gvb_fmt_num(ci_lo, lo, sizeof lo),
                     gvb_fmt_num(ci_hi, hi, sizeof hi));
        fprintf(f, "%-10s %-10s %-32.32s %-6s %12s %10s %-24s %6zu %s\n", r->system, r->metric,
                r->name, gvb_status_name(r->status),
                r->has_value ? gvb_fmt_num(r->value, v, sizeof v) : "-", r->unit, ci,
                r->stats.n, r->reason);
        if (r->status >= GVB_OK && r->status <= GVB_INERT)
            counts[r->status]++;
    }
    fprintf(f, "\n%d OK, %d SKIP, %d FAIL, %d INERT\n", counts[GVB_OK], counts[GVB_SKIP],
            counts[GVB_FAIL], counts[GVB_INERT]);
    return ferror(f) ? -1 : 0;
}
