/* Disposable child processes for metrics that must crash, fault or hang on purpose (ERR-xxx):
 * the tenant forks a child (before it has any CUDA context: fork after CUDA init is unsafe),
 * the child does the dangerous work and writes a fixed-size record to a pipe, and the tenant
 * reads it with a timeout, then reaps the child, killing it by its pid past a deadline. The
 * child first closes the protocol and phase fds it inherited, so it can never write protocol
 * lines or hold a barrier open. Pure POSIX. */
#ifndef GVB_CHILD_H
#define GVB_CHILD_H

#include <stddef.h>
#include <sys/types.h>

typedef struct gvb_child {
    pid_t pid;
    int fd;      /* read end of the child's record pipe, -1 when closed */
    int wstatus; /* valid once reaped */
    int reaped;
    int killed; /* we SIGKILLed it past its deadline */
} gvb_child;

typedef enum {
    GVB_CHILD_EXITED,   /* exited on its own; exit status in wstatus */
    GVB_CHILD_SIGNALED, /* died of a signal we did not send (a crash) */
    GVB_CHILD_HUNG,     /* overran its deadline and was killed */
} gvb_child_end;

/* Runs fn(arg, out_fd) in a forked child that exits with fn's return value (exit(), so
 * atexit handlers such as the CUDA runtime's teardown run as in a real process).
 * Returns 0, or -1 (errno) when the pipe or fork failed. */
typedef int (*gvb_child_fn)(void *arg, int out_fd);
int gvb_child_start(gvb_child *c, gvb_child_fn fn, void *arg);

/* Reads exactly len bytes (one record) within timeout_s. Returns 1 with a record, 0 when the
 * child closed the pipe first (it exited or crashed), -1 on timeout or error. */
int gvb_child_read(gvb_child *c, void *buf, size_t len, double timeout_s);

/* Waits up to timeout_s for the child to exit, then SIGKILLs it (by pid) and reaps it. Closes
 * the pipe. Always reaps. Returns how it ended. Idempotent. */
/* Seconds to wait for a child to die after SIGKILL before abandoning it unreaped. */
#define GVB_CHILD_KILL_WAIT_S 5.0
gvb_child_end gvb_child_finish(gvb_child *c, double timeout_s);

/* A plain forked function: the child runs fn(arg) and _exits with its return value (no
 * record pipe, no atexit handlers; fn closes what it must not hold). For workers that fan out
 * into processes with pipes of their own (tensor-parallel ranks). Returns the pid, or -1
 * (errno); the caller reaps it (gvb_spawn_wait). */
pid_t gvb_child_fork(int (*fn)(void *arg), void *arg);

/* "exited with status 0", "killed by signal 11 (Segmentation fault)", "hung: killed". */
const char *gvb_child_describe(const gvb_child *c, char *buf, size_t len);

/* Writes len bytes to fd (retrying on EINTR and short writes). Returns 0 or -1. */
int gvb_write_all(int fd, const void *buf, size_t len);

/* In a child: closes the inherited protocol fd and phase-barrier fds, except keep. */
void gvb_child_close_protocol_fds(int keep);
/* Marks the protocol and phase fds close-on-exec, so that processes this tenant execs (NCCL
 * ranks) do not inherit them; the tenant itself keeps using them. */
void gvb_cloexec_protocol_fds(void);

#endif
