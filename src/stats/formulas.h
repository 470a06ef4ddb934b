/* Derived numbers of the overhead and isolation metrics, one small pure function each (after
 * nccl-tests' getBw): shares, accuracies, slowdowns, slopes, windowed time series. Methods
 * in docs/metrics/overhead.md and docs/metrics/isolation.md. Pure C: no I/O, no globals. */
#ifndef GVB_FORMULAS_H
#define GVB_FORMULAS_H

#include <stddef.h>

/* Limit accuracy (IS-003): 100 x (1 - |achieved - target| / target), clamped at 0.
 * Percent in, percent out; NAN when target <= 0 or an input is not finite. */
double gvb_share_accuracy(double achieved_pct, double target_pct);

/* Achieved share of the GPU in percent: `units` kernels that each take ref_s seconds on the
 * whole, unconstrained GPU, completed in elapsed_s. NAN when elapsed_s <= 0. */
double gvb_achieved_share(double units, double ref_s, double elapsed_s);

/* Relative change (after - before) / before x 100 (IS-009 slowdown, OH-006 contention).
 * NAN when before == 0. */
double gvb_pct_change(double before, double after);

/* Throughput degradation (native - system) / native x 100 (OH-010). NAN when native <= 0. */
double gvb_degradation_pct(double native, double system);

/* Ordinary least-squares slope of y over x (OH-007). NAN when n < 2 or all x are equal. */
double gvb_ls_slope(const double *x, const double *y, size_t n);

/* CPU time as percent of one core over a wall interval (OH-009). NAN when wall_s <= 0. */
double gvb_cpu_pct(double cpu_s, double wall_s);

/* FP32 FMA peak in TFLOP/s (2 FLOP per FMA) from SM count, compute capability and SM clock
 * in kHz, with the FP32 lanes per SM of NVIDIA's architecture tables (64 for 6.0, 7.x and
 * 8.0, else 128). NAN for unknown (< 6.0) architectures or a clock of 0. */
double gvb_fp32_peak_tflops(int sm_count, int cc_major, int cc_minor, double clock_khz);

/* Time series of achieved share in fixed windows (IS-003, IS-004, IS-008). Kernel i ran on
 * the GPU from start[i] to end[i] (seconds from t0) and does ref_s seconds of work on the
 * whole GPU; its work is spread evenly over its interval, so share[k] = sum over kernels of
 * ref_s x overlap(kernel, window k) / (end - start), divided by win_s, x 100. Windows are
 * [k win_s, (k+1) win_s), k = 0..n_win-1. Kernels with end <= start count fully at their end. */
void gvb_window_shares(const double *start, const double *end, size_t n, double ref_s,
                       double win_s, double *share, size_t n_win);

/* Index of the first window from which every later window is within target x (1 +- tol)
 * (tol relative, 0.10 for +-10 %). Returns n when the last window is out of band (or n == 0). */
size_t gvb_settle_index(const double *share, size_t n, double target, double tol);

/* Largest excursion above target in percentage points, >= 0 (IS-004 overshoot). */
double gvb_overshoot_pp(const double *share, size_t n, double target);

/* Oscillation amplitude: half the spread between the 95th and 5th percentiles of the
 * windows, in percentage points (robust to a single outlier window). NAN for n == 0. */
double gvb_oscillation_pp(const double *share, size_t n);

#endif
