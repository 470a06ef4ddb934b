/* mig-ideal: the reference MODEL of ideal MIG from systems.md, computed in the parent from
 * the native results of the same invocation; no GPU process runs. It is a model, never a
 * measurement: its kind is "model" and every result says so in its reason and extras.
 * Only what the model defines is computed: zero interference (a victim keeps its solo
 * throughput, a neighbor causes no slowdown or eviction, identical tenants get equal
 * shares) and compute = SMs / 132 of native; which rule a metric follows is its line's
 * GVB_MIG(...) in the catalog. Every other metric SKIPs. Profile:
 * --mig-profile, else the largest profile of which the metric's tenants fit on one GPU. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "systems/mig_profiles.h"
#include "systems/system.h"

#define MODEL_LABEL "MIG reference model (systems.md), computed from native; not a measurement"

static const gvb_mig_profile *profile_for(const gvb_system *s, int tenants)
{
    if (s->opts && s->opts->mig_profile[0])
        return gvb_mig_profile_find(s->opts->mig_profile);
    return gvb_mig_profile_for_tenants(tenants);
}

static void skip(gvb_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(gvb_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->status = GVB_SKIP;
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    gvb_kv_set_text(&r->extras, "model", "%s", MODEL_LABEL);
}

static void mig_ideal_derive(gvb_system *s, const gvb_metric_def *m, const gvb_run *run,
                             gvb_result *r)
{
    const char *what = m->mig.what;
    if (m->mig.rule == GVB_MIG_NONE) {
        skip(r, "model: the MIG model does not define this metric");
        return;
    }
    const gvb_kv_item *sms = gvb_kv_get(&run->gpu, "sm_count");
    if (!sms || sms->is_text || sms->num != GVB_MIG_FULL_SMS) {
        skip(r, "model: the MIG profile table is for H100 80GB (132 SMs); this run's GPU "
                "reports %s", sms && !sms->is_text ? "another SM count" : "no SM count");
        return;
    }
    const gvb_mig_profile *p = profile_for(s, r->tenants);
    if (!p) {
        skip(r, "model: %d tenants do not fit in the 7 instances of one GPU", r->tenants);
        return;
    }
    if (r->tenants > p->max_instances) {
        skip(r, "model: a GPU holds %d %s instances, fewer than the %d tenants",
             p->max_instances, p->name, r->tenants);
        return;
    }
    const gvb_result *native = gvb_run_find_baseline(run, m->code);
    if (!native) {
        skip(r, "model: computed from native results of the same invocation: add native to "
                "--systems");
        return;
    }
    if (native->status != GVB_OK || !native->has_value) {
        skip(r, "model: native is %s for this metric, so there is nothing to model from",
             gvb_status_name(native->status));
        return;
    }

    double sm_fraction = (double)p->sms / GVB_MIG_FULL_SMS;
    switch (m->mig.rule) {
    case GVB_MIG_NONE: break; /* returned above */
    case GVB_MIG_SOLO_PCT: r->value = 100.0; break;
    case GVB_MIG_ZERO: r->value = 0.0; break;
    case GVB_MIG_EQUAL_SHARES: r->value = 1.0; break;
    case GVB_MIG_COMPUTE_SCALED: r->value = native->value * sm_fraction; break;
    }
    r->has_value = 1;
    r->status = GVB_OK;
    snprintf(r->reason, sizeof r->reason, "model (%s): %s", p->name, what);
    gvb_kv_set_text(&r->extras, "model", "%s", MODEL_LABEL);
    gvb_kv_set_text(&r->extras, "model.profile", "%s", p->name);
    gvb_kv_set_text(&r->extras, "model.rule", "%s", what);
    gvb_kv_set_num(&r->extras, "model.sm_fraction", sm_fraction);
    gvb_kv_set_num(&r->extras, "model.memory_bytes", p->memory_gib * 1073741824.0);
    gvb_kv_set_num(&r->extras, "model.bandwidth_fraction",
                   (double)p->memory_slices / GVB_MIG_MEMORY_SLICES);
    gvb_kv_set_num(&r->extras, "native_value", native->value);
}

static void mig_ideal_describe(gvb_system *s, gvb_kv *config)
{
    gvb_kv_set_text(config, "layer", "none: %s", MODEL_LABEL);
    gvb_kv_set_text(config, "profile", "%s",
                    s->opts->mig_profile[0] ? s->opts->mig_profile
                                            : "by tenant count (1: 7g.80gb, 2: 3g.40gb, "
                                              "3: 2g.20gb, 4-7: 1g.10gb)");
    gvb_kv_set_text(config, "defines", "zero interference; compute = SMs/132 of native; "
                                       "memory = the profile's; bandwidth and L2 = slices/8");
}

const gvb_system_ops gvb_system_mig_ideal = {
    .name = "mig-ideal",
    .summary = "MODEL of ideal MIG computed from native results (not a measurement)",
    .kind = "model",
    .needs_gpu = 0,
    .derive = mig_ideal_derive,
    .describe = mig_ideal_describe,
};
