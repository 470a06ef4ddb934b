/* The catalog tables and lookups, expanded from catalog.def, categories.def, usecases.def. */
#include "core/catalog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const gvb_metric_def gvb_catalog[GVB_METRIC_COUNT] = {
#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl, uses, mig, chart, child) \
    {GVB_M_##sym, id, cat, name, unit, dir, tenants, req, &impl, uses, mig, chart, child},
#include "core/catalog.def"
#undef GVB_METRIC
};

const gvb_category_def gvb_categories[GVB_CAT_COUNT] = {
#define GVB_CATEGORY(sym, name, title, doc) {name, title, doc},
#include "core/categories.def"
#undef GVB_CATEGORY
};

const gvb_usecase gvb_usecases[GVB_UC_COUNT] = {
#define GVB_USECASE(sym, id, title) {id, title, GVB_USE_##sym},
#include "core/usecases.def"
#undef GVB_USECASE
};
const size_t gvb_n_usecases = GVB_UC_COUNT;

const gvb_metric_def *gvb_metric_find(const char *code)
{
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++)
        if (strcasecmp(gvb_catalog[i].code, code) == 0)
            return &gvb_catalog[i];
    return NULL;
}

const gvb_metric_def *gvb_metric_child_find(const char *cmd)
{
    for (size_t i = 0; i < GVB_METRIC_COUNT; i++)
        if (gvb_catalog[i].child && strcmp(gvb_catalog[i].child, cmd) == 0)
            return &gvb_catalog[i];
    return NULL;
}

const char *gvb_category_name(gvb_category c)
{
    return (c >= 0 && c < GVB_CAT_COUNT) ? gvb_categories[c].name : "?";
}

int gvb_category_parse(const char *name, gvb_category *out)
{
    for (int i = 0; i < GVB_CAT_COUNT; i++) {
        if (strcasecmp(name, gvb_categories[i].name) == 0) {
            *out = (gvb_category)i;
            return 0;
        }
    }
    return -1;
}

const char *gvb_direction_name(gvb_direction d)
{
    switch (d) {
    case GVB_LOWER: return "lower";
    case GVB_HIGHER: return "higher";
    case GVB_PASS: return "pass";
    }
    return "?";
}

int gvb_direction_parse(const char *name, gvb_direction *out)
{
    static const gvb_direction all[] = {GVB_LOWER, GVB_HIGHER, GVB_PASS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, gvb_direction_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

int gvb_metric_hidden(const gvb_metric_def *m)
{
    return m->category == GVB_CAT_SELFTEST || m->category == GVB_CAT_WORKLOAD;
}

int gvb_metric_implemented(const gvb_metric_def *m) { return m->impl != &gvb_impl_unimplemented; }

const char *gvb_requires_str(unsigned req, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {GVB_REQ_GPU, "gpu"},       {GVB_REQ_MULTI_GPU, "gpus>=2"}, {GVB_REQ_NCCL, "nccl"},
        {GVB_REQ_CUBLAS, "cublas"}, {GVB_REQ_CUPTI, "cupti"},       {GVB_REQ_NVML, "nvml"},
    };
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(req & names[i].bit))
            continue;
        int n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    if (off == 0)
        snprintf(buf, len, "none");
    return buf;
}

int gvb_metric_tenants(const gvb_metric_def *m, int processes)
{
    return m->tenants == GVB_TENANTS_N ? processes : m->tenants;
}

const char *gvb_promise_metric(gvb_promise_kind k)
{
    static const char *const ids[GVB_PROMISE_COUNT] = {[GVB_PROMISE_MEMORY] = "IS-001",
                                                       [GVB_PROMISE_COMPUTE] = "IS-003"};
    return k >= 0 && k < GVB_PROMISE_COUNT ? ids[k] : NULL;
}
