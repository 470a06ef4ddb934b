/* Pure formulas of the bandwidth, cache, PCIe and scheduling metrics (BW, CACHE, PCIE, SCHED):
 * every derived number those metrics report is one of these small tested functions (after
 * nccl-tests' getBw). No I/O, no CUDA, no globals. Methods: docs/metrics/{bandwidth,cache,
 * pcie,scheduling}.md. */
#ifndef GVB_BWFORMULAS_H
#define GVB_BWFORMULAS_H

#include <stddef.h>
#include <stdint.h>

/* Bandwidth in GB/s (1e9 bytes per second) of `bytes` moved in `seconds`; NAN if seconds <= 0. */
double gvb_gbs(double bytes, double seconds);

/* part / whole x 100; NAN if whole is 0 or either is not finite. */
double gvb_pct_of(double part, double whole);
/* Share kept under contention: contended / solo x 100 (BW-001). */
double gvb_retained_pct(double solo, double contended);
/* Drop under contention: (solo - contended) / solo x 100 (BW-004, CACHE-003, PCIE-003).
 * For latencies (lower is better) pass them swapped to get the increase:
 * gvb_increase_pct(solo, contended) = (contended - solo) / solo x 100 (CACHE-004). */
double gvb_drop_pct(double solo, double contended);
double gvb_increase_pct(double solo, double contended);

/* PCIe: transfer rate of one lane in GT/s for generation 1..6 (0 if unknown), and the
 * encoding efficiency (8b/10b for Gen1-2, 128b/130b for Gen3-5, 242/256 FLIT for Gen6). */
double gvb_pcie_lane_gts(unsigned gen);
double gvb_pcie_encoding(unsigned gen);
/* Theoretical data rate of a link per direction in GB/s: GT/s x width x encoding / 8
 * (Gen5 x16: 32 x 16 x 128/130 / 8 = 63.0 GB/s). 0 if the generation is unknown or width 0. */
double gvb_pcie_link_gbs(unsigned gen, unsigned width);

/* BW-003: the smallest k (1-based) whose aggregate agg[k-1] reaches frac x max(agg), i.e.
 * the number of tenants needed to get within (1 - frac) of the best aggregate. 0 if n == 0
 * or no aggregate is positive and finite. */
int gvb_saturation_point(const double *agg, size_t n, double frac);

/* CACHE latency proxy: the share of loads that hit in L2, from a measured mean load latency
 * and the calibrated all-hit and all-miss latencies, by linear interpolation:
 * (miss - lat) / (miss - hit), clamped to [0, 1]. NAN if miss <= hit or an input is not finite. */
double gvb_hit_fraction(double lat, double lat_hit, double lat_miss);
/* Whether the proxy can read a hit rate from contended latencies at all: no when their median
 * is slower than an all-miss load alone (queueing or a shared SM, not misses, then sets the
 * latency, and the clamped 0 % would stand for "unknown"). */
int gvb_hit_proxy_readable(double lat_contended_median, double lat_miss);

/* Largest power of two <= x (0 for x == 0). */
uint64_t gvb_pow2_floor(uint64_t x);

/* SCHED-001: busy periods of one tenant from its sorted progress timestamps (ns): a new
 * period starts wherever two consecutive timestamps are more than split_ns apart. Writes at
 * most cap (start, end) pairs into starts/ends and returns the number of periods (which may
 * exceed cap: only the first cap are written). */
size_t gvb_busy_periods(const uint64_t *t, size_t n, uint64_t split_ns, double *starts,
                        double *ends, size_t cap);

/* One busy period of one tenant on the GPU's timeline (ns). */
typedef struct gvb_period {
    double start, end;
    int tenant;
} gvb_period;

/* SCHED-001: hand-over gaps between tenants. p is sorted here by start. A period q of tenant
 * X is a hand-over from tenant Y when Y's latest-ending period p so far ended at or before q
 * starts and X was not active since p started (X's previous period ended by p.start); the
 * gap is q.start - p.end. A q that starts while another tenant's period is still open, or
 * right after one it overlapped, is counted in *concurrent (the tenants ran side by side: no
 * switch to time). A q whose own tenant was the last one active is a continuation and is not
 * counted. Writes up to cap gaps (ns) and returns how many hand-overs there were.
 * n_tenants: tenant ids are 0..n_tenants-1 (at most 64). */
size_t gvb_handover_gaps(gvb_period *p, size_t n, int n_tenants, double *gaps, size_t cap,
                         size_t *concurrent);

/* SCHED-003: concurrent speedup of k equal kernels (serial time / concurrent time) over k,
 * in %: 100 means the k kernels ran fully side by side. NAN for bad input. */
double gvb_concurrency_efficiency_pct(double serial_s, double concurrent_s, int k);

#endif
