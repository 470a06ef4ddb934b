/* fake: a system with no GPU at all (after fio's null engine). It runs only the CPU
 * self-test metrics, so the whole pipeline (spawn, barrier, samples, statistics, writers,
 * deadline kills, crashes) is exercised in CI. Hidden from `list`. */
#include <stdio.h>

#include "systems/system.h"

static int fake_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)s;
    (void)tenants;
    gvb_env_strip_layers(env);
    return gvb_env_setf(env, "GVB_FAKE_TENANT", "%d", tenant);
}

static int fake_supports(gvb_system *s, const gvb_metric_def *m, char *why, size_t len)
{
    (void)s;
    /* a workload is the user's program: whether it needs a GPU is its own business */
    if ((m->requires & GVB_REQ_GPU) && m->category != GVB_CAT_WORKLOAD) {
        snprintf(why, len, "the fake system runs only the CPU self-test metrics and workloads");
        return -1;
    }
    return 0;
}

static void fake_describe(gvb_system *s, gvb_kv *config)
{
    (void)s;
    gvb_kv_set_text(config, "layer", "none (CPU-only test system)");
}

const gvb_system_ops gvb_system_fake = {
    .name = "fake",
    .summary = "CPU-only test system for the harness itself",
    .hidden = 1,
    .needs_gpu = 0,
    .tenant_env = fake_env,
    .supports = fake_supports,
    .describe = fake_describe,
};
