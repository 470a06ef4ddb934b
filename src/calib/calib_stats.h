/* What libgvb-calib.so counts, so that its activation proof can show calls were really
 * intercepted (not just that the library is mapped). A process reads it through
 *   const gvb_calib_stats_t *(*fn)(void) = dlsym(RTLD_DEFAULT, GVB_CALIB_STATS_SYMBOL);
 * Counters only grow; they are updated with relaxed atomics. */
#ifndef GVB_CALIB_STATS_H
#define GVB_CALIB_STATS_H

#include <stdint.h>

#define GVB_CALIB_STATS_SYMBOL "gvb_calib_stats"
#define GVB_CALIB_STATS_VERSION 2

/* How the context charge was taken: NVML's used memory of this process (with mem=, when NVML
 * lists the process), or the driver's total - free (which also holds other processes' memory
 * on a shared GPU). */
enum { GVB_CALIB_CHARGE_NONE, GVB_CALIB_CHARGE_NVML_PROCESS, GVB_CALIB_CHARGE_DRIVER_TOTAL_FREE };

typedef struct gvb_calib_stats {
    uint32_t version;       /* GVB_CALIB_STATS_VERSION */
    uint32_t config_ok;     /* GVB_CALIB parsed; 0: the layer applies no effect */
    uint64_t getproc_calls; /* cuGetProcAddress(_v2) calls that reached the layer */
    uint64_t getproc_hooked;    /* of those, answered with one of our wrappers */
    uint64_t getproc_adopted;   /* hooked by name: the driver's pointer was not its export */
    uint64_t getproc_unmatched; /* a hooked name left alone (e.g. a pre-3.2 version) */
    uint64_t dlsym_hooked;  /* dlsym lookups answered with one of our wrappers */
    uint64_t launches;      /* kernel launches intercepted */
    uint64_t allocs;        /* device allocations intercepted */
    uint64_t frees;
    uint64_t meminfo;       /* cuMemGetInfo calls intercepted */
    uint64_t oom_refusals;  /* allocations refused by the cap */
    uint64_t duty_sleeps;
    double duty_sleep_s;    /* total time slept to keep the duty cycle */
    double duty_busy_s;     /* total kernel busy time measured */
    uint64_t cap_bytes;     /* the configured cap, 0 = none */
    uint64_t context_charge_bytes; /* 0 until measured at the first memory call */
    uint32_t charge_method; /* GVB_CALIB_CHARGE_*: where context_charge_bytes came from */
    uint64_t live_bytes;    /* live allocations now */
    double launch_us, alloc_us; /* the configured delays, as applied (GVB_CALIB_BREAK) */
    uint32_t duty_pct;
    uint32_t broken;        /* GVB_CALIB_BREAK in effect: 1 half delays, 2 bypass */
} gvb_calib_stats_t;

#endif
