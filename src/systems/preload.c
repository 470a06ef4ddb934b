/* preload: any LD_PRELOAD library under a name of the user's choice, with extra environment
 * (--preload fcsp=/path/libfcsp.so --env fcsp:KEY=VALUE), so in-house layers are measured
 * the same way as HAMi. --memory-limit / --compute-limit say what the layer is expected to
 * enforce (the layer's own variables come through --env). Proof: the library is mapped;
 * with --memory-limit, cudaMemGetInfo's total equals it. */
#include <stdio.h>
#include <string.h>

#include "systems/system.h"

static const gvb_preload_spec *spec(const gvb_system *s) { return s->priv; }

static int preload_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)tenant;
    (void)tenants;
    if (!spec(s))
        return -1;
    gvb_env_strip_layers(env);
    /* the --env entries are applied by the runner after this, for every system */
    return gvb_env_set(env, "LD_PRELOAD", spec(s)->path);
}

static int preload_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    return gvb_proof_check_layer(s, proof, spec(s)->path, (double)s->opts->memory_limit,
                                 s->opts->compute_limit, why, len);
}

static void preload_describe(gvb_system *s, gvb_kv *config)
{
    gvb_kv_set_text(config, "layer", "user library via LD_PRELOAD");
    gvb_kv_set_text(config, "library", "%s", spec(s)->path);
    int k = 0;
    for (int i = 0; i < s->opts->n_extra_env; i++) {
        if (strcmp(s->opts->extra_env[i].system, s->name) != 0)
            continue;
        char key[32];
        snprintf(key, sizeof key, "env.%d", k++);
        gvb_kv_set_text(config, key, "%s", s->opts->extra_env[i].assignment);
    }
    if (s->opts->memory_limit)
        gvb_kv_set_num(config, "expected_memory_limit_bytes", (double)s->opts->memory_limit);
    if (s->opts->compute_limit)
        gvb_kv_set_num(config, "expected_compute_limit_pct", s->opts->compute_limit);
}

const gvb_system_ops gvb_system_preload = {
    .name = "preload",
    .summary = "any LD_PRELOAD layer: --preload NAME=PATH [--env NAME:KEY=VALUE]",
    .needs_gpu = 1,
    .tenant_env = preload_env,
    .verify_active = preload_verify,
    .describe = preload_describe,
};
