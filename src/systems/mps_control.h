/* Talking to an NVIDIA MPS control daemon through nvidia-cuda-mps-control: start a private
 * daemon, ask it for its servers and their clients, stop it and wait until every process
 * of ours is gone. The control program can be replaced (GVB_MPS_CONTROL), which is how the
 * tests drive this code with a fake daemon (tests/fake-mps-control.sh). Pure C. */
#ifndef GVB_MPS_CONTROL_H
#define GVB_MPS_CONTROL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct gvb_mps_ctl {
    char control[PATH_MAX]; /* the control program */
    char pipe_dir[PATH_MAX];
    char log_dir[PATH_MAX]; /* may be empty (external: the environment's) */
} gvb_mps_ctl;

/* $GVB_MPS_CONTROL, else nvidia-cuda-mps-control on PATH, in /usr/local/nvidia/bin or
 * /usr/bin. Returns 0, or -1 with why. */
int gvb_mps_find_control(char *out, size_t len, char *why, size_t whylen);

/* Runs the control program with stdin_text (NULL: /dev/null) and extra argument arg (NULL:
 * none), its output into out. Returns its exit status, or -1 (cannot run, timed out). */
int gvb_mps_run(const gvb_mps_ctl *c, const char *arg, const char *stdin_text, char *out,
                size_t outlen, double timeout_s);

/* Starts the daemon (-d) and waits for its control pipe. Returns 0, or -1 with why (which
 * ends with the daemon log's tail). */
int gvb_mps_start(const gvb_mps_ctl *c, char *why, size_t len);

/* PIDs from get_server_list / get_client_list PID. Returns the count, or -1. */
int gvb_mps_server_list(const gvb_mps_ctl *c, pid_t *pids, int max);
int gvb_mps_client_list(const gvb_mps_ctl *c, pid_t server, pid_t *pids, int max);

/* Processes other than this one whose environment names pipe_dir as their
 * CUDA_MPS_PIPE_DIRECTORY: our daemon, its servers (and clients). Returns the count. */
int gvb_mps_our_processes(const char *pipe_dir, pid_t *pids, int max);

/* Sends quit, waits up to timeout_s until no process of ours is left, SIGKILLs leftovers
 * by pid. Fills report with what happened. Returns 0 when none is left, else -1. */
int gvb_mps_stop(const gvb_mps_ctl *c, double timeout_s, char *report, size_t len);

/* The last lines of the daemon's control.log (and server.log), for reasons. */
void gvb_mps_log_tail(const gvb_mps_ctl *c, char *out, size_t len);

/* Proof rules shared by mps and external. served: the proof worker (proof's "pid") is
 * among the clients of one of the daemon's servers (adds mps_server_pid). sm_reduced: the
 * proof's sm_count is below the GPU's. Return 0, or -1 with why. */
struct gvb_system;
struct gvb_kv;
int gvb_mps_check_served(const gvb_mps_ctl *ctl, struct gvb_kv *proof, char *why, size_t len);
int gvb_mps_check_sm_reduced(const struct gvb_system *s, struct gvb_kv *proof, int pct,
                             char *why, size_t len);

/* Parses whitespace-separated PIDs (lines of get_server_list output). Returns the count. */
int gvb_mps_parse_pids(const char *text, pid_t *pids, int max);

#endif
