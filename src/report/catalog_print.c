/* `list`: the catalog as a text table or JSON. */
#include <jansson.h>
#include <stdio.h>

#include "report/json_util.h"
#include "report/report.h"

static const char *tenants_str(const gvb_metric_def *m, char *buf, size_t len)
{
    if (m->tenants == GVB_TENANTS_N)
        snprintf(buf, len, "N");
    else
        snprintf(buf, len, "%d", m->tenants);
    return buf;
}

int gvb_catalog_write_text(FILE *f, int all)
{
    fprintf(f, "%-10s %-13s %-32s %-9s %-6s %-7s %-28s %s\n", "ID", "CATEGORY", "NAME", "UNIT",
            "BETTER", "TENANTS", "REQUIRES", "STATE");
    int n = 0;
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        const gvb_metric_def *m = &gvb_catalog[i];
        if (!all && gvb_metric_hidden(m))
            continue;
        char t[8], req[96];
        fprintf(f, "%-10s %-13s %-32s %-9s %-6s %-7s %-28s %s\n", m->code,
                gvb_category_name(m->category), m->name, m->unit, gvb_direction_name(m->direction),
                tenants_str(m, t, sizeof t), gvb_requires_str(m->requires, req, sizeof req),
                gvb_metric_implemented(m) ? "implemented" : "not implemented");
        n++;
    }
    fprintf(f, "%d metrics (N = --processes tenants)\n", n);
    return ferror(f) ? -1 : 0;
}

int gvb_catalog_write_json(FILE *f, int all)
{
    json_t *a = json_array();
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++) {
        const gvb_metric_def *m = &gvb_catalog[i];
        if (!all && gvb_metric_hidden(m))
            continue;
        char req[96];
        json_t *tenants = m->tenants == GVB_TENANTS_N ? json_string("N") : json_integer(m->tenants);
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b}", "id", m->code, "category",
                         gvb_category_name(m->category), "name", m->name, "unit", m->unit,
                         "direction", gvb_direction_name(m->direction), "tenants", tenants,
                         "requires", gvb_requires_str(m->requires, req, sizeof req),
                         "implemented", gvb_metric_implemented(m)));
    }
    return gvb_json_dump(f, a);
}
