/* The ground-truth monitor, parent side (see monitor.h). The monitor process writes one
 * line per sample:
 *   M <t> <dev_used_bytes> <dev_util_pct> <procs_ok> <util_ok> <n> <pid>:<used>:<sm>[:<anc>] ...
 *   I <key> <text>      something the parent should record (a query NVML does not support;
 *                       mps_server <pid>: an MPS server is on the GPU)
 *   E <why>             NVML is not usable; the monitor exits
 * t is CLOCK_MONOTONIC seconds (the same clock as the parent); <sm> is '-' when NVML holds
 * no recent utilization sample for that process; <anc> its ancestors, parent first, '/'
 * between them ('-': none known). A process counts for tenant i when it or one of its
 * ancestors is that tenant: a workload's tenant starts the program that uses the GPU. Memory
 * and SM utilization of a tenant's processes add up. */
#include "core/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/env.h"
#include "core/protocol.h"
#include "core/spawn.h"
#include "systems/system.h"

static int temp_fd(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/gvb-monitor.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Starts `__monitor` (sampling every GVB_MONITOR_INTERVAL_MS, or one sample and then waiting
 * when hold) and waits up to 3 s for its first line. */
static int start(gvb_monitor *m, const char *self_exe, char *const *base_env, const char *uuid,
                 int hold)
{
    memset(m, 0, sizeof *m);
    m->pid = -1;
    m->fd = temp_fd();
    if (m->fd < 0) {
        snprintf(m->why, sizeof m->why, "cannot create the monitor's file: %s", strerror(errno));
        return -1;
    }
    gvb_env env;
    if (gvb_env_init(&env, base_env) != 0) {
        snprintf(m->why, sizeof m->why, "out of memory");
        gvb_env_free(&env);
        return -1;
    }
    gvb_env_strip_layers(&env); /* no preload, no MPS client environment */
    char interval[32], dev[160];
    snprintf(interval, sizeof interval, "--interval-ms=%d", GVB_MONITOR_INTERVAL_MS);
    snprintf(dev, sizeof dev, "--uuid=%s", uuid ? uuid : "");
    char *argv[] = {"gpu-virt-bench", "__monitor", interval, dev, hold ? "--hold" : NULL, NULL};
    /* dies with the parent, so an aborted run leaves no sampler behind */
    const int fds[] = {GVB_SPAWN_NULL, GVB_SPAWN_NULL, GVB_SPAWN_NULL, m->fd};
    pid_t pid = gvb_spawn(self_exe, argv, env.vars, fds, 4, GVB_SPAWN_DIE_WITH_PARENT);
    gvb_env_free(&env);
    if (pid < 0) {
        snprintf(m->why, sizeof m->why, "cannot start the monitor: %s", strerror(errno));
        return -1;
    }
    m->pid = pid;
    /* Ground truth must cover the tenants' start: wait (up to 3 s) for the first sample, or
     * for the line saying why there is none, before the tenants are started. */
    struct stat st;
    for (int i = 0; i < 600; i++) {
        if (fstat(m->fd, &st) == 0 && st.st_size > 0)
            break;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            m->pid = -1; /* it ended; what it wrote (if anything) says why */
            break;
        }
        usleep(5000);
    }
    return 0;
}

int gvb_monitor_start(gvb_monitor *m, const char *self_exe, char *const *base_env,
                      const char *uuid)
{
    return start(m, self_exe, base_env, uuid, 0);
}

static void stop(gvb_monitor *m, char *note, size_t len)
{
    note[0] = '\0';
    if (m->pid <= 0)
        return;
    int status = 0;
    kill(m->pid, SIGTERM); /* by its own pid */
    for (int i = 0; i < 200; i++) {
        pid_t r = waitpid(m->pid, &status, WNOHANG);
        if (r == m->pid) {
            m->pid = -1;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        usleep(10000);
    }
    if (m->pid > 0) {
        int rc = gvb_spawn_wait(m->pid, 0, &status); /* SIGKILL, at most 10 s more */
        m->pid = -1;
        snprintf(note, len, rc == 2 ? "the monitor did not die of SIGKILL (blocked in the "
                                      "driver?) and was left"
                                    : "the monitor did not stop on SIGTERM and was killed");
        return;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
        snprintf(note, len, "the monitor died of signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(note, len, "the monitor exited with status %d", WEXITSTATUS(status));
}

/* The first line of text that starts with `tag` and a space, or NULL. */
static const char *line_with(const char *text, char tag)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (p[0] == tag && p[1] == ' ')
            return p;
    return NULL;
}

int gvb_monitor_hold(gvb_monitor *m, const char *self_exe, char *const *base_env,
                     const char *uuid)
{
    if (start(m, self_exe, base_env, uuid, 1) != 0)
        return -1;
    char text[4096] = "";
    /* "I" lines may come first: wait for a sample, an error or the end, up to 30 s (NVML's
     * first init of a GPU without persistence mode can take seconds) */
    for (int i = 0; i < 6000; i++) {
        int ended = m->pid <= 0 || waitpid(m->pid, NULL, WNOHANG) == m->pid;
        if (ended)
            m->pid = -1;
        ssize_t k = pread(m->fd, text, sizeof text - 1, 0); /* after the end: all it wrote */
        text[k > 0 ? k : 0] = '\0';
        if (line_with(text, 'M') && m->pid > 0)
            return 0;
        if (ended || line_with(text, 'E'))
            break;
        usleep(5000);
    }
    const char *e = line_with(text, 'E');
    snprintf(m->why, sizeof m->why, "%.*s", e ? (int)strcspn(e + 2, "\n") : 255,
             e ? e + 2 : m->pid > 0 ? "NVML gave no sample within 30 s"
                                    : "the NVML process ended without a sample");
    gvb_monitor_release(m);
    return -1;
}

int gvb_monitor_energy(gvb_monitor *m, double *joules)
{
    struct stat st;
    if (!gvb_monitor_alive(m) || m->fd < 0 || fstat(m->fd, &st) != 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* the clock of its lines' t */
    double asked = (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
    if (kill(m->pid, SIGUSR1) != 0)
        return -1;
    char buf[1024];
    for (int i = 0; i < 500; i++) { /* its answer is appended after what was there */
        ssize_t k = pread(m->fd, buf, sizeof buf - 1, st.st_size);
        buf[k > 0 ? k : 0] = '\0';
        /* the first complete "J" line stamped after the question (a late answer to an earlier
         * one that timed out is older) */
        for (const char *j = buf; (j = strstr(j, "J ")) != NULL; j++) {
            double t;
            unsigned long long mj;
            if ((j != buf && j[-1] != '\n') || !strchr(j, '\n'))
                continue;
            if (sscanf(j, "J %lf", &t) != 1 || t < asked - 1e-3)
                continue;
            if (sscanf(j, "J %lf %llu", &t, &mj) != 2)
                return -1; /* "J t -": NVML has no energy counter here */
            *joules = (double)mj / 1000.0;
            return 0;
        }
        usleep(2000);
    }
    return -1;
}

int gvb_monitor_alive(gvb_monitor *m)
{
    int st;
    if (m->pid > 0 && waitpid(m->pid, &st, WNOHANG) == m->pid)
        m->pid = -1;
    return m->pid > 0;
}

void gvb_monitor_release(gvb_monitor *m)
{
    char note[128];
    stop(m, note, sizeof note);
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

static char *read_all(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return NULL;
    size_t have = 0;
    while (have < (size_t)st.st_size) {
        ssize_t k = pread(fd, buf + have, (size_t)st.st_size - have, (off_t)have);
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    buf[have] = '\0';
    return buf;
}

void gvb_monitor_finish(gvb_monitor *m, const pid_t *pids, int n, double t0, gvb_result *r)
{
    char note[128];
    stop(m, note, sizeof note);
    if (m->fd < 0 || m->why[0]) {
        gvb_kv_set_text(&r->extras, "monitor", "unavailable: %s",
                        m->why[0] ? m->why : "not started");
    } else {
        char *text = read_all(m->fd);
        gvb_monitor_apply(text ? text : "", pids, n, t0, note, r);
        free(text);
    }
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

/* ---- parsing --------------------------------------------------------------------------- */

typedef struct tick {
    double t, dev_used, dev_util;
    int procs_ok, util_ok;
} tick;

static double field_num(const char *s)
{
    if (!s || strcmp(s, "-") == 0)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return end == s ? NAN : v;
}

static int series_names(int i, char *used, char *sm, size_t len)
{
    snprintf(used, len, "monitor.t%d.used_bytes", i);
    snprintf(sm, len, "monitor.t%d.sm_util_pct", i);
    return 0;
}

/* The tenant whose pid is pid or one of anc ("a1/a2/..", '-' or NULL: none), else -1. */
static int tenant_of(long pid, const char *anc, const pid_t *pids, int n)
{
    for (const char *p = anc; ; ) {
        for (int i = 0; i < n; i++)
            if (pids[i] > 0 && pids[i] == (pid_t)pid)
                return i;
        if (!p || !*p)
            return -1;
        char *end;
        pid = strtol(p, &end, 10);
        if (end == p)
            return -1;
        p = *end == '/' ? end + 1 : NULL;
    }
}

/* One M line into the series; returns 0 or -1 when malformed. */
static int apply_tick(char *line, const pid_t *pids, int n, double t0, gvb_result *r,
                      int *util_ever, int *seen)
{
    char *save = NULL;
    char *f[7];
    for (int k = 0; k < 7; k++)
        if (!(f[k] = strtok_r(k ? NULL : line, " ", &save)))
            return -1;
    tick tk = {field_num(f[1]), field_num(f[2]), field_num(f[3]), atoi(f[4]), atoi(f[5])};
    if (isnan(tk.t))
        return -1;
    double *used = calloc((size_t)n + 1, sizeof *used);
    double *sm = calloc((size_t)n + 1, sizeof *sm);
    if (!used || !sm) {
        free(used);
        free(sm);
        return -1;
    }
    for (int i = 0; i < n; i++)
        sm[i] = tk.util_ok ? 0.0 : NAN; /* no recent sample for a process: it ran no kernel */
    for (char *e = strtok_r(NULL, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
        char *c1 = strchr(e, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        char *c3 = strchr(c2 + 1, ':');
        *c1 = *c2 = '\0';
        if (c3)
            *c3 = '\0';
        long pid = strtol(e, NULL, 10);
        int i = tenant_of(pid, c3 ? c3 + 1 : NULL, pids, n);
        if (i < 0)
            continue;
        seen[i] = 1;
        double u = field_num(c1 + 1), s = field_num(c2 + 1);
        if (!isnan(u))
            used[i] += u;
        if (tk.util_ok && !isnan(s))
            sm[i] += s;
    }
    gvb_series_push(gvb_result_series(r, "monitor.time_s"), tk.t - t0);
    gvb_series_push(gvb_result_series(r, "monitor.device_used_bytes"), tk.dev_used);
    gvb_series_push(gvb_result_series(r, "monitor.device_util_pct"), tk.dev_util);
    *util_ever |= tk.util_ok;
    for (int i = 0; i < n; i++) {
        char un[64], sn[64];
        series_names(i, un, sn, sizeof un);
        gvb_series_push(gvb_result_series(r, un), tk.procs_ok ? used[i] : NAN);
        gvb_series_push(gvb_result_series(r, sn), sm[i]);
    }
    free(used);
    free(sm);
    return 0;
}

/* Drops a named series again (the per-process SM series when NVML never supported it). */
static void drop_series(gvb_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_series; i++) {
        if (strcmp(r->series[i].name, name) != 0)
            continue;
        gvb_series_free(&r->series[i]);
        memmove(&r->series[i], &r->series[i + 1], (r->n_series - i - 1) * sizeof *r->series);
        r->n_series--;
        return;
    }
}

void gvb_monitor_apply(const char *text, const pid_t *pids, int n, double t0,
                       const char *exit_note, gvb_result *r)
{
    char *buf = strdup(text ? text : "");
    int *seen = calloc((size_t)n + 1, sizeof *seen);
    if (!buf || !seen) {
        free(buf);
        free(seen);
        gvb_kv_set_text(&r->extras, "monitor", "unavailable: out of memory");
        return;
    }
    int ticks = 0, bad = 0, util_ever = 0;
    char err[512] = "", util_why[256] = "", mps[32] = "";
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == 'M' && line[1] == ' ') {
            if (apply_tick(line, pids, n, t0, r, &util_ever, seen) == 0)
                ticks++;
            else
                bad++;
        } else if (line[0] == 'E' && line[1] == ' ') {
            snprintf(err, sizeof err, "%s", line + 2);
        } else if (strncmp(line, "I sm_util ", 10) == 0) {
            snprintf(util_why, sizeof util_why, "%s", line + 10);
        } else if (strncmp(line, "I mps_server ", 13) == 0) {
            snprintf(mps, sizeof mps, "%s", line + 13);
        } else if (strncmp(line, "I hooked ", 9) == 0) {
            gvb_kv_set_text(&r->extras, "monitor.warning",
                            "the monitor itself has %s mapped (from /etc/ld.so.preload): its "
                            "NVML readings may be the layer's",
                            line + 9);
        }
    }
    if (ticks == 0) {
        gvb_kv_set_text(&r->extras, "monitor", "unavailable: %s",
                        err[0]                     ? err
                        : exit_note && exit_note[0] ? exit_note
                                                    : "the monitor wrote no samples");
    } else {
        /* Under MPS the clients' kernels run in the server's context, and NVML's per-process
         * utilization does not follow them: on the H200 IS-003's client read 9 % while it got
         * 50 % of the GPU, two serving clients 0.3 to 11 % while each beat native at 41 %. */
        if (!util_ever || mps[0]) {
            for (int i = 0; i < n; i++) {
                char un[64], sn[64];
                series_names(i, un, sn, sizeof un);
                drop_series(r, sn);
            }
            if (mps[0])
                gvb_kv_set_text(&r->extras, "monitor.sm_util",
                                "unavailable: an MPS server (pid %s) was on the GPU, and NVML's "
                                "per-process utilization does not follow its clients' kernels",
                                mps);
            else
                gvb_kv_set_text(&r->extras, "monitor.sm_util", "unavailable: %s",
                                util_why[0] ? util_why : "NVML gave no per-process utilization");
        }
        int tenants_seen = 0;
        for (int i = 0; i < n; i++)
            tenants_seen += seen[i];
        gvb_kv_set_text(&r->extras, "monitor",
                        "NVML every %d ms from a process without preload or MPS environment",
                        GVB_MONITOR_INTERVAL_MS);
        gvb_kv_set_num(&r->extras, "monitor.samples", ticks);
        gvb_kv_set_num(&r->extras, "monitor.tenants_seen", tenants_seen);
        if (bad)
            gvb_kv_set_num(&r->extras, "monitor.malformed_lines", bad);
    }
    free(buf);
    free(seen);
}
