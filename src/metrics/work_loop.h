/* The isolation metrics' work loop (IS-003, IS-004, IS-006..IS-009): kernels of fixed
 * arithmetic (src/kernels/isolation.cu), each bracketed by CUDA events, launched by an
 * unsynchronized producer or a launch+sync loop, and the achieved share of a recorded run
 * against an unconstrained kernel time. */
#ifndef GVB_WORK_LOOP_H
#define GVB_WORK_LOOP_H

#include <stddef.h>

#include <cuda_runtime.h>

#include "metrics/metric_util.h"

/* Kernel shapes (times measured on the H100 80GB, native). BIG: 65536 blocks (62 waves of
 * the whole GPU at 8 blocks per SM, so a spatial share of s SMs is not quantized by the last
 * wave), 0.62 ms. MEDIUM: an 8-wave request-like victim kernel, 0.09 ms launch+sync. SMALL: a
 * latency-sensitive victim kernel, 11 us launch+sync. */
#define BIG_BLOCKS 65536
#define BIG_ITERS 256
#define MEDIUM_BLOCKS 8192
#define MEDIUM_ITERS 256
#define SMALL_BLOCKS 128
#define SMALL_ITERS 64
#define IN_FLIGHT 8 /* kernels an unsynchronized producer keeps queued (~16 ms of work) */

/* ---- the work loop: kernels of fixed arithmetic, each bracketed by events ---------------- */

typedef struct work {
    cudaStream_t s;
    float *sink;
    int blocks, iters;
    cudaEvent_t ev0;                /* recorded just before the first launch: t = 0 */
    cudaEvent_t ring[IN_FLIGHT];    /* in-flight bound */
    cudaEvent_t *es, *ee;           /* per kernel, before and after (when recording) */
    size_t n, cap;
    size_t launched;                /* kernels launched by the last work_run */
    double *start, *end;            /* seconds from ev0, after work_collect() */
    double host_t0;                 /* monotonic time of the first launch */
    /* Optional, for a recording producer (depth > 0): called about every poll_s with the
     * number of recorded kernels known to be complete; non-zero ends the run early. */
    int (*poll)(struct work *k, size_t done, void *arg);
    void *poll_arg;
    double poll_s;
} work;

/* TFLOP of one work kernel of blocks x GVB_WORK_THREADS threads and iters iterations. */
double kernel_tflop(int blocks, int iters);
cudaError_t work_init(work *k, int blocks, int iters);
void work_free(work *k);
/* Launches work kernels until duration_s of host time has passed or stop is raised.
 * depth > 0: an unsynchronized producer with at most `depth` kernels queued; depth == 0: a
 * launch+synchronize loop. record: keep each kernel's events (aggressors do not). */
cudaError_t work_run(work *k, int depth, double duration_s, gvb_shared *stop, int record);
/* Recorded kernels from .. to-1 (their events complete): each one's interval on the GPU, in
 * seconds from ev0, into k->start / k->end. */
cudaError_t work_collect_range(work *k, size_t from, size_t to);
/* Each recorded kernel's interval on the GPU, in seconds from ev0. */
cudaError_t work_collect(work *k);
/* Achieved share of the whole recorded run: the kernels' unconstrained time over the time
 * from the first launch to the last kernel's end. */
double work_share(const work *k, double ref_s);
/* Window shares of the first n collected kernels of a run into a new array (*n_win windows
 * of win_s, up to the n-th kernel's end: later kernels start after it). */
double *kernel_windows(const work *k, size_t n, double ref_s, double win_s, size_t *n_win);
/* Window shares of a whole recorded run. */
double *work_windows(const work *k, double ref_s, double win_s, size_t *n_win);

#endif
