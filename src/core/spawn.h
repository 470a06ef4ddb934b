/* Starting and reaping a program: the one place where the parent side of the process model
 * forks and execs (tenant groups, the monitor, the calibration layer's proof worker, the MPS
 * control client, validate's runs, a metric's fresh processes, NCCL ranks). The child gets
 * exactly the fds it is given (fd i of the child = fds[i] of the parent; every other fd is
 * closed on exec, which the callers ensure with O_CLOEXEC; a tenant that starts a program
 * first marks its protocol fds so, gvb_cloexec_protocol_fds), and is killed by its own pid,
 * or with GVB_SPAWN_NEW_GROUP by its caller with its group. Forked functions without exec
 * (children that crash on purpose) are core/child.h. Pure POSIX. */
#ifndef GVB_SPAWN_H
#define GVB_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define GVB_SPAWN_NULL (-1) /* in fds: the child's fd is /dev/null */
#define GVB_SPAWN_MAX_FDS 16

enum {
    GVB_SPAWN_DIE_WITH_PARENT = 1, /* SIGTERM when the parent dies (no sampler left behind) */
    GVB_SPAWN_NEW_GROUP = 2,       /* with DIE_WITH_PARENT: the child leads a process group of
                                    * its own (pgid = pid), so kill(-pid) reaches what it starts */
};

/* Starts exe with argv and envp; the child's fd i (i < nfds) is the parent's fds[i], or
 * /dev/null for GVB_SPAWN_NULL. Returns the pid, or -1 with errno: nfds out of range
 * (EINVAL), or exe could not be executed (posix_spawn reports that). With
 * GVB_SPAWN_DIE_WITH_PARENT the child is forked and a failed exec exits 127 instead (after
 * "STATUS FAIL cannot exec EXE: why" on fd 3 when it has one, else "cannot exec EXE: why" on
 * its fd 2 when it has one). */
pid_t gvb_spawn(const char *exe, char *const *argv, char *const *envp, const int *fds, int nfds,
                unsigned flags);

/* Waits for pid to end, at most timeout_s (< 0: no limit); past it, SIGKILLs pid and reaps
 * it. Returns 0 when it ended on its own (*wstatus set), 1 when it was killed at the deadline
 * (*wstatus set), 2 when it did not die within GVB_SPAWN_KILL_WAIT_S of SIGKILL (blocked
 * inside the driver: left unreaped), -1 on an error of waitpid (errno). */
#define GVB_SPAWN_KILL_WAIT_S 10.0
int gvb_spawn_wait(pid_t pid, double timeout_s, int *wstatus);

/* How a child ended, in words: "exit 3", "signal 9 (Killed)". */
void gvb_wait_words(int wstatus, char *buf, size_t len);

/* A process's state letter (R, S, Z, ...) and parent pid from /proc/PID/stat, read after the
 * command's closing parenthesis (the command may hold spaces and parentheses); either
 * pointer may be NULL. 0, or -1 when the process is gone or the file unreadable. */
int gvb_proc_stat(long pid, char *state, long *ppid);

#endif
