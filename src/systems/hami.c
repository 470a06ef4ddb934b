/* hami: HAMi-core (libvgpu.so), an LD_PRELOAD interposer, applied by us to each tenant.
 * Facts in systems.md and HAMI_NOTES: limits are read once at process start from
 * CUDA_DEVICE_MEMORY_LIMIT / CUDA_DEVICE_SM_LIMIT, and the first process that creates a
 * shared-cache file fixes the limits for everyone attached to it, so every tenant of every
 * metric gets a fresh cache file in a private run directory. CUDA_REDIRECT points HAMi's own
 * dlsym at this very library, so that a different /usr/local/vgpu/libvgpu.so on the host is
 * never mixed in. Proof: the library is mapped; with a memory limit, cudaMemGetInfo's total
 * equals it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "systems/system.h"

#define HAMI_DEFAULT_LIB "/usr/local/vgpu/libvgpu.so"
#define HAMI_LOCK_DIR "/tmp/vgpulock"

typedef struct hami_priv {
    char lib[PATH_MAX];      /* as given */
    char redirect[PATH_MAX]; /* its real path when it exists */
    char rundir[PATH_MAX];
    unsigned seq;
} hami_priv;

/* --hami-lib, else $GVB_HAMI_LIB, else HAMi's install path. */
static const char *hami_lib(const gvb_system *s)
{
    const char *env = getenv("GVB_HAMI_LIB");
    if (s->opts && s->opts->hami_lib[0])
        return s->opts->hami_lib;
    return env && *env ? env : HAMI_DEFAULT_LIB;
}

static int hami_setup(gvb_system *s, char *why, size_t len)
{
    hami_priv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, len, "out of memory");
        return GVB_FAIL;
    }
    s->priv = p;
    snprintf(p->lib, sizeof p->lib, "%s", hami_lib(s));
    if (!realpath(p->lib, p->redirect))
        snprintf(p->redirect, sizeof p->redirect, "%s", p->lib);
    if (gvb_rundir_create("hami", p->rundir, sizeof p->rundir) != 0) {
        snprintf(why, len, "cannot create a private run directory: %s", strerror(errno));
        p->rundir[0] = '\0';
        return GVB_FAIL;
    }
    /* older HAMi-core builds wait forever without it; it sits at a path anyone on the host
     * can take first, so what is there is checked before HAMi runs as this user */
    if (gvb_shared_dir_check(HAMI_LOCK_DIR, why, len) != 0)
        return GVB_FAIL;
    return 0;
}

/* HAMi parses sizes with an optional g/m/k suffix (powers of 1024); no suffix is bytes. */
static int set_hami_size(gvb_env *env, const char *key, unsigned long long bytes)
{
    if (bytes % (1ull << 20) == 0)
        return gvb_env_setf(env, key, "%llum", bytes >> 20);
    return gvb_env_setf(env, key, "%llu", bytes);
}

static int hami_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)tenants;
    hami_priv *p = s->priv;
    if (!p || !p->rundir[0])
        return -1;
    const gvb_options *o = s->opts;
    gvb_env_strip_layers(env);
    int rc = gvb_env_set(env, "LD_PRELOAD", p->lib);
    rc |= gvb_env_set(env, "CUDA_REDIRECT", p->redirect);
    rc |= gvb_env_set(env, "LIBCUDA_LOG_LEVEL", "0"); /* quiet; ERROR lines still print */
    rc |= gvb_env_setf(env, "CUDA_DEVICE_MEMORY_SHARED_CACHE", "%s/t%d.%u.cache", p->rundir,
                       tenant, p->seq++);
    if (o->memory_limit)
        rc |= set_hami_size(env, "CUDA_DEVICE_MEMORY_LIMIT", (unsigned long long)o->memory_limit);
    if (o->compute_limit > 0) {
        rc |= gvb_env_setf(env, "CUDA_DEVICE_SM_LIMIT", "%d", o->compute_limit);
        if (o->compute_limit < 100) /* standalone, throttling is on only when forced */
            rc |= gvb_env_set(env, "GPU_CORE_UTILIZATION_POLICY", "FORCE");
    }
    return rc ? -1 : 0;
}

static int hami_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    hami_priv *p = s->priv;
    if (!p)
        return snprintf(why, len, "not set up"), -1;
    return gvb_proof_check_layer(s, proof, p->lib, (double)s->opts->memory_limit,
                                 s->opts->compute_limit, why, len);
}

static void hami_describe(gvb_system *s, gvb_kv *config)
{
    hami_priv *p = s->priv;
    const char *lib = p ? p->lib : hami_lib(s);
    gvb_kv_set_text(config, "layer", "HAMi-core via LD_PRELOAD");
    gvb_kv_set_text(config, "library", "%s", lib);
    gvb_kv_set_text(config, "library_exists", "%s", access(lib, R_OK) == 0 ? "yes" : "no");
    if (s->opts->memory_limit)
        gvb_kv_set_num(config, "memory_limit_bytes", (double)s->opts->memory_limit);
    if (s->opts->compute_limit)
        gvb_kv_set_num(config, "sm_limit_pct", s->opts->compute_limit);
    if (p && p->rundir[0]) {
        gvb_kv_set_text(config, "run_dir", "%s", p->rundir);
        gvb_kv_set_text(config, "shared_cache", "a fresh file per tenant and metric in run_dir");
    }
}

static void hami_teardown(gvb_system *s, gvb_kv *notes)
{
    hami_priv *p = s->priv;
    if (!p)
        return;
    if (p->rundir[0] && notes)
        gvb_kv_set_text(notes, "teardown", "%s",
                        gvb_rundir_remove(p->rundir) == 0 ? "run_dir removed"
                                                          : "run_dir could not be removed");
    else
        gvb_rundir_remove(p->rundir);
    free(p);
    s->priv = NULL;
}

const gvb_system_ops gvb_system_hami = {
    .name = "hami",
    .summary = "HAMi-core libvgpu.so through LD_PRELOAD (--hami-lib)",
    .needs_gpu = 1,
    .setup = hami_setup,
    .tenant_env = hami_env,
    .verify_active = hami_verify,
    .describe = hami_describe,
    .teardown = hami_teardown,
};
