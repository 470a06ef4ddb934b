/* Overhead metrics (OH-xxx): what a sharing layer costs one tenant. Methods in
 * docs/metrics/overhead.md. */
#include <math.h>
#include <stdio.h>

#include "gpu/cuda_check.h"
#include "kernels/kernels.h"

/* ---- OH-001 Kernel Launch Latency ------------------------------------------------------ */

typedef struct launch_ctx {
    cudaStream_t stream;
    cudaError_t err;
} launch_ctx;

/* Launch + stream sync, timed whole by the loop. */
static int launch_sync_body(void *arg, double *sample_s)
{
    launch_ctx *c = arg;
    (void)sample_s;
    int e = gvb_launch_empty(c->stream);
    if (e == 0)
        e = (int)cudaStreamSynchronize(c->stream);
    c->err = (cudaError_t)e;
    return e;
}

/* Enqueue only: the launch call is timed; the sync that follows is not, so every sample
 * starts from an idle stream. */
static int launch_enqueue_body(void *arg, double *sample_s)
{
    launch_ctx *c = arg;
    double t0 = gvb_now();
    int e = gvb_launch_empty(c->stream);
    *sample_s = gvb_now() - t0;
    if (e == 0)
        e = (int)cudaStreamSynchronize(c->stream);
    c->err = (cudaError_t)e;
    return e;
}

static int oh_001(gvb_worker *w)
{
    launch_ctx c = {0};
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    /* the first launch loads the module: keep it out of the warm-up count */
    GVB_CUDA_TRY(w, (cudaError_t)gvb_launch_empty(c.stream));
    GVB_CUDA_TRY(w, cudaStreamSynchronize(c.stream));
    if (gvb_measure(w, NULL, 1e6, launch_sync_body, &c) != 0)
        return gvb_report_status(w, GVB_FAIL, "launch+sync: %s", cudaGetErrorString(c.err));
    if (gvb_measure(w, "enqueue_us", 1e6, launch_enqueue_body, &c) != 0)
        return gvb_report_status(w, GVB_FAIL, "enqueue: %s", cudaGetErrorString(c.err));
    gvb_emit_text(w, "kernel", "empty kernel <<<1,1>>> on a non-blocking stream");
    cudaStreamDestroy(c.stream);
    return 0;
}
const gvb_metric_impl gvb_impl_oh_001 = {.run = oh_001, .deadline_s = 120};

/* ---- OH-002 Memory Allocation Latency -------------------------------------------------- */

typedef struct alloc_ctx {
    size_t bytes;
    cudaError_t err;
} alloc_ctx;

/* cudaMalloc timed; the cudaFree that returns the memory is not. */
static int alloc_body(void *arg, double *sample_s)
{
    alloc_ctx *c = arg;
    void *p = NULL;
    double t0 = gvb_now();
    c->err = cudaMalloc(&p, c->bytes);
    *sample_s = gvb_now() - t0;
    if (c->err != cudaSuccess)
        return 1;
    c->err = cudaFree(p);
    return c->err != cudaSuccess;
}

static const struct {
    size_t bytes;
    const char *series; /* NULL: the primary size */
} alloc_sizes[] = {
    {4ull << 10, "alloc_4KiB_us"},
    {2ull << 20, "alloc_2MiB_us"},
    {64ull << 20, NULL},
    {1ull << 30, "alloc_1GiB_us"},
};

static int oh_002(gvb_worker *w)
{
    GVB_CUDA_TRY(w, cudaSetDevice(0));
    GVB_CUDA_TRY(w, cudaFree(0)); /* create the context before timing */
    size_t free_b = 0, total_b = 0;
    GVB_CUDA_TRY(w, cudaMemGetInfo(&free_b, &total_b));
    for (size_t i = 0; i < sizeof alloc_sizes / sizeof alloc_sizes[0]; i++) {
        alloc_ctx c = {.bytes = alloc_sizes[i].bytes};
        const char *series = alloc_sizes[i].series;
        if (c.bytes * 2 > free_b) {
            /* the primary size must fit; an extra size that cannot is recorded as such */
            if (!series)
                return gvb_report_status(w, GVB_SKIP, "64 MiB allocations do not fit: %zu MiB free",
                                         free_b >> 20);
            gvb_emit_text(w, series, "not measured: %zu MiB free", free_b >> 20);
            continue;
        }
        if (gvb_measure(w, series, 1e6, alloc_body, &c) != 0)
            return gvb_report_status(w, GVB_FAIL, "cudaMalloc(%zu): %s", c.bytes,
                                     cudaGetErrorString(c.err));
    }
    gvb_emit_extra(w, "primary_bytes", (double)(64ull << 20));
    return 0;
}
const gvb_metric_impl gvb_impl_oh_002 = {.run = oh_002, .deadline_s = 180};
