/* One group of tenant processes (see group.h): fork/exec with the protocol and barrier fds,
 * the phase barriers, reading protocol lines and stderr, the deadline, kill by pid, reap, and
 * each tenant's outcome. Pure C, no CUDA. */
#include "core/group.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sanitize.h"
#include "core/spawn.h"
#include "core/worker.h"

volatile sig_atomic_t gvb_stop_requested;

static void tail_append(gvb_tenant *t, const char *line)
{
    size_t have = strlen(t->err_tail), add = strlen(line) + 1;
    if (add >= GVB_TENANT_ERR_TAIL)
        return;
    if (have + add >= GVB_TENANT_ERR_TAIL) {
        /* drop the oldest lines */
        const char *cut = t->err_tail + (have + add - GVB_TENANT_ERR_TAIL) + 1;
        const char *nl = strchr(cut, '\n');
        memmove(t->err_tail, nl ? nl + 1 : t->err_tail + have, strlen(nl ? nl + 1 : "") + 1);
    }
    strcat(t->err_tail, line);
    strcat(t->err_tail, "\n");
}

static void handle_line(gvb_group *g, int i, char *line)
{
    gvb_tenant *t = &g->t[i];
    gvb_msg m;
    if (gvb_proto_parse(line, &m) != 0) {
        t->proto_errors++;
        return;
    }
    if (m.type == GVB_MSG_READY) {
        int k = (int)m.value;
        if (k >= GVB_MAX_PHASES || k < t->reached) {
            t->proto_errors++;
            return;
        }
        t->reached = k;
        if (k == 0)
            t->ready = 1;
        return;
    }
    if (m.type == GVB_MSG_STATUS) {
        gvb_status s;
        if (gvb_status_parse(m.name, &s) != 0) {
            t->proto_errors++;
            return;
        }
        t->has_status = 1;
        t->status = s;
        snprintf(t->reason, sizeof t->reason, "%s", m.text ? m.text : "");
        return;
    }
    g->on_msg(g->ctx, i, &m);
}

/* Reads what is available on fd; returns 0 at EOF, 1 otherwise. */
static int drain(gvb_group *g, int i, int is_err)
{
    gvb_tenant *t = &g->t[i];
    char buf[8192];
    ssize_t k = read(is_err ? t->err_fd : t->out_fd, buf, sizeof buf);
    if (k < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (k == 0)
        return 0;
    char *line = is_err ? t->eline : t->line;
    size_t *len = is_err ? &t->eline_len : &t->line_len;
    size_t cap = is_err ? sizeof t->eline : sizeof t->line;
    for (ssize_t j = 0; j < k; j++) {
        if (buf[j] != '\n' && *len + 1 < cap) {
            line[(*len)++] = buf[j];
            continue;
        }
        if (buf[j] != '\n')
            continue; /* overlong line: keep its head, drop the rest */
        line[*len] = '\0';
        if (is_err) {
            tail_append(t, line);
            if (g->on_log)
                g->on_log(g->log_ctx, g->system, g->metric, i, line);
        } else {
            handle_line(g, i, line);
        }
        *len = 0;
    }
    return 1;
}

static void reap(gvb_group *g, int block);

static void kill_all(gvb_group *g)
{
    if (g->kill_time == 0)
        g->kill_time = gvb_now();
    reap(g, 0); /* a tenant that already exited is not marked as killed */
    for (int i = 0; i < g->n; i++) {
        if (g->t[i].pid > 0 && !g->t[i].exited) {
            kill(g->t[i].pid, SIGKILL); /* by its own pid, never a gvb_group */
            g->t[i].killed = 1;
        }
    }
}

static void release_phase(gvb_group *g, int k)
{
    if (g->go_w[k] >= 0) {
        close(g->go_w[k]);
        g->go_w[k] = -1;
    }
}

static void release_all(gvb_group *g)
{
    for (int k = 0; k < GVB_MAX_PHASES; k++)
        release_phase(g, k);
}

/* Phase k >= 1 opens when every tenant has reached it or exited (an exited or crashed
 * tenant must not hold the others forever; the metric judges what that means). */
static void release_phases(gvb_group *g)
{
    for (int k = 1; k < GVB_MAX_PHASES; k++) {
        if (g->go_w[k] < 0)
            continue;
        int waiting = 0, blocked = 0;
        for (int i = 0; i < g->n; i++) {
            if (g->t[i].reached >= k)
                waiting++;
            else if (!g->t[i].exited)
                blocked = 1;
        }
        if (waiting && !blocked)
            release_phase(g, k);
    }
}

/* A process blocked inside the driver dies only when the driver lets go: after
 * GVB_GROUP_KILL_WAIT_S the group stops waiting for it. */

static int all_done(gvb_group *g, double now)
{
    for (int i = 0; i < g->n; i++) {
        gvb_tenant *t = &g->t[i];
        int fds_open = t->out_fd >= 0 || t->err_fd >= 0;
        if (!t->exited && t->killed && g->kill_time > 0 && now - g->kill_time > GVB_GROUP_KILL_WAIT_S)
            continue; /* abandoned: tenant_outcome says so */
        /* a grandchild may hold the pipes open after the tenant exits: stop waiting */
        if (!t->exited || (fds_open && now - t->exit_time < 1.0))
            return 0;
    }
    return 1;
}

static void reap(gvb_group *g, int block)
{
    for (int i = 0; i < g->n; i++) {
        gvb_tenant *t = &g->t[i];
        if (t->pid <= 0 || t->exited)
            continue;
        pid_t r = waitpid(t->pid, &t->wstatus, block ? 0 : WNOHANG);
        if (r == t->pid) {
            t->exited = 1;
            t->exit_time = gvb_now();
        }
    }
}

int gvb_group_run(gvb_group *g, gvb_group_build_fn build, void *bctx)
{
    int go_r[GVB_MAX_PHASES];
    for (int k = 0; k < GVB_MAX_PHASES; k++)
        go_r[k] = g->go_w[k] = -1;
    for (int i = 0; i < g->n; i++) {
        g->t[i].out_fd = g->t[i].err_fd = -1;
        g->t[i].reached = -1;
    }
    for (int k = 0; k < GVB_MAX_PHASES; k++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            goto fail;
        go_r[k] = p[0];
        g->go_w[k] = p[1];
    }
    for (int i = 0; i < g->n; i++) {
        gvb_tenant *t = &g->t[i];
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) != 0)
            goto fail;
        if (pipe2(err, O_CLOEXEC) != 0) {
            close(out[0]);
            close(out[1]);
            goto fail;
        }
        char **argv = NULL;
        gvb_env env;
        if (gvb_env_init(&env, g->base_env) != 0 || build(bctx, i, &argv, &env) != 0) {
            snprintf(t->reason, sizeof t->reason, "cannot prepare tenant %d", i);
            gvb_env_free(&env);
            close(out[0]); close(out[1]); close(err[0]); close(err[1]);
            goto fail;
        }
        /* 0 /dev/null, 1 and 2 its stderr pipe, 3 the protocol, 4.. the phase barriers */
        int fds[GVB_FD_GO + GVB_MAX_PHASES] = {GVB_SPAWN_NULL, err[1], err[1], out[1]};
        for (int k = 0; k < GVB_MAX_PHASES; k++)
            fds[GVB_FD_GO + k] = go_r[k];
        pid_t pid = gvb_spawn(g->exe, argv, env.vars, fds, GVB_FD_GO + GVB_MAX_PHASES, 0);
        if (pid < 0)
            snprintf(t->reason, sizeof t->reason, "cannot start tenant %d (%s): %s", i, g->exe,
                     strerror(errno));
        for (char **a = argv; a && *a; a++)
            free(*a);
        free(argv);
        gvb_env_free(&env);
        close(out[1]);
        close(err[1]);
        if (pid < 0) {
            close(out[0]);
            close(err[0]);
            goto fail;
        }
        t->pid = pid;
        t->out_fd = out[0];
        t->err_fd = err[0];
    }
    for (int k = 0; k < GVB_MAX_PHASES; k++) {
        close(go_r[k]);
        go_r[k] = -1;
    }

    double deadline = gvb_now() + g->deadline_s;
    struct pollfd *pfd = calloc((size_t)g->n * 2, sizeof *pfd);
    if (!pfd) {
        kill_all(g);
        reap(g, 1);
        return -1;
    }
    for (;;) {
        double now = gvb_now();
        reap(g, 0);
        if (all_done(g, now))
            break;
        if (gvb_stop_requested && !g->interrupted) {
            g->interrupted = 1;
            kill_all(g);
        }
        if (now > deadline && !g->timed_out && !g->interrupted) {
            g->timed_out = 1;
            kill_all(g);
        }
        int ready = 0, gone = 0;
        for (int i = 0; i < g->n; i++) {
            ready += g->t[i].ready;
            gone += !g->t[i].ready && g->t[i].exited;
        }
        if (ready == g->n) {
            if (g->on_ready && !g->ready_called && g->go_w[0] >= 0) {
                g->ready_called = 1;
                g->on_ready(g->ctx, g);
            }
            release_phase(g, 0);
        } else if (gone > 0 && g->go_w[0] >= 0) {
            /* a tenant died before the barrier: the others would wait for it forever, and
             * the metric cannot be measured as designed */
            kill_all(g);
            release_all(g);
        }
        release_phases(g);
        int np = 0;
        for (int i = 0; i < g->n; i++) {
            if (g->t[i].out_fd >= 0)
                pfd[np++] = (struct pollfd){.fd = g->t[i].out_fd, .events = POLLIN};
            if (g->t[i].err_fd >= 0)
                pfd[np++] = (struct pollfd){.fd = g->t[i].err_fd, .events = POLLIN};
        }
        int wait_ms = 100;
        if (np == 0) {
            usleep(20000);
            continue;
        }
        if (poll(pfd, (nfds_t)np, wait_ms) <= 0)
            continue;
        for (int p = 0; p < np; p++) {
            if (!(pfd[p].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            for (int i = 0; i < g->n; i++) {
                gvb_tenant *t = &g->t[i];
                int is_err = pfd[p].fd == t->err_fd;
                if (pfd[p].fd != t->out_fd && !is_err)
                    continue;
                if (!drain(g, i, is_err)) {
                    close(pfd[p].fd);
                    if (is_err)
                        t->err_fd = -1;
                    else
                        t->out_fd = -1;
                }
                break;
            }
        }
    }
    free(pfd);
    release_all(g);
    for (int i = 0; i < g->n; i++) {
        if (g->t[i].out_fd >= 0)
            close(g->t[i].out_fd);
        if (g->t[i].err_fd >= 0)
            close(g->t[i].err_fd);
        g->t[i].out_fd = g->t[i].err_fd = -1;
    }
    return 0;

fail:
    for (int k = 0; k < GVB_MAX_PHASES; k++)
        if (go_r[k] >= 0)
            close(go_r[k]);
    kill_all(g);
    release_all(g);
    reap(g, 1);
    for (int i = 0; i < g->n; i++) {
        if (g->t[i].out_fd >= 0)
            close(g->t[i].out_fd);
        if (g->t[i].err_fd >= 0)
            close(g->t[i].err_fd);
    }
    return -1;
}

/* Last non-empty line of a tenant's stderr, for a reason. */
const char *gvb_tenant_last_err(const gvb_tenant *t, char *buf, size_t len)
{
    size_t n = strlen(t->err_tail);
    while (n > 0 && t->err_tail[n - 1] == '\n')
        n--;
    size_t s = n;
    while (s > 0 && t->err_tail[s - 1] != '\n')
        s--;
    snprintf(buf, len, "%.*s", (int)(n - s), t->err_tail + s);
    return gvb_sanitize_text(buf); /* whatever the tenant (or its layer) printed */
}

/* What happened to one tenant, as a status and reason. The wait status is the truth: a
 * tenant that exited on its own is judged by what it reported, one that died of a signal
 * we did not send crashed, and one we SIGKILLed was over its deadline or stopped because
 * another tenant failed. */
gvb_status gvb_tenant_outcome(const gvb_group *g, const gvb_tenant *t, int i, char *reason,
                              size_t len, int tolerate_death)
{
    char errl[256];
    gvb_tenant_last_err(t, errl, sizeof errl);
    const char *sep = errl[0] ? "; last stderr: " : "";
    /* Ctrl-C reaches the whole process group: a tenant the terminal's SIGINT (or a SIGTERM
     * to the group) killed before this loop saw the stop was interrupted, not crashed */
    int stop_sig = WIFSIGNALED(t->wstatus) &&
                   (WTERMSIG(t->wstatus) == SIGINT || WTERMSIG(t->wstatus) == SIGTERM);
    if (g->interrupted || (gvb_stop_requested && t->exited && stop_sig)) {
        snprintf(reason, len, "interrupted");
        return GVB_FAIL;
    }
    if (!t->exited) {
        snprintf(reason, len, "tenant %d (pid %d) did not exit within %.0f s of SIGKILL "
                 "(blocked inside the driver?)", i, (int)t->pid, GVB_GROUP_KILL_WAIT_S);
        return GVB_FAIL;
    }
    if (WIFSIGNALED(t->wstatus)) {
        int sig = WTERMSIG(t->wstatus);
        if (tolerate_death && !t->killed) { /* died on purpose: the metric judges it */
            reason[0] = '\0';
            return GVB_OK;
        }
        if (t->killed && sig == SIGKILL && g->timed_out)
            snprintf(reason, len,
                     "tenant %d (pid %d) overran its %.1f s deadline and was killed%s%s", i,
                     (int)t->pid, g->deadline_s, sep, errl);
        else if (t->killed && sig == SIGKILL)
            snprintf(reason, len, "tenant %d was stopped because another tenant failed", i);
        else
            snprintf(reason, len, "tenant %d (pid %d) crashed: killed by signal %d (%s)%s%s", i,
                     (int)t->pid, sig, strsignal(sig), sep, errl);
        return GVB_FAIL;
    }
    if (t->has_status && t->status != GVB_OK) {
        snprintf(reason, len, "%s", t->reason);
        return t->status;
    }
    if (WEXITSTATUS(t->wstatus) != 0) {
        snprintf(reason, len, "tenant %d exited with status %d%s%s", i,
                 WEXITSTATUS(t->wstatus), sep, errl);
        return GVB_FAIL;
    }
    if (!t->has_status) {
        snprintf(reason, len, "tenant %d ended without reporting a status%s%s", i, sep, errl);
        return GVB_FAIL;
    }
    if (t->proto_errors) {
        snprintf(reason, len, "tenant %d sent %d malformed protocol lines", i, t->proto_errors);
        return GVB_FAIL;
    }
    reason[0] = '\0';
    return GVB_OK;
}

/* Severity order for combining tenants: a crash outranks an INERT layer, which outranks a
 * SKIP, which outranks OK. */
int gvb_status_severity(gvb_status s)
{
    switch (s) {
    case GVB_FAIL: return 3;
    case GVB_INERT: return 2;
    case GVB_SKIP: return 1;
    case GVB_OK: return 0;
    }
    return 3;
}
