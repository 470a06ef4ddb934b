/* Disposable child processes (see child.h). */
#include "core/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/protocol.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void gvb_child_close_protocol_fds(int keep)
{
    for (int fd = GVB_FD_OUT; fd < GVB_FD_GO + GVB_MAX_PHASES; fd++)
        if (fd != keep)
            close(fd);
}

void gvb_cloexec_protocol_fds(void)
{
    for (int fd = GVB_FD_OUT; fd < GVB_FD_GO + GVB_MAX_PHASES; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
            fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
}

int gvb_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

pid_t gvb_child_fork(int (*fn)(void *arg), void *arg)
{
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    return pid;
}

int gvb_child_start(gvb_child *c, gvb_child_fn fn, void *arg)
{
    *c = (gvb_child){.pid = -1, .fd = -1};
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        gvb_child_close_protocol_fds(p[1]);
        signal(SIGPIPE, SIG_IGN); /* a closed record pipe is an error return, not a crash */
        /* a crash must end the child as a crash, whatever handlers the parent installed */
        const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++)
            signal(crash_sigs[i], SIG_DFL);
        int rc = fn(arg, p[1]);
        close(p[1]);
        exit(rc);
    }
    close(p[1]);
    c->pid = pid;
    c->fd = p[0];
    return 0;
}

int gvb_child_read(gvb_child *c, void *buf, size_t len, double timeout_s)
{
    if (c->fd < 0)
        return 0;
    char *b = buf;
    size_t got = 0;
    double deadline = now_s() + timeout_s;
    while (got < len) {
        double left = deadline - now_s();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue;
        ssize_t k = read(c->fd, b + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            return 0;
        got += (size_t)k;
    }
    return 1;
}

gvb_child_end gvb_child_finish(gvb_child *c, double timeout_s)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->pid > 0 && !c->reaped) {
        double deadline = now_s() + timeout_s;
        for (;;) {
            pid_t r = waitpid(c->pid, &c->wstatus, WNOHANG);
            if (r == c->pid || (r < 0 && errno != EINTR)) {
                c->reaped = 1;
                break;
            }
            if (now_s() >= deadline) {
                kill(c->pid, SIGKILL); /* by its own pid, never a group */
                c->killed = 1;
                /* A process blocked inside the driver dies only when the driver lets go
                 * (seen under MPS after a fatal fault): wait a bounded time, then abandon
                 * it unreaped rather than hang the tenant with it. */
                for (double give_up = now_s() + GVB_CHILD_KILL_WAIT_S; now_s() < give_up;) {
                    pid_t k = waitpid(c->pid, &c->wstatus, WNOHANG);
                    if (k == c->pid || (k < 0 && errno != EINTR)) {
                        c->reaped = 1;
                        break;
                    }
                    usleep(1000);
                }
                break;
            }
            usleep(1000);
        }
    }
    if (c->killed)
        return GVB_CHILD_HUNG;
    if (c->reaped && WIFSIGNALED(c->wstatus))
        return GVB_CHILD_SIGNALED;
    return GVB_CHILD_EXITED;
}

const char *gvb_child_describe(const gvb_child *c, char *buf, size_t len)
{
    if (c->killed)
        snprintf(buf, len, "hung: killed past its deadline");
    else if (!c->reaped)
        snprintf(buf, len, "still running");
    else if (WIFSIGNALED(c->wstatus))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(c->wstatus),
                 strsignal(WTERMSIG(c->wstatus)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(c->wstatus));
    return buf;
}
