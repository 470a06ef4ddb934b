/* native: the baseline. Tenants run with no sharing layer: layer variables are removed from
 * their environment so that a stray LD_PRELOAD or MPS pipe directory does not turn the
 * baseline into a hooked run. Its proof checks that no preload library is mapped (a layer
 * in /etc/ld.so.preload hooks every process, the baseline included). */
#include <stdio.h>

#include "systems/system.h"

static int native_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)s;
    (void)tenant;
    (void)tenants;
    gvb_env_strip_layers(env);
    return 0;
}

static int native_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    (void)s;
    const gvb_kv_item *count = gvb_kv_get(proof, "preload.count");
    int n = count && !count->is_text ? (int)count->num : 0;
    for (int k = 0; k < n; k++) {
        char key[64];
        snprintf(key, sizeof key, "preload.%d.mapped", k);
        const gvb_kv_item *m = gvb_kv_get(proof, key);
        if (!m || m->num != 1)
            continue;
        snprintf(key, sizeof key, "preload.%d", k);
        const char *lib = gvb_kv_text(proof, key);
        snprintf(key, sizeof key, "preload.%d.source", k);
        const char *src = gvb_kv_text(proof, key);
        snprintf(why, len, "native tenants are not layer-free: %s (from %s) is mapped in them",
                 lib ? lib : "?", src ? src : "?");
        return -1;
    }
    gvb_kv_set_text(proof, "layer", "none mapped");
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
    .verify_active = native_verify,
    .describe = native_describe,
};
