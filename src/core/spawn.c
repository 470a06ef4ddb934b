/* Starting and reaping a program (see spawn.h). */
#include "core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/protocol.h"
#include "core/worker.h"

/* With GVB_SPAWN_DIE_WITH_PARENT: fork, so the child can ask for its parent's death signal
 * before it execs (only async-signal-safe calls between fork and execve). */
static pid_t spawn_forked(const char *exe, char *const *argv, char *const *envp, const int *fds,
                          int nfds, unsigned flags)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid > 0 && (flags & GVB_SPAWN_NEW_GROUP))
        setpgid(pid, pid); /* both sides: whichever runs first */
    if (pid != 0)
        return pid;
    if (flags & GVB_SPAWN_NEW_GROUP)
        setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    int lifted[GVB_SPAWN_MAX_FDS];
    /* lift every source above the targets first, so no dup2 overwrites a later source (a
     * source may already sit on its own target, where dup2 would keep close-on-exec) */
    for (int i = 0; i < nfds; i++) {
        int src = fds[i] == GVB_SPAWN_NULL ? devnull : fds[i];
        if (src < 0 || (lifted[i] = fcntl(src, F_DUPFD_CLOEXEC, GVB_SPAWN_MAX_FDS)) < 0)
            _exit(126);
    }
    for (int i = 0; i < nfds; i++)
        if (dup2(lifted[i], i) < 0)
            _exit(126);
    execve(exe, argv, envp);
    if (nfds > GVB_FD_OUT)
        dprintf(GVB_FD_OUT, "STATUS FAIL cannot exec %s: %s\n", exe, strerror(errno));
    else if (nfds > 2)
        dprintf(2, "cannot exec %s: %s\n", exe, strerror(errno));
    _exit(127);
}

/* Otherwise posix_spawn (a vfork-style clone in glibc: no copy of a large parent's page
 * tables, which OH-004's spawn-to-kernel time would otherwise include). Every source is
 * first copied above the targets in the parent, so no dup2 overwrites a later source. */
static pid_t spawn_posix(const char *exe, char *const *argv, char *const *envp, const int *fds,
                         int nfds)
{
    int high[GVB_SPAWN_MAX_FDS];
    int n = 0, e = 0;
    posix_spawn_file_actions_t fa;
    if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
        errno = e;
        return -1;
    }
    for (; n < nfds && e == 0; n++) {
        high[n] = -1;
        if (fds[n] == GVB_SPAWN_NULL) {
            e = posix_spawn_file_actions_addopen(&fa, n, "/dev/null", O_RDWR, 0);
        } else if ((high[n] = fcntl(fds[n], F_DUPFD_CLOEXEC, GVB_SPAWN_MAX_FDS)) < 0) {
            e = errno;
        } else {
            e = posix_spawn_file_actions_adddup2(&fa, high[n], n);
        }
    }
    pid_t pid = -1;
    if (e == 0)
        e = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < n; i++)
        if (high[i] >= 0)
            close(high[i]);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return pid;
}

pid_t gvb_spawn(const char *exe, char *const *argv, char *const *envp, const int *fds, int nfds,
                unsigned flags)
{
    if (nfds < 0 || nfds > GVB_SPAWN_MAX_FDS) {
        errno = EINVAL;
        return -1;
    }
    return flags & GVB_SPAWN_DIE_WITH_PARENT ? spawn_forked(exe, argv, envp, fds, nfds, flags)
                                             : spawn_posix(exe, argv, envp, fds, nfds);
}

/* A descriptor that polls readable once pid has ended (a pidfd: Linux 5.3 and later,
 * close-on-exec), or -1 where there is none. */
static int exit_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* Waits until pid ends or the time `end` (gvb_now()) passes: 0 ended (*st set), 1 time is up,
 * -1 an error of waitpid. With a timeout it wakes when pid ends, not at the next of 10 ms
 * polls (a workload's wall time is read when this returns). */
static int wait_until(pid_t pid, double end, int bounded, int *st)
{
    int pfd = bounded ? exit_fd(pid) : -1, rc;
    for (;;) {
        pid_t r = waitpid(pid, st, bounded ? WNOHANG : 0);
        if (r == pid) {
            rc = 0;
            break;
        }
        if (r < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        double left = end - gvb_now();
        if (bounded && left < 0) {
            rc = 1;
            break;
        }
        if (r == 0 && pfd >= 0) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            poll(&p, 1, (int)fmin(ceil(left * 1000), 1000)); /* a second at most a turn */
        } else if (r == 0) {
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
    if (pfd >= 0)
        close(pfd);
    return rc;
}

int gvb_spawn_wait(pid_t pid, double timeout_s, int *wstatus)
{
    int st = 0;
    int w = wait_until(pid, gvb_now() + timeout_s, timeout_s >= 0, &st);
    if (w <= 0) {
        if (w == 0 && wstatus)
            *wstatus = st;
        return w;
    }
    kill(pid, SIGKILL); /* by its own pid */
    /* a process blocked inside the driver dies only when the driver lets go */
    w = wait_until(pid, gvb_now() + GVB_SPAWN_KILL_WAIT_S, 1, &st);
    if (w == 0 && wstatus)
        *wstatus = st;
    return w == 0 ? 1 : w == 1 ? 2 : -1;
}

int gvb_proc_stat(long pid, char *state, long *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    char st;
    long pp;
    if (!rp || sscanf(rp + 1, " %c %ld", &st, &pp) != 2)
        return -1;
    if (state)
        *state = st;
    if (ppid)
        *ppid = pp;
    return 0;
}

void gvb_wait_words(int wstatus, char *buf, size_t len)
{
    if (WIFEXITED(wstatus))
        snprintf(buf, len, "exit %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, len, "signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    else
        snprintf(buf, len, "status 0x%x", wstatus);
}
