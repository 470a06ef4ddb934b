/* The parent-to-worker hand-off (see handoff.h): one field table, both directions. */
#include "core/handoff.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { F_METRIC, F_TEXT, F_INT, F_U64, F_DOUBLE } field_type;

typedef struct field {
    const char *name;
    field_type type;
    size_t off, size; /* F_TEXT: the buffer's size */
    double lo, hi;    /* bounds of numeric fields */
} field;

#define OFF(f) offsetof(gvb_worker, f)
static const field fields[] = {
    {"metric", F_METRIC, OFF(metric), 0, 0, 0},
    {"system", F_TEXT, OFF(system), sizeof ((gvb_worker *)0)->system, 0, 0},
    {"kind", F_TEXT, OFF(kind), sizeof ((gvb_worker *)0)->kind, 0, 0},
    {"tenant", F_INT, OFF(tenant), 0, 0, 4096},
    {"tenants", F_INT, OFF(tenants), 0, 1, 4096},
    {"iterations", F_INT, OFF(iterations), 0, 1, 100000000},
    {"replicates", F_INT, OFF(replicates), 0, 1, 64},
    {"replicate", F_INT, OFF(replicate), 0, 0, 63},
    {"warmup", F_INT, OFF(warmup), 0, 0, 100000000},
    {"min-time", F_DOUBLE, OFF(min_time_s), 0, 0, 86400},
    {"seed", F_U64, OFF(seed), 0, 0, 0},
    {"quick", F_INT, OFF(quick), 0, 0, 1},
    {"memory-limit", F_U64, OFF(memory_limit), 0, 0, 0},
    {"compute-limit", F_INT, OFF(compute_limit), 0, 0, 100},
    {"workload", F_TEXT, OFF(workload), sizeof ((gvb_worker *)0)->workload, 0, 0},
    {"deadline", F_DOUBLE, OFF(deadline_s), 0, 0, 1e7},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

static int in_bounds(const field *f, double v) { return v >= f->lo && v <= f->hi; }

int gvb_handoff_encode(const gvb_worker *w, const char *const *prefix, char ***out)
{
    size_t np = 0;
    while (prefix && prefix[np])
        np++;
    char **a = calloc(np + N_FIELDS + 1, sizeof *a);
    if (!a || !w->metric) {
        free(a);
        return -1;
    }
    size_t n = 0;
    int rc = 0;
    for (; n < np && rc == 0; n++)
        rc = (a[n] = strdup(prefix[n])) ? 0 : -1;
    for (size_t i = 0; i < N_FIELDS && rc == 0; i++) {
        const field *f = &fields[i];
        const char *p = (const char *)w + f->off;
        switch (f->type) {
        case F_METRIC:
            rc = asprintf(&a[n], "--%s=%s", f->name, (*(const gvb_metric_def *const *)p)->code);
            break;
        case F_TEXT:
            if (!*p)
                continue; /* not set: the worker's default */
            rc = asprintf(&a[n], "--%s=%s", f->name, p);
            break;
        case F_INT:
            if (!in_bounds(f, *(const int *)p))
                rc = -1;
            else
                rc = asprintf(&a[n], "--%s=%d", f->name, *(const int *)p);
            break;
        case F_U64:
            rc = asprintf(&a[n], "--%s=%llu", f->name, (unsigned long long)*(const uint64_t *)p);
            break;
        case F_DOUBLE:
            if (!isfinite(*(const double *)p) || !in_bounds(f, *(const double *)p))
                rc = -1;
            else
                rc = asprintf(&a[n], "--%s=%.17g", f->name, *(const double *)p);
            break;
        }
        rc = rc < 0 ? -1 : 0;
        if (rc == 0)
            n++;
    }
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            free(a[i]);
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

/* One value into its field; 0, or -1 when malformed or out of bounds. */
static int decode_one(const field *f, const char *v, gvb_worker *w)
{
    char *p = (char *)w + f->off, *end;
    errno = 0;
    switch (f->type) {
    case F_METRIC: {
        const gvb_metric_def *m = gvb_metric_find(v);
        *(const gvb_metric_def **)p = m;
        return m ? 0 : -1;
    }
    case F_TEXT:
        if (strlen(v) >= f->size)
            return -1;
        memcpy(p, v, strlen(v) + 1);
        return 0;
    case F_INT: {
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || !in_bounds(f, (double)x))
            return -1;
        *(int *)p = (int)x;
        return 0;
    }
    case F_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
            return -1;
        *(uint64_t *)p = x;
        return 0;
    }
    case F_DOUBLE: {
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x) || !in_bounds(f, x))
            return -1;
        *(double *)p = x;
        return 0;
    }
    }
    return -1;
}

int gvb_handoff_decode(int argc, char **argv, int first, gvb_worker *w, char *err,
                       size_t errlen)
{
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        const field *f = NULL;
        for (size_t k = 0; eq && strncmp(arg, "--", 2) == 0 && k < N_FIELDS && !f; k++)
            if (strlen(fields[k].name) == (size_t)(eq - arg - 2) &&
                strncmp(arg + 2, fields[k].name, (size_t)(eq - arg - 2)) == 0)
                f = &fields[k];
        if (!f || decode_one(f, eq + 1, w) != 0) {
            snprintf(err, errlen, "%s argument %s", f ? "bad" : "unknown", arg);
            return -1;
        }
    }
    if (!w->metric) {
        snprintf(err, errlen, "--metric is required");
        return -1;
    }
    return 0;
}
