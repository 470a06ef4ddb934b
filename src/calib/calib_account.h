/* The pure part of the calibration layer (libgvb-calib.so, docs/validation.md): its
 * configuration, the memory-cap accounting and the duty-cycle token bucket. No CUDA, no
 * locking, no clock: the preload library (calib.c) supplies those, and the unit tests drive
 * these functions directly. Linked into the library, the main binary and the unit tests. */
#ifndef GVB_CALIB_ACCOUNT_H
#define GVB_CALIB_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* ---- configuration: GVB_CALIB="launch_us=20,alloc_us=50,mem=3g,duty=50" ---------------- */

#define GVB_CALIB_MAX_DELAY_US 1e6

typedef struct gvb_calib_spec {
    double launch_us; /* busy-wait added to every kernel launch; 0 = none */
    double alloc_us;  /* busy-wait added to every device allocation; 0 = none */
    uint64_t mem;     /* device-memory cap in bytes; 0 = no cap */
    int duty;         /* percent of wall time kernels may run, 1..100; 0 = no limit */
} gvb_calib_spec;

/* Parses a spec: comma-separated KEY=VALUE, keys launch_us, alloc_us (microseconds,
 * 0..1e6), mem (a size: 3g, 3072m; a bare number is MiB), duty (percent 1..100), each at most
 * once. The empty string is a valid spec with no effects. Returns 0, or -1 with a one-line
 * reason in err. */
int gvb_calib_spec_parse(const char *s, gvb_calib_spec *out, char *err, size_t errlen);

/* ---- memory cap ------------------------------------------------------------------------ */

/* usage = context charge + sum of live allocations (requested sizes, tracked per pointer);
 * the layer reports total = cap, free = cap - usage, and refuses what would exceed the cap. */
typedef struct gvb_calib_acct {
    uint64_t cap;      /* 0 = no cap: allocations are only tracked */
    uint64_t charge;   /* the context as the driver reported it */
    int charge_known;
    uint64_t live;     /* bytes of live (and reserved) allocations */
    uint64_t n_live;   /* live tracked pointers */
    uint64_t *keys;    /* open-addressing table pointer -> size; key 0 = empty */
    uint64_t *sizes;
    size_t slots;      /* power of two, or 0 before the first insert */
} gvb_calib_acct;

void gvb_calib_acct_init(gvb_calib_acct *a, uint64_t cap);
void gvb_calib_acct_free(gvb_calib_acct *a);
/* The context charge: total - free as the driver reported it at the first memory call. */
void gvb_calib_acct_set_charge(gvb_calib_acct *a, uint64_t total, uint64_t free_bytes);
/* Reserves size bytes before the real allocation. Returns 0, or -1 if usage + size would
 * exceed the cap (the caller answers out of memory). */
int gvb_calib_acct_reserve(gvb_calib_acct *a, uint64_t size);
/* Gives back a reservation whose real allocation failed. */
void gvb_calib_acct_unreserve(gvb_calib_acct *a, uint64_t size);
/* Records a successful allocation (its size already reserved). Returns 0, or -1 if the table
 * could not grow (the reservation is then given back). */
int gvb_calib_acct_track(gvb_calib_acct *a, uint64_t ptr, uint64_t size);
/* Forgets ptr and returns its size to the budget; returns that size, 0 if ptr is unknown. */
uint64_t gvb_calib_acct_release(gvb_calib_acct *a, uint64_t ptr);
/* What cuMemGetInfo reports under the cap: total = cap, free = cap - usage (>= 0). */
void gvb_calib_acct_meminfo(const gvb_calib_acct *a, uint64_t *free_bytes, uint64_t *total);

/* ---- duty cycle: a token bucket in seconds of kernel time ------------------------------ */

/* Tokens accrue at `duty` seconds per wall second (up to `burst_s` of kernel time) and each
 * launch spends its measured busy time; when the bucket is negative the launcher sleeps
 * until it is back at zero. A saturating launcher therefore keeps busy / wall = duty. */
typedef struct gvb_calib_duty {
    double frac;    /* duty / 100 */
    double burst_s; /* bucket capacity in seconds of kernel time */
    double tokens;
    double last;    /* wall time of the last update; < 0 before the first */
} gvb_calib_duty;

#define GVB_CALIB_DUTY_WINDOW_S 0.1 /* burst capacity = window x duty */

void gvb_calib_duty_init(gvb_calib_duty *d, int duty_pct, double window_s);
/* A launch that kept the GPU busy for busy_s ended at wall time now: refill for the wall time
 * since the last update, spend busy_s. Returns the seconds to sleep now (0 if none). */
double gvb_calib_duty_spend(gvb_calib_duty *d, double now, double busy_s);

#endif
