/* One group of tenant processes: the parent side of the process model (docs/architecture.md).
 * gvb_group_run forks and execs g->n copies of g->exe, each with argv/env from a callback,
 * protocol lines on fd 3 (core/protocol.h) and the phase barriers on fds 4..11; it releases
 * the start barrier when every tenant waits there, later phases when every live tenant has
 * reached them, hands each protocol line to on_msg, keeps each tenant's stderr tail, kills
 * every tenant by its own pid at the deadline or on gvb_stop_requested, and reaps them.
 * gvb_tenant_outcome then says what happened to one tenant. Pure C, no CUDA. */
#ifndef GVB_GROUP_H
#define GVB_GROUP_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/env.h"
#include "core/protocol.h"
#include "core/result.h"

/* Set from a SIGINT/SIGTERM handler: running tenants are killed, systems torn down, and the
 * run ends with what it measured. */
extern volatile sig_atomic_t gvb_stop_requested;

#define GVB_TENANT_ERR_TAIL 1024

typedef struct gvb_tenant {
    pid_t pid;
    int out_fd, err_fd;
    int ready;   /* reached the start barrier (phase 0) */
    int reached; /* highest phase announced, -1 before the start barrier */
    int exited, wstatus, killed;
    double exit_time;
    char line[GVB_PROTO_MAX_LINE];
    size_t line_len;
    char eline[512];
    size_t eline_len;
    char err_tail[GVB_TENANT_ERR_TAIL]; /* last stderr lines, for FAIL reasons */
    int has_status;
    gvb_status status;
    char reason[512];
    int proto_errors;
} gvb_tenant;

struct gvb_group;
typedef void (*gvb_group_msg_fn)(void *ctx, int tenant, const gvb_msg *m);
typedef void (*gvb_group_ready_fn)(void *ctx, struct gvb_group *g);
typedef void (*gvb_group_log_fn)(void *ctx, const char *system, const char *metric, int tenant,
                                 const char *line);
/* argv (NULL-terminated, malloc'd strings, freed by the group) and env of tenant i. */
typedef int (*gvb_group_build_fn)(void *ctx, int tenant, char ***argv, gvb_env *env);

typedef struct gvb_group {
    /* set by the caller */
    int n;
    gvb_tenant *t;              /* n zeroed tenants */
    const char *exe;            /* what every tenant execs */
    char *const *base_env;      /* each tenant's environment starts from this */
    double deadline_s;          /* from the start; then every tenant is SIGKILLed */
    gvb_group_msg_fn on_msg;    /* every protocol line but READY/PHASE */
    gvb_group_ready_fn on_ready; /* optional: once, when every tenant waits at the start */
    void *ctx;                  /* of on_msg and on_ready */
    gvb_group_log_fn on_log;    /* optional: each stderr line */
    void *log_ctx;
    const char *system, *metric; /* names for on_log */
    /* the group's state */
    int go_w[GVB_MAX_PHASES]; /* write ends of the phase barriers; closing one releases it */
    int timed_out, interrupted;
    double kill_time; /* when every tenant was first killed (0: never) */
    int ready_called;
} gvb_group;

/* Starts the tenants and runs them to completion, deadline or stop. Returns 0 when every
 * tenant was started (then judge each with gvb_tenant_outcome), -1 when one could not be
 * (t[i].reason may say why; the others were killed and reaped). */
int gvb_group_run(gvb_group *g, gvb_group_build_fn build, void *bctx);

/* Seconds a SIGKILLed tenant may take to die before the group stops waiting for it. */
#define GVB_GROUP_KILL_WAIT_S 10.0

/* What happened to tenant i, as a status and a reason. The wait status is the truth: a
 * tenant that exited on its own is judged by what it reported, one that died of a signal the
 * group did not send crashed (OK when tolerate_death: the metric judges it), and one the
 * group SIGKILLed was over its deadline or stopped because another tenant failed. */
gvb_status gvb_tenant_outcome(const gvb_group *g, const gvb_tenant *t, int i, char *reason,
                              size_t len, int tolerate_death);
/* The last non-empty line of the tenant's stderr, cleaned, into buf; returns buf. */
const char *gvb_tenant_last_err(const gvb_tenant *t, char *buf, size_t len);
/* For combining tenants: FAIL 3 > INERT 2 > SKIP 1 > OK 0. */
int gvb_status_severity(gvb_status s);

#endif
