/* mps: NVIDIA MPS with a private control daemon. The compute mode is never changed: the
 * daemon gets its own pipe and log directories in a private run directory, and only
 * processes that carry that pipe directory become its clients, so native and MPS tenants
 * can coexist. Clients get CUDA_MPS_ACTIVE_THREAD_PERCENTAGE (--compute-limit) and
 * CUDA_MPS_PINNED_DEVICE_MEM_LIMIT (--memory-limit). The daemon is stopped with `quit` at
 * teardown, which the runner also reaches after SIGINT/SIGTERM and after failures, and the
 * teardown waits until no daemon or server process of ours is left. Proof: the proof
 * worker is among the clients of a server of our daemon; with a thread percentage below
 * 100, the multiprocessor count it sees is reduced. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "systems/mps_control.h"
#include "systems/system.h"

#define MPS_STOP_TIMEOUT_S 15.0

typedef struct mps_priv {
    gvb_mps_ctl ctl;
    char rundir[PATH_MAX];
    int started;
    char stop_report[512];
} mps_priv;

static mps_priv *priv_of(gvb_system *s)
{
    if (!s->priv)
        s->priv = calloc(1, sizeof(mps_priv));
    return s->priv;
}

static int mps_probe(gvb_system *s, char *why, size_t len)
{
    mps_priv *p = priv_of(s);
    if (!p)
        return snprintf(why, len, "out of memory"), -1;
    return gvb_mps_find_control(p->ctl.control, sizeof p->ctl.control, why, len);
}

static int make_dir(const char *base, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", base, name);
    return mkdir(out, 0700);
}

static int mps_setup(gvb_system *s, char *why, size_t len)
{
    mps_priv *p = priv_of(s);
    if (!p)
        return snprintf(why, len, "out of memory"), GVB_FAIL;
    if (gvb_rundir_create("mps", p->rundir, sizeof p->rundir) != 0) {
        snprintf(why, len, "cannot create a private run directory: %s", strerror(errno));
        p->rundir[0] = '\0';
        return GVB_FAIL;
    }
    if (make_dir(p->rundir, "pipe", p->ctl.pipe_dir, sizeof p->ctl.pipe_dir) != 0 ||
        make_dir(p->rundir, "log", p->ctl.log_dir, sizeof p->ctl.log_dir) != 0) {
        snprintf(why, len, "cannot create MPS directories in %s: %s", p->rundir, strerror(errno));
        return GVB_FAIL;
    }
    p->started = 1; /* from here on, teardown stops whatever may have started */
    if (gvb_mps_start(&p->ctl, why, len) != 0)
        return GVB_SKIP;
    return 0;
}

static int mps_env(gvb_system *s, int tenant, int tenants, gvb_env *env)
{
    (void)tenant;
    (void)tenants;
    mps_priv *p = s->priv;
    if (!p || !p->ctl.pipe_dir[0])
        return -1;
    const gvb_options *o = s->opts;
    gvb_env_strip_layers(env);
    int rc = gvb_env_set(env, "CUDA_MPS_PIPE_DIRECTORY", p->ctl.pipe_dir);
    rc |= gvb_env_set(env, "CUDA_MPS_LOG_DIRECTORY", p->ctl.log_dir);
    if (o->compute_limit > 0)
        rc |= gvb_env_setf(env, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "%d", o->compute_limit);
    if (o->memory_limit) {
        unsigned long long mib = (unsigned long long)(o->memory_limit >> 20);
        rc |= gvb_env_setf(env, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "0=%lluM", mib ? mib : 1);
    }
    return rc ? -1 : 0;
}

int gvb_mps_check_served(const gvb_mps_ctl *ctl, gvb_kv *proof, char *why, size_t len)
{
    pid_t servers[16], clients[256];
    double pid = gvb_kv_num(proof, "pid");
    int ns = gvb_mps_server_list(ctl, servers, 16);
    if (ns < 0)
        return snprintf(why, len, "get_server_list failed on the MPS control daemon at %s",
                        ctl->pipe_dir), -1;
    if (ns == 0)
        return snprintf(why, len, "the MPS daemon at %s runs no server: the proof worker "
                        "(pid %.0f) was not its client", ctl->pipe_dir, pid), -1;
    char list[256] = "";
    size_t off = 0;
    for (int i = 0; i < ns; i++) {
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%d", i ? "," : "",
                                (int)servers[i]);
        int nc = gvb_mps_client_list(ctl, servers[i], clients, 256);
        for (int k = 0; k < nc; k++) {
            if ((double)clients[k] == pid) {
                gvb_kv_set_num(proof, "mps_server_pid", servers[i]);
                gvb_kv_set_text(proof, "mps_served",
                                "the proof worker (pid %.0f) is a client of MPS server %d", pid,
                                (int)servers[i]);
                return 0;
            }
        }
    }
    gvb_kv_set_text(proof, "mps_servers", "%s", list);
    snprintf(why, len,
             "the proof worker (pid %.0f) is not among the clients of our MPS server(s) %s",
             pid, list);
    return -1;
}

int gvb_mps_check_sm_reduced(const gvb_system *s, gvb_kv *proof, int pct, char *why, size_t len)
{
    double seen = gvb_kv_num(proof, "sm_count");
    double full = s->gpu ? gvb_kv_num(s->gpu, "sm_count") : NAN;
    if (isnan(seen) || isnan(full))
        return snprintf(why, len, "no SM counts to compare (under MPS %.0f, GPU %.0f)", seen,
                        full), -1;
    if (seen < full) {
        gvb_kv_set_text(proof, "sm_check", "%.0f of %.0f SMs visible with %d %% active threads",
                        seen, full, pct);
        return 0;
    }
    snprintf(why, len, "the client sees all %.0f SMs although CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"
                       " is %d", seen, pct);
    return -1;
}

static int mps_verify(gvb_system *s, gvb_kv *proof, char *why, size_t len)
{
    mps_priv *p = s->priv;
    if (!s->proof_gpu) {
        gvb_kv_set_text(proof, "mps_served", "not checked: no GPU metric was selected (an MPS "
                                             "server starts only for a CUDA client)");
        return 0;
    }
    if (gvb_mps_check_served(&p->ctl, proof, why, len) != 0)
        return -1;
    int pct = s->opts->compute_limit;
    if (pct > 0 && pct < 100 && gvb_mps_check_sm_reduced(s, proof, pct, why, len) != 0)
        return -1;
    gvb_proof_compute_finding(proof, pct);
    return 0;
}

static void mps_describe(gvb_system *s, gvb_kv *config)
{
    mps_priv *p = s->priv;
    gvb_kv_set_text(config, "layer", "NVIDIA MPS, private control daemon");
    if (!p)
        return;
    gvb_kv_set_text(config, "control", "%s", p->ctl.control);
    if (p->rundir[0]) {
        gvb_kv_set_text(config, "run_dir", "%s", p->rundir);
        gvb_kv_set_text(config, "pipe_dir", "%s", p->ctl.pipe_dir);
        gvb_kv_set_text(config, "log_dir", "%s", p->ctl.log_dir);
    }
    pid_t pids[8];
    int n = p->ctl.pipe_dir[0] ? gvb_mps_our_processes(p->ctl.pipe_dir, pids, 8) : 0;
    char list[128] = "";
    for (int i = 0, off = 0; i < n && off < (int)sizeof list; i++)
        off += snprintf(list + off, sizeof list - (size_t)off, "%s%d", i ? "," : "", (int)pids[i]);
    if (n > 0) /* the control daemon (a real one has started no server yet) */
        gvb_kv_set_text(config, "daemon_pids", "%s", list);
    if (s->opts->compute_limit)
        gvb_kv_set_num(config, "active_thread_pct", s->opts->compute_limit);
    if (s->opts->memory_limit)
        gvb_kv_set_text(config, "pinned_mem_limit", "0=%lluM",
                        (unsigned long long)(s->opts->memory_limit >> 20));
    gvb_kv_set_text(config, "compute_mode", "unchanged");
}

static void mps_teardown(gvb_system *s, gvb_kv *notes)
{
    mps_priv *p = s->priv;
    if (!p)
        return;
    if (p->started) {
        double t = MPS_STOP_TIMEOUT_S;
        const char *env = getenv("GVB_MPS_STOP_TIMEOUT_S"); /* tests: a daemon that hangs */
        if (env && atof(env) > 0)
            t = atof(env);
        gvb_mps_stop(&p->ctl, t, p->stop_report, sizeof p->stop_report);
        p->started = 0;
    }
    int removed = p->rundir[0] ? gvb_rundir_remove(p->rundir) : 0;
    if (notes && p->stop_report[0])
        gvb_kv_set_text(notes, "teardown", "%s; run_dir %s", p->stop_report,
                        removed == 0 ? "removed" : "could not be removed");
    free(p);
    s->priv = NULL;
}

const gvb_system_ops gvb_system_mps = {
    .name = "mps",
    .summary = "NVIDIA MPS with a private control daemon (compute mode unchanged)",
    .needs_gpu = 1,
    .probe = mps_probe,
    .setup = mps_setup,
    .tenant_env = mps_env,
    .verify_active = mps_verify,
    .describe = mps_describe,
    .teardown = mps_teardown,
};
