/* external: the layer is applied by the environment, not by us, e.g. inside a Kubernetes
 * pod where HAMi wrote /etc/ld.so.preload and set limit variables, or where a system MPS
 * daemon serves every CUDA process. Tenants keep the parent's environment unmodified; the
 * system detects and records what is active (preload libraries, limit variables, MPS pipe
 * directory) and the proof checks each of them in a tenant: libraries mapped, memory total
 * equal to the limit, MPS client of the daemon with a reduced SM count. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systems/mps_control.h"
#include "systems/system.h"

#define LD_SO_PRELOAD "/etc/ld.so.preload"
#define MPS_DEFAULT_PIPE "/tmp/nvidia-mps"

typedef struct external_view {
    char ld_so_preload[1024]; /* its entries, space separated */
    const char *ld_preload;
    const char *mem_limit, *sm_limit, *thread_pct, *pinned;
    char mps_pipe[PATH_MAX]; /* CUDA_MPS_PIPE_DIRECTORY, or the default one if a daemon is there */
    const char *mps_log;
} external_view;

static int nonempty(const char *s) { return s && *s; }

/* What the environment applies to any process started from here. */
static void look(external_view *v)
{
    memset(v, 0, sizeof *v);
    FILE *f = fopen(LD_SO_PRELOAD, "r");
    char line[512];
    size_t off = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\n:", &save); t; t = strtok_r(NULL, " \t\n:", &save))
            if (*t != '#' && off < sizeof v->ld_so_preload)
                off += (size_t)snprintf(v->ld_so_preload + off, sizeof v->ld_so_preload - off,
                                        "%s%s", off ? " " : "", t);
    }
    if (f)
        fclose(f);
    v->ld_preload = getenv("LD_PRELOAD");
    v->mem_limit = getenv("CUDA_DEVICE_MEMORY_LIMIT");
    v->sm_limit = getenv("CUDA_DEVICE_SM_LIMIT");
    v->thread_pct = getenv("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE");
    v->pinned = getenv("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT");
    v->mps_log = getenv("CUDA_MPS_LOG_DIRECTORY");
    const char *pipe = getenv("CUDA_MPS_PIPE_DIRECTORY");
    if (nonempty(pipe))
        snprintf(v->mps_pipe, sizeof v->mps_pipe, "%s", pipe);
    else if (access(MPS_DEFAULT_PIPE "/control", F_OK) == 0)
        snprintf(v->mps_pipe, sizeof v->mps_pipe, "%s", MPS_DEFAULT_PIPE);
}

static int anything(const external_view *v)
{
    return v->ld_so_preload[0] || nonempty(v->ld_preload) || v->mps_pipe[0] ||
           nonempty(v->mem_limit) || nonempty(v->sm_limit);
}

static int external_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)s;
    (void)tenant;
    (void)tenants;
    (void)env; /* the environment's layer stays exactly as it is */
    return 0;
}

/* The memory limit the layer should enforce: --memory-limit, else the environment's. */
static double expected_memory(const gvb_system *s, const external_view *v)
{
    double b;
    if (s->opts->memory_limit)
        return (double)s->opts->memory_limit;
    if (nonempty(v->mem_limit) && gvb_parse_hami_size(v->mem_limit, &b) == 0 && b > 0)
        return b;
    return 0;
}

static int expected_compute(const gvb_system *s, const external_view *v)
{
    if (s->opts->compute_limit)
        return s->opts->compute_limit;
    if (nonempty(v->sm_limit))
        return atoi(v->sm_limit);
    if (nonempty(v->thread_pct))
        return atoi(v->thread_pct);
    return 0;
}

static int check_mps(gvb_system *s, const external_view *v, gvb_kv *proof, char *why, size_t len)
{
    gvb_mps_ctl ctl = {0};
    if (gvb_mps_find_control(ctl.control, sizeof ctl.control, why, len) != 0)
        return -1;
    snprintf(ctl.pipe_dir, sizeof ctl.pipe_dir, "%s", v->mps_pipe);
    if (nonempty(v->mps_log))
        snprintf(ctl.log_dir, sizeof ctl.log_dir, "%s", v->mps_log);
    if (gvb_mps_check_served(&ctl, proof, why, len) != 0)
        return -1;
    int pct = nonempty(v->thread_pct) ? atoi(v->thread_pct) : 100;
    if (pct > 0 && pct < 100)
        return gvb_mps_check_sm_reduced(s, proof, pct, why, len);
    return 0;
}

static int external_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    external_view v;
    look(&v);
    if (!anything(&v)) {
        snprintf(why, len, "no layer applied by the environment was found (no %s, LD_PRELOAD, "
                           "CUDA_MPS_PIPE_DIRECTORY, MPS daemon at %s, or limit variables)",
                 LD_SO_PRELOAD, MPS_DEFAULT_PIPE);
        return -1;
    }
    const gvb_kv_item *count = gvb_kv_get(proof, "preload.count");
    int requested = count && !count->is_text ? (int)count->num : 0;
    int mapped = gvb_proof_mapped_count(proof);
    if (mapped < requested) {
        snprintf(why, len, "only %d of the %d preload libraries the environment names are mapped "
                           "in a tenant (see preload.* in the proof)", mapped, requested);
        return -1;
    }
    if (requested)
        gvb_kv_set_text(proof, "library", "%d preload librar%s mapped", mapped,
                        mapped == 1 ? "y" : "ies");
    double mem = expected_memory(s, &v);
    if (mem > 0 && s->proof_gpu && gvb_proof_check_memory_total(proof, mem, why, len) != 0)
        return -1;
    if (v.mps_pipe[0] && s->proof_gpu && check_mps(s, &v, proof, why, len) != 0)
        return -1;
    if (!requested && !v.mps_pipe[0]) {
        snprintf(why, len, "limit variables are set but no layer is loaded to read them (no "
                           "preload library, no MPS daemon)");
        return -1;
    }
    gvb_proof_compute_finding(proof, expected_compute(s, &v));
    return 0;
}

static void put(gvb_kv *config, const char *key, const char *v)
{
    if (nonempty(v))
        gvb_kv_set_text(config, key, "%s", v);
}

static void external_describe(gvb_system *s, gvb_kv *config)
{
    (void)s;
    external_view v;
    look(&v);
    gvb_kv_set_text(config, "layer", "%s", anything(&v) ? "applied by the environment"
                                                        : "none detected in the environment");
    put(config, "ld_so_preload", v.ld_so_preload);
    put(config, "LD_PRELOAD", v.ld_preload);
    put(config, "CUDA_DEVICE_MEMORY_LIMIT", v.mem_limit);
    put(config, "CUDA_DEVICE_SM_LIMIT", v.sm_limit);
    put(config, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", v.thread_pct);
    put(config, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", v.pinned);
    put(config, "mps_pipe_dir", v.mps_pipe);
    gvb_kv_set_text(config, "environment", "passed to tenants unmodified");
}

const gvb_system_ops gvb_system_external = {
    .name = "external",
    .summary = "a layer applied by the environment (/etc/ld.so.preload, limit variables, MPS)",
    .needs_gpu = 1,
    .tenant_env = external_env,
    .verify_active = external_verify,
    .describe = external_describe,
};
