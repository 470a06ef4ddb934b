/* The ground-truth monitor process (`gpu-virt-bench __monitor`): started by the runner with
 * no preload and no MPS environment, it samples NVML every --interval-ms until SIGTERM and
 * writes one line per sample on fd 3 (format in core/monitor.c): device used memory and
 * utilization, and for every compute process its used memory, the newest SM utilization
 * sample NVML holds for it from the last second, and its ancestors (so that the programs a
 * workload's tenant starts are counted as that tenant's); once, an MPS server among them. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/protocol.h"
#include "core/spawn.h"
#include "gpu/nvml.h"
#include "gpu/proof.h"

#define MAX_PROCS 512
#define MAX_ANCESTORS 6 /* tenant -> sh -> program -> its worker: a few levels suffice */

/* The parent of pid; 0 when unknown. */
static long parent_of(long pid)
{
    long ppid;
    return gvb_proc_stat(pid, NULL, &ppid) == 0 ? ppid : 0;
}

/* Appends ":a1/a2/..." (the parent first, up to MAX_ANCESTORS, stopping at init) or ":-". */
static size_t put_ancestors(char *line, size_t off, size_t cap, long pid)
{
    off += (size_t)snprintf(line + off, cap - off, ":");
    int k = 0;
    for (long p = parent_of(pid); p > 1 && k < MAX_ANCESTORS && off < cap; p = parent_of(p))
        off += (size_t)snprintf(line + off, cap - off, "%s%ld", k++ ? "/" : "", p);
    if (k == 0 && off < cap)
        off += (size_t)snprintf(line + off, cap - off, "-");
    return off;
}

/* pid is an MPS server ("nvidia-cuda-mps-server", its comm cut to 15 characters; the control
 * daemon holds no context, so it is never on NVML's list of compute processes). */
static int is_mps_server(long pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    return ok && strncmp(comm, "nvidia-cuda-mps", 15) == 0;
}

static volatile sig_atomic_t stop, energy_asked;
static void on_usr1(int sig)
{
    (void)sig;
    energy_asked = 1;
}
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    static char buf[65536];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    for (int off = 0; off < n;) {
        ssize_t k = write(GVB_FD_OUT, buf + off, (size_t)(n - off));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        off += (int)k;
    }
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned long long wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (unsigned long long)tv.tv_sec * 1000000ull + (unsigned long long)tv.tv_usec;
}

/* A layer in /etc/ld.so.preload hooks this process too: say so. */
static void report_hooks(void)
{
    FILE *pre = fopen("/etc/ld.so.preload", "r");
    char name[1024];
    while (pre && fscanf(pre, "%1023s", name) == 1) {
        FILE *maps = fopen("/proc/self/maps", "r");
        char line[1400];
        const char *b = strrchr(name, '/');
        b = b ? b + 1 : name;
        while (maps && fgets(line, sizeof line, maps)) {
            if (strstr(line, b)) {
                out("I hooked %s\n", name);
                break;
            }
        }
        if (maps)
            fclose(maps);
    }
    if (pre)
        fclose(pre);
}

int gvb_monitor_main(int argc, char **argv)
{
    int interval_ms = 50, hold = 0;
    const char *uuid = "";
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--interval-ms=", 14))
            interval_ms = atoi(argv[i] + 14);
        else if (!strncmp(argv[i], "--uuid=", 7))
            uuid = argv[i] + 7;
        else if (!strcmp(argv[i], "--hold"))
            hold = 1;
    }
    if (interval_ms < 1)
        interval_ms = 50;
    struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: sleeps end at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct sigaction su = {.sa_handler = on_usr1};
    sigemptyset(&su.sa_mask);
    sigaction(SIGUSR1, &su, NULL); /* a hold answers with the energy counter (gvb_monitor_energy) */
    report_hooks();

    char why[256];
    if (gvb_nvml_open(why, sizeof why) != 0) {
        out("E %s\n", why);
        return 0;
    }
    gvb_nvml_dev dev;
    if (!(*uuid && gvb_nvml_device_by_uuid(uuid, &dev) == 0)) {
        if (gvb_nvml_device(0, &dev) != 0) {
            out("E NVML cannot open GPU 0\n");
            return 0;
        }
        if (*uuid)
            out("I device %s not found by NVML; sampling NVML device 0\n", uuid);
    }
    static gvb_nvml_process procs[MAX_PROCS];
    static gvb_nvml_proc_util util[MAX_PROCS];
    static char line[65536];
    int util_reported = 0, mps_reported = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!stop) {
        double t = mono_s();
        gvb_nvml_meminfo mem = {0};
        gvb_nvml_util du = {0};
        int mem_ok = gvb_nvml_memory(dev, &mem) == 0;
        int du_ok = gvb_nvml_utilization(dev, &du) == 0;
        unsigned np = MAX_PROCS;
        int procs_ok = gvb_nvml_processes(dev, procs, &np) == 0;
        if (!procs_ok)
            np = 0;
        unsigned nu = MAX_PROCS;
        int rc = gvb_nvml_process_utilization(dev, util, &nu, wall_us() - 1000000ull);
        int util_ok = rc == 0 || rc == GVB_NVML_ERROR_NOT_FOUND; /* NOT_FOUND: no samples */
        if (rc != 0)
            nu = 0;
        if (!util_ok && !util_reported) {
            out("I sm_util nvmlDeviceGetProcessUtilization: %s\n", gvb_nvml_error(rc));
            util_reported = 1;
        }
        size_t off = (size_t)snprintf(line, sizeof line, "M %.6f ", t); /* '-': query failed */
        off += mem_ok ? (size_t)snprintf(line + off, sizeof line - off, "%llu ", mem.used)
                      : (size_t)snprintf(line + off, sizeof line - off, "- ");
        off += du_ok ? (size_t)snprintf(line + off, sizeof line - off, "%u ", du.gpu)
                     : (size_t)snprintf(line + off, sizeof line - off, "- ");
        off += (size_t)snprintf(line + off, sizeof line - off, "%d %d %u", procs_ok, util_ok, np);
        for (unsigned i = 0; i < np && off < sizeof line - 160; i++) {
            /* the newest utilization sample for this pid within the last second */
            unsigned long long ts = 0;
            int sm = -1;
            for (unsigned k = 0; k < nu; k++) {
                if (util[k].pid == procs[i].pid && util[k].timestamp >= ts) {
                    ts = util[k].timestamp;
                    sm = (int)util[k].sm_util;
                }
            }
            if (!mps_reported && is_mps_server((long)procs[i].pid)) {
                out("I mps_server %u\n", procs[i].pid);
                mps_reported = 1;
            }
            char used[32] = "-", smv[16] = "-";
            if (procs[i].used_gpu_memory != ~0ull) /* NVML_VALUE_NOT_AVAILABLE */
                snprintf(used, sizeof used, "%llu", procs[i].used_gpu_memory);
            if (sm >= 0)
                snprintf(smv, sizeof smv, "%d", sm);
            off += (size_t)snprintf(line + off, sizeof line - off, " %u:%s:%s", procs[i].pid,
                                    used, smv);
            off = put_ancestors(line, off, sizeof line, (long)procs[i].pid);
        }
        out("%s\n", line);
        if (hold) { /* one sample says NVML holds the GPU; then nothing runs beside tenants,
                     * but asked (SIGUSR1), it reads the energy counter: "J t mJ", or "J t -" */
            sigset_t block, old; /* signals only inside sigsuspend: none is missed */
            sigemptyset(&block);
            sigaddset(&block, SIGUSR1);
            sigaddset(&block, SIGTERM);
            sigaddset(&block, SIGINT);
            sigprocmask(SIG_BLOCK, &block, &old);
            sigset_t wait = old; /* what sigsuspend waits with: these three let in, whatever the
                                  * mask it was started with */
            sigdelset(&wait, SIGUSR1);
            sigdelset(&wait, SIGTERM);
            sigdelset(&wait, SIGINT);
            while (!stop) {
                if (energy_asked) {
                    energy_asked = 0;
                    unsigned long long mj = 0;
                    if (gvb_nvml_energy_mj(dev, &mj) == 0)
                        out("J %.6f %llu\n", mono_s(), mj);
                    else
                        out("J %.6f -\n", mono_s());
                    continue;
                }
                sigsuspend(&wait);
            }
            sigprocmask(SIG_SETMASK, &old, NULL);
            break;
        }
        next.tv_nsec += (long)interval_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    gvb_nvml_close();
    return 0;
}
