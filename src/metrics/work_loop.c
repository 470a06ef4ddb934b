/* The isolation metrics' work loop: see work_loop.h. */
#include "metrics/work_loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/cuda_check.h"
#include "kernels/kernels.h"
#include "stats/formulas.h"

double kernel_tflop(int blocks, int iters)
{
    return (double)blocks * GVB_WORK_THREADS * iters * GVB_WORK_FMA_PER_ITER * 2.0 / 1e12;
}

cudaError_t work_init(work *k, int blocks, int iters)
{
    memset(k, 0, sizeof *k);
    k->blocks = blocks;
    k->iters = iters;
    cudaError_t e = cudaStreamCreateWithFlags(&k->s, cudaStreamNonBlocking);
    if (!e)
        e = cudaMalloc((void **)&k->sink, (size_t)blocks * sizeof(float));
    if (!e)
        e = (cudaError_t)gvb_work_prepare();
    if (!e)
        e = cudaEventCreate(&k->ev0);
    for (int i = 0; i < IN_FLIGHT && !e; i++)
        e = cudaEventCreate(&k->ring[i]);
    return e;
}

void work_free(work *k)
{
    for (size_t i = 0; i < k->cap; i++) {
        cudaEventDestroy(k->es[i]);
        cudaEventDestroy(k->ee[i]);
    }
    free(k->es);
    free(k->ee);
    free(k->start);
    free(k->end);
    k->es = k->ee = NULL;
    k->start = k->end = NULL;
    k->n = k->cap = 0;
}

/* p resized to n elements of size; p itself (and *failed set) when that fails. */
static void *resize(void *p, size_t n, size_t size, int *failed)
{
    void *q = realloc(p, n * size);
    *failed |= !q;
    return q ? q : p;
}

/* Room for twice the kernels' events and intervals. */
static cudaError_t work_grow(work *k)
{
    size_t cap = k->cap ? k->cap * 2 : 512;
    int failed = 0;
    k->es = resize(k->es, cap, sizeof *k->es, &failed);
    k->ee = resize(k->ee, cap, sizeof *k->ee, &failed);
    k->start = resize(k->start, cap, sizeof *k->start, &failed);
    k->end = resize(k->end, cap, sizeof *k->end, &failed);
    if (failed)
        return cudaErrorMemoryAllocation;
    for (size_t i = k->cap; i < cap; i++) {
        cudaError_t e = cudaEventCreate(&k->es[i]);
        if (!e)
            e = cudaEventCreate(&k->ee[i]);
        if (e)
            return e;
        k->cap = i + 1;
    }
    return cudaSuccess;
}

/* Launches work kernels until duration_s of host time has passed or stop is raised.
 * depth > 0: an unsynchronized producer with at most `depth` kernels queued; depth == 0: a
 * launch+synchronize loop. record: keep each kernel's events (aggressors do not). */
cudaError_t work_run(work *k, int depth, double duration_s, gvb_shared *stop, int record)
{
    cudaError_t e;
    k->n = k->launched = 0;
    k->host_t0 = gvb_now();
    double polled = k->host_t0;
    if ((e = cudaEventRecord(k->ev0, k->s)))
        return e;
    for (size_t i = 0;; i++) {
        if (gvb_now() - k->host_t0 >= duration_s || gvb_shared_stopped(stop))
            break;
        if (depth > 0 && i >= (size_t)depth && (e = cudaEventSynchronize(k->ring[i % depth])))
            return e;
        /* kernels 0 .. i - depth are complete: ring[i % depth] followed kernel i - depth */
        if (k->poll && record && depth > 0 && i >= (size_t)depth &&
            gvb_now() - polled >= k->poll_s) {
            polled = gvb_now();
            if (k->poll(k, i - (size_t)depth + 1, k->poll_arg))
                break;
        }
        if (record && k->n == k->cap && (e = work_grow(k)))
            return e;
        if (record && (e = cudaEventRecord(k->es[k->n], k->s)))
            return e;
        if ((e = (cudaError_t)gvb_launch_work(k->s, k->sink, k->blocks, k->iters)))
            return e;
        k->launched++;
        if (record && (e = cudaEventRecord(k->ee[k->n], k->s)))
            return e;
        if (record)
            k->n++;
        if (depth > 0 && (e = cudaEventRecord(k->ring[i % depth], k->s)))
            return e;
        if (depth == 0 && (e = cudaStreamSynchronize(k->s)))
            return e;
    }
    return cudaStreamSynchronize(k->s);
}

/* Recorded kernels from .. to-1 (their events complete): each one's interval on the GPU, in
 * seconds from ev0, into k->start / k->end. */
cudaError_t work_collect_range(work *k, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        float a, b;
        cudaError_t e = cudaEventElapsedTime(&a, k->ev0, k->es[i]);
        if (!e)
            e = cudaEventElapsedTime(&b, k->ev0, k->ee[i]);
        if (e)
            return e;
        k->start[i] = a * 1e-3;
        k->end[i] = b * 1e-3;
    }
    return cudaSuccess;
}

/* Each recorded kernel's interval on the GPU, in seconds from ev0. */
cudaError_t work_collect(work *k)
{
    return work_collect_range(k, 0, k->n);
}

/* Achieved share of the whole recorded run: the kernels' unconstrained time over the time
 * from the first launch to the last kernel's end. */
double work_share(const work *k, double ref_s)
{
    return k->n ? gvb_achieved_share((double)k->n, ref_s, k->end[k->n - 1]) : NAN;
}

/* Window shares of the first n collected kernels of a run into a new array (*n_win windows
 * of win_s, up to the n-th kernel's end: later kernels start after it). */
double *kernel_windows(const work *k, size_t n, double ref_s, double win_s, size_t *n_win)
{
    *n_win = n ? (size_t)floor(k->end[n - 1] / win_s) : 0;
    double *sh = calloc(*n_win + 1, sizeof *sh);
    if (sh)
        gvb_window_shares(k->start, k->end, n, ref_s, win_s, sh, *n_win);
    return sh;
}

/* Window shares of a whole recorded run. */
double *work_windows(const work *k, double ref_s, double win_s, size_t *n_win)
{
    return kernel_windows(k, k->n, ref_s, win_s, n_win);
}
