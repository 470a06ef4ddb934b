/* native: the baseline. Tenants run with no sharing layer: layer variables are removed from
 * their environment so that a stray LD_PRELOAD or MPS pipe directory does not turn the
 * baseline into a hooked run. */
#include "systems/system.h"

static int native_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)s;
    (void)tenant;
    (void)tenants;
    gvb_env_strip_layers(env);
    return 0;
}

static void native_describe(gvb_system *s, gvb_kv *config)
{
    (void)s;
    gvb_kv_set_text(config, "layer", "none");
}

const gvb_system_ops gvb_system_native = {
    .name = "native",
    .summary = "no sharing layer (the baseline)",
    .needs_gpu = 1,
    .tenant_env = native_env,
    .describe = native_describe,
};
