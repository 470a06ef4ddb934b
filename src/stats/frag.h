/* The seeded allocation pattern of the fragmentation metrics and their formulas. Pure C: the
 * pattern is a plan (a list of alloc/free operations on numbered slots) made from a seed and
 * the tenant's usable bytes; src/metrics/fragmentation.c carries it out with cudaMalloc/cudaFree.
 *
 * The pattern (documented in docs/metrics/fragmentation.md):
 *   1. fill: GVB_FRAG_BLOCKS blocks whose sizes are log-uniform over a 1:GVB_FRAG_SPAN range,
 *      scaled so that together they take GVB_FRAG_FILL of the usable bytes (multiples of 4 KiB);
 *   2. GVB_FRAG_ROUNDS times: free each live block with probability 1/2 (in slot order); between
 *      rounds, refill with new blocks of the same size distribution until the next one would
 *      take the held bytes past GVB_FRAG_FILL of usable (at most GVB_FRAG_BLOCKS per refill).
 * It ends after the last free, holding about half of what it filled, in holes of every size. */
#ifndef GVB_FRAG_H
#define GVB_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define GVB_FRAG_BLOCKS 256
#define GVB_FRAG_ROUNDS 3
#define GVB_FRAG_FILL 0.90
#define GVB_FRAG_SPAN 1024.0
#define GVB_FRAG_GRAIN 4096u

typedef struct gvb_frag_op {
    uint32_t slot;
    uint32_t alloc; /* 1: allocate `bytes` into slot; 0: free slot */
    uint64_t bytes;
} gvb_frag_op;

typedef struct gvb_frag_plan {
    gvb_frag_op *ops;
    size_t n_ops;
    size_t n_slots;    /* slots are 0 .. n_slots-1 */
    uint64_t peak;     /* most bytes held at once */
    uint64_t held_end; /* bytes the plan leaves allocated */
    size_t live_end;   /* blocks the plan leaves allocated */
} gvb_frag_plan;

/* Makes the plan for `usable` bytes from seed. Returns 0, or -1 (out of memory, usable too
 * small for one block per slot). */
int gvb_frag_plan_make(gvb_frag_plan *p, uint64_t seed, uint64_t usable);
void gvb_frag_plan_free(gvb_frag_plan *p);

/* The largest size, a multiple of step and at most hi, for which probe(ctx, bytes) returns 1
 * (0: too large; -1: an error, which ends the search with the best size found so far). The
 * answer is usually just below hi, and a probe that succeeds with many GiB is the expensive
 * kind on a GPU (the driver scrubs what it hands out), so the search starts at the top and
 * steps down with doubling steps until a probe succeeds, then bisects the last gap: 2-3
 * probes when hi is right, about 2 log2(gap / step) when it is far off. */
uint64_t gvb_largest_search(uint64_t hi, uint64_t step, int (*probe)(void *ctx, uint64_t bytes),
                            void *ctx);

/* FRAG-001: (1 - largest allocatable block / total free) x 100, clamped to [0, 100];
 * NAN when total_free <= 0. */
double gvb_frag_index(double largest, double total_free);
/* 100 x part / whole; NAN when whole <= 0 (FRAG-003, ERR-003). */
double gvb_percent(double part, double whole);

#endif
