/* The ground-truth monitor, parent side. During a multi-tenant metric (or one whose impl
 * asks for it) the runner starts `gpu-virt-bench __monitor`: a process with no preload and
 * no MPS environment that samples NVML every GVB_MONITOR_INTERVAL_MS (device memory and
 * utilization, per-process memory and SM utilization) into an unlinked file. When the
 * tenants are done, the runner stops it and turns its lines into named series of the
 * result, mapping PIDs to tenants:
 *   monitor.time_s, monitor.device_used_bytes, monitor.device_util_pct,
 *   monitor.t<i>.used_bytes, monitor.t<i>.sm_util_pct   (i = tenant index)
 * Without NVML the result gets the text extra monitor = "unavailable: <why>" and no series.
 * Pure C. */
#ifndef GVB_MONITOR_H
#define GVB_MONITOR_H

#include <sys/types.h>

#include "core/result.h"

#define GVB_MONITOR_INTERVAL_MS 50

typedef struct gvb_monitor {
    pid_t pid;
    int fd;        /* the unlinked file the monitor writes to; -1 when not started */
    char why[256]; /* why it could not start */
} gvb_monitor;

/* Starts the monitor process (self_exe __monitor) with base_env stripped of layer
 * variables, sampling the GPU with this UUID (NULL: NVML index 0), and waits (up to 3 s)
 * for its first sample so that the tenants' start is covered. Returns 0, or -1 with m->why
 * (then gvb_monitor_finish records it). */
int gvb_monitor_start(gvb_monitor *m, const char *self_exe, char *const *base_env,
                      const char *uuid);

/* Holds the GPU open for a whole run: an unhooked monitor that samples once and then waits
 * for SIGTERM (nothing runs beside the tenants), so the driver stays loaded between the
 * tenants' processes for every system alike. It holds no CUDA context, and a fresh context
 * costs less while another context is up (an MPS server's: native OH-004 136 ms against
 * 228 ms with only this hold, H200, 2026-12-03).
 * Returns 0 once NVML answered (within 30 s), or -1 with m->why (nothing left running). */
int gvb_monitor_hold(gvb_monitor *m, const char *self_exe, char *const *base_env,
                     const char *uuid);
/* Whether a held monitor is still running (it may have died mid-run). */
int gvb_monitor_alive(gvb_monitor *m);

/* A hold's reading of the GPU's energy counter (NVML, unhooked), in J since the driver loaded:
 * asks it with SIGUSR1 and waits up to 1 s for its "J t mJ" line. 0, or -1 (no hold, NVML
 * without the counter, no answer). */
int gvb_monitor_energy(gvb_monitor *m, double *joules);
/* Stops a held monitor, discarding what it wrote. */
void gvb_monitor_release(gvb_monitor *m);

/* Stops the monitor (SIGTERM, SIGKILL after 2 s, by its pid) and adds its series to r:
 * time relative to t0 (CLOCK_MONOTONIC seconds), tenant i = pids[i]. */
void gvb_monitor_finish(gvb_monitor *m, const pid_t *pids, int n, double t0, gvb_result *r);

/* Pure: the monitor's output text into r (what gvb_monitor_finish does after stopping it).
 * exit_note says how the process ended, for the reason when it wrote nothing. */
void gvb_monitor_apply(const char *text, const pid_t *pids, int n, double t0,
                       const char *exit_note, gvb_result *r);

#endif
