/* Empty metric implementations for the fuzz target: the catalog names every implementation,
 * but reading and reporting results never runs one, and the real ones need CUDA. */
#include "core/catalog.h"

#define GVB_METRIC(sym, id, cat, name, unit, dir, tenants, req, impl, uses, mig, chart, child) \
    const gvb_metric_impl impl = {0};
#include "core/catalog.def"
#undef GVB_METRIC
const gvb_metric_impl gvb_impl_unimplemented = {0};
