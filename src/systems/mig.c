/* mig: real MIG. Where an administrator has created MIG instances, tenants run on them
 * (CUDA_VISIBLE_DEVICES=MIG-<uuid>, one per tenant, round-robin). The suite never enables
 * MIG and never creates or destroys instances: with MIG disabled every metric SKIPs with
 * the reason. GVB_MIG_DEVICES=MIG-a,MIG-b picks instances instead of all of them. Proof:
 * the tenant's device is a MIG instance. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/nvml.h"
#include "systems/system.h"

#define MIG_MAX 64

typedef struct mig_priv {
    char uuids[MIG_MAX][96];
    int n;
    char source[64];
} mig_priv;

static int add_list(mig_priv *p, const char *list)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t && p->n < MIG_MAX; t = strtok_r(NULL, ", ", &save))
        snprintf(p->uuids[p->n++], sizeof p->uuids[0], "%s", t);
    return p->n;
}

/* The MIG instances of the GPU the probe saw (NVML, no CUDA context in the parent). */
static int enumerate(mig_priv *p, const gvb_kv *gpu, char *why, size_t len)
{
    if (gvb_nvml_open(why, len) != 0)
        return -1;
    gvb_nvml_dev dev;
    const char *uuid = gpu ? gvb_kv_text(gpu, "uuid") : NULL;
    if (!(uuid && gvb_nvml_device_by_uuid(uuid, &dev) == 0) && gvb_nvml_device(0, &dev) != 0)
        return snprintf(why, len, "NVML cannot open the GPU"), -1;
    unsigned cur = 0, pend = 0, max = 0;
    if (gvb_nvml_mig_mode(dev, &cur, &pend) != 0 || !cur)
        return snprintf(why, len, "MIG is disabled on this GPU (NVML); gpu-virt-bench never "
                                  "enables MIG or creates instances"), -1;
    if (gvb_nvml_max_mig_devices(dev, &max) != 0)
        max = 0;
    for (unsigned i = 0; i < max && p->n < MIG_MAX; i++) {
        gvb_nvml_dev m;
        if (gvb_nvml_mig_device(dev, i, &m) == 0 &&
            gvb_nvml_uuid(m, p->uuids[p->n], sizeof p->uuids[0]) == 0)
            p->n++;
    }
    return 0;
}

static int mig_probe(gvb_system *s, char *why, size_t len)
{
    const char *mode = s->gpu ? gvb_kv_text(s->gpu, "mig_mode") : NULL;
    const char *pick = getenv("GVB_MIG_DEVICES");
    if (pick && *pick)
        return 0;
    if (mode && strcmp(mode, "enabled") != 0)
        return snprintf(why, len,
                        "MIG is %s on this GPU; gpu-virt-bench never enables MIG or creates "
                        "instances (an administrator does: nvidia-smi -mig 1, nvidia-smi mig "
                        "-cgi ... -C); mig-ideal gives the reference model instead",
                        mode),
               -1;
    return 0;
}

static int mig_setup(gvb_system *s, char *why, size_t len)
{
    mig_priv *p = calloc(1, sizeof *p);
    if (!p)
        return snprintf(why, len, "out of memory"), GVB_FAIL;
    s->priv = p;
    const char *pick = getenv("GVB_MIG_DEVICES");
    if (pick && *pick) {
        add_list(p, pick);
        snprintf(p->source, sizeof p->source, "GVB_MIG_DEVICES");
    } else {
        if (enumerate(p, s->gpu, why, len) != 0)
            return GVB_SKIP;
        snprintf(p->source, sizeof p->source, "NVML");
    }
    if (p->n == 0)
        return snprintf(why, len, "MIG is enabled but no MIG instances exist (an administrator "
                                  "creates them; the suite never does)"), GVB_SKIP;
    return 0;
}

static int mig_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)tenants;
    mig_priv *p = s->priv;
    if (!p || p->n == 0)
        return -1;
    gvb_env_strip_layers(env);
    return gvb_env_set(env, "CUDA_VISIBLE_DEVICES", p->uuids[tenant % p->n]);
}

static int mig_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    mig_priv *p = s->priv;
    const char *vis = gvb_kv_text(proof, "env.CUDA_VISIBLE_DEVICES");
    if (!vis || strcmp(vis, p->uuids[0]) != 0)
        return snprintf(why, len, "the tenant's CUDA_VISIBLE_DEVICES is %s, not %s",
                        vis ? vis : "unset", p->uuids[0]), -1;
    if (!s->proof_gpu) {
        gvb_kv_set_text(proof, "mig_check", "not done: no GPU metric was selected");
        return 0;
    }
    const char *name = gvb_kv_text(proof, "device_name");
    if (!name || !strstr(name, "MIG"))
        return snprintf(why, len, "the tenant's device '%s' is not a MIG instance",
                        name ? name : "?"), -1;
    gvb_kv_set_text(proof, "mig_check", "the tenant runs on MIG instance %s (%s)", vis, name);
    return 0;
}

static void mig_describe(gvb_system *s, gvb_kv *config)
{
    mig_priv *p = s->priv;
    gvb_kv_set_text(config, "layer", "MIG instances (created by an administrator)");
    if (!p)
        return;
    gvb_kv_set_num(config, "instances", p->n);
    gvb_kv_set_text(config, "instances_from", "%s", p->source);
    for (int i = 0; i < p->n; i++) {
        char key[32];
        snprintf(key, sizeof key, "instance.%d", i);
        gvb_kv_set_text(config, key, "%s", p->uuids[i]);
    }
    gvb_kv_set_text(config, "assignment", "tenant i on instance i mod %d", p->n);
}

static void mig_teardown(gvb_system *s, gvb_kv *notes)
{
    (void)notes;
    free(s->priv);
    s->priv = NULL;
}

const gvb_system_ops gvb_system_mig = {
    .name = "mig",
    .summary = "tenants on existing MIG instances (never creates them)",
    .needs_gpu = 1,
    .probe = mig_probe,
    .setup = mig_setup,
    .tenant_env = mig_env,
    .verify_active = mig_verify,
    .describe = mig_describe,
    .teardown = mig_teardown,
};
