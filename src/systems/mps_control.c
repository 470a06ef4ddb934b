/* MPS control daemon handling (see mps_control.h). */
#include "systems/mps_control.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/env.h"
#include "core/spawn.h"
#include "systems/system.h"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL); /* an interrupting signal only shortens one poll step */
}

static int executable(const char *p) { return access(p, X_OK) == 0; }

int gvb_mps_find_control(char *out, size_t len, char *why, size_t whylen)
{
    const char *env = getenv("GVB_MPS_CONTROL");
    if (env && *env) {
        if (!executable(env)) {
            snprintf(why, whylen, "GVB_MPS_CONTROL=%s is not an executable program", env);
            return -1;
        }
        snprintf(out, len, "%s", env);
        return 0;
    }
    const char *path = getenv("PATH");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s:/usr/local/nvidia/bin:/usr/bin:/usr/sbin", path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (!*d)
            continue;
        snprintf(out, len, "%s/nvidia-cuda-mps-control", d);
        if (executable(out))
            return 0;
    }
    snprintf(why, whylen,
             "nvidia-cuda-mps-control not found (PATH, /usr/local/nvidia/bin, /usr/bin; set "
             "GVB_MPS_CONTROL to its path)");
    return -1;
}

/* The control program's environment: the parent's without layer variables, with our pipe
 * and log directories, and its own directory first on PATH (where the server binary is). */
static int control_env(const gvb_mps_ctl *c, gvb_env *env)
{
    if (gvb_env_init(env, environ) != 0)
        return -1;
    gvb_env_strip_layers(env);
    int rc = gvb_env_set(env, "CUDA_MPS_PIPE_DIRECTORY", c->pipe_dir);
    if (c->log_dir[0])
        rc |= gvb_env_set(env, "CUDA_MPS_LOG_DIRECTORY", c->log_dir);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", c->control);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        const char *path = gvb_env_get(env, "PATH");
        rc |= gvb_env_setf(env, "PATH", "%s%s%s", dir, path ? ":" : "", path ? path : "");
    }
    return rc ? -1 : 0;
}

/* An unlinked temporary file, close-on-exec, for a child's output. */
static int temp_fd(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/gvb-mps-out.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

int gvb_mps_run(const gvb_mps_ctl *c, const char *arg, const char *stdin_text, char *out,
                size_t outlen, double timeout_s)
{
    if (out && outlen)
        out[0] = '\0';
    gvb_env env;
    if (control_env(c, &env) != 0) {
        gvb_env_free(&env);
        return -1;
    }
    int in[2] = {-1, -1};
    int ofd = temp_fd();
    if (ofd < 0 || (stdin_text && pipe2(in, O_CLOEXEC) != 0)) {
        if (ofd >= 0)
            close(ofd);
        gvb_env_free(&env);
        return -1;
    }
    char *argv[3] = {(char *)c->control, (char *)arg, NULL};
    const int fds[] = {stdin_text ? in[0] : GVB_SPAWN_NULL, ofd, ofd};
    pid_t pid = gvb_spawn(c->control, argv, env.vars, fds, 3, 0);
    gvb_env_free(&env);
    if (stdin_text) {
        close(in[0]);
        if (pid > 0) {
            size_t n = strlen(stdin_text);
            if (write(in[1], stdin_text, n) != (ssize_t)n) { /* a short command fits in a pipe */
            }
        }
        close(in[1]);
    }
    if (pid < 0) {
        close(ofd);
        return -1;
    }
    int status = 0;
    int done = gvb_spawn_wait(pid, timeout_s, &status) == 0; /* else killed by its pid */
    if (out && outlen) {
        ssize_t n = pread(ofd, out, outlen - 1, 0);
        out[n > 0 ? n : 0] = '\0';
    }
    close(ofd);
    if (!done)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void tail_of(const char *path, char *out, size_t len, int lines)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[8192];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    char *p = buf + n;
    int seen = 0;
    while (p > buf && seen < lines)
        if (*--p == '\n')
            seen++;
    if (*p == '\n')
        p++;
    for (char *q = p; *q; q++)
        if (*q == '\n')
            *q = '|';
    snprintf(out, len, "%s", p);
}

void gvb_mps_log_tail(const gvb_mps_ctl *c, char *out, size_t len)
{
    char path[PATH_MAX + 32], a[512], b[512];
    snprintf(path, sizeof path, "%s/control.log", c->log_dir);
    tail_of(path, a, sizeof a, 4);
    snprintf(path, sizeof path, "%s/server.log", c->log_dir);
    tail_of(path, b, sizeof b, 3);
    snprintf(out, len, "control.log: %s; server.log: %s", a[0] ? a : "(empty or missing)",
             b[0] ? b : "(empty or missing)");
}

int gvb_mps_start(const gvb_mps_ctl *c, char *why, size_t len)
{
    char out[1024], tail[1100];
    int rc = gvb_mps_run(c, "-d", NULL, out, sizeof out, 20);
    for (char *q = out; *q; q++)
        if (*q == '\n')
            *q = ' ';
    if (rc != 0) {
        gvb_mps_log_tail(c, tail, sizeof tail);
        snprintf(why, len, "the MPS control daemon did not start (%s -d %s%s%s); %s", c->control,
                 rc < 0 ? "failed or timed out" : "exited non-zero", out[0] ? ": " : "", out,
                 tail);
        return -1;
    }
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/control", c->pipe_dir);
    for (double end = now_s() + 10; now_s() < end; sleep_s(0.02))
        if (access(sock, F_OK) == 0)
            return 0;
    gvb_mps_log_tail(c, tail, sizeof tail);
    snprintf(why, len, "the MPS control daemon started but its pipe %s did not appear in 10 s; %s",
             sock, tail);
    return -1;
}

int gvb_mps_parse_pids(const char *text, pid_t *pids, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (v > 0 && (*end == '\0' || *end == '\n' || *end == ' ' || *end == '\r'))
            pids[n++] = (pid_t)v;
        p = end;
    }
    return n;
}

int gvb_mps_server_list(const gvb_mps_ctl *c, pid_t *pids, int max)
{
    char out[4096];
    if (gvb_mps_run(c, NULL, "get_server_list\n", out, sizeof out, 10) != 0)
        return -1;
    return gvb_mps_parse_pids(out, pids, max);
}

int gvb_mps_client_list(const gvb_mps_ctl *c, pid_t server, pid_t *pids, int max)
{
    char cmd[64], out[4096];
    snprintf(cmd, sizeof cmd, "get_client_list %d\n", (int)server);
    if (gvb_mps_run(c, NULL, cmd, out, sizeof out, 10) != 0)
        return -1;
    return gvb_mps_parse_pids(out, pids, max);
}

/* Does /proc/<pid>/environ hold exactly want ("KEY=VALUE")? */
static int environ_has(const char *pid, const char *want)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[1 << 18];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
        if (strcmp(p, want) == 0)
            return 1;
    return 0;
}

int gvb_mps_our_processes(const char *pipe_dir, pid_t *pids, int max)
{
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "CUDA_MPS_PIPE_DIRECTORY=%s", pipe_dir);
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0 || (pid_t)v == self)
            continue;
        if (environ_has(e->d_name, want))
            pids[n++] = (pid_t)v;
    }
    closedir(d);
    return n;
}

/* A process that exists and is not a zombie. */
static int alive(pid_t pid)
{
    char st;
    return gvb_proc_stat(pid, &st, NULL) == 0 && st != 'Z' && st != 'X';
}

/* Ours: processes carrying our pipe directory, and the servers the daemon named (in case a
 * server does not inherit the daemon's environment). */
static int ours(const char *pipe_dir, const pid_t *servers, int ns, pid_t *left, int max)
{
    int n = gvb_mps_our_processes(pipe_dir, left, max);
    for (int i = 0; i < ns && n < max; i++) {
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup |= left[k] == servers[i];
        if (!dup && alive(servers[i]))
            left[n++] = servers[i];
    }
    return n;
}

/* Waits until none of the known processes (tracked: the daemon, its servers) is alive and no
 * other process carries our pipe directory. Known processes are followed by pid because an
 * exiting process's environment can no longer be read while it still holds the GPU. */
static int wait_gone(const char *pipe_dir, const pid_t *tracked, int nt, double timeout_s,
                     pid_t *left, int max)
{
    double end = now_s() + timeout_s;
    for (;;) {
        int n = ours(pipe_dir, tracked, nt, left, max);
        if (n == 0 || now_s() > end)
            return n;
        sleep_s(0.05);
    }
}

int gvb_mps_stop(const gvb_mps_ctl *c, double timeout_s, char *report, size_t len)
{
    char out[512] = "";
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/control", c->pipe_dir);
    int asked = 0, nt = 0;
    pid_t tracked[64] = {0};
    if (access(sock, F_OK) == 0) {
        pid_t servers[16] = {0};
        int ns = gvb_mps_server_list(c, servers, 16);
        nt = ours(c->pipe_dir, servers, ns > 0 ? ns : 0, tracked, 64); /* and the daemon */
        asked = gvb_mps_run(c, NULL, "quit\n", out, sizeof out, timeout_s) == 0;
    } else {
        nt = gvb_mps_our_processes(c->pipe_dir, tracked, 64);
    }
    pid_t left[64];
    int n = wait_gone(c->pipe_dir, tracked, nt, timeout_s, left, 64);
    if (n == 0) {
        snprintf(report, len, "%s", asked ? "quit; every daemon and server process is gone"
                                          : "no daemon was reachable; no process of ours is left");
        return 0;
    }
    size_t off = (size_t)snprintf(report, len, "%d process(es) still running %.1f s after quit; "
                                               "killed:", n, timeout_s);
    for (int i = 0; i < n; i++) {
        kill(left[i], SIGKILL); /* by pid: only processes of our private daemon */
        if (off < len)
            off += (size_t)snprintf(report + off, len - off, " %d", (int)left[i]);
    }
    n = wait_gone(c->pipe_dir, tracked, nt, 3, left, 64);
    if (n && off < len)
        snprintf(report + off, len - off, "; %d still present", n);
    return n ? -1 : 0;
}
