/* CSV results: one row per (system, metric), RFC 4180 quoting. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

static void field_text(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void field_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
}

int gvb_csv_write(FILE *f, const gvb_run *run)
{
    fputs("system,metric,name,category,unit,direction,tenants,status,value,n,mean,median,"
          "stdev,cv,min,max,p50,p95,p99,ci95_lo,ci95_hi,wall_s,reason\n",
          f);
    for (size_t i = 0; i < run->n_results; i++) {
        const gvb_result *r = &run->results[i];
        const gvb_stats *s = &r->stats;
        double lo, hi;
        gvb_result_ci(r, &lo, &hi);
        field_text(f, r->system);
        fputc(',', f);
        field_text(f, r->metric);
        fputc(',', f);
        field_text(f, r->name);
        fputc(',', f);
        field_text(f, r->category);
        fputc(',', f);
        field_text(f, r->unit);
        fprintf(f, ",%s,%d,%s,", gvb_direction_name(r->direction), r->tenants,
                gvb_status_name(r->status));
        field_num(f, r->has_value ? r->value : NAN);
        fprintf(f, ",%zu", s->n);
        const double cols[] = {s->mean, s->median, s->stdev, s->cv,    s->min,   s->max,
                               s->p50,  s->p95,    s->p99,   lo,       hi,       r->wall_s};
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            fputc(',', f);
            field_num(f, s->n ? cols[c] : (c == 11 ? cols[c] : NAN));
        }
        fputc(',', f);
        field_text(f, r->reason);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}
